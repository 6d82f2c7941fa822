package ecstest

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
)

const testRoleArn = "acs:ram::1234567890123456:role/vault-discovery"

// stsParams returns the parameters of an STS call at now; signed ones carry
// the default credential's common parameters.
func stsParams(now time.Time, action, nonce string, signed bool) url.Values {
	p := url.Values{
		"Action":          {action},
		"Version":         {STSVersion},
		"Format":          {"JSON"},
		"Timestamp":       {now.UTC().Format(timestampLayout)},
		"RoleArn":         {testRoleArn},
		"RoleSessionName": {"joinhintd"},
	}
	if signed {
		p.Set("AccessKeyId", DefaultAccessKeyID)
		p.Set("SignatureMethod", "HMAC-SHA1")
		p.Set("SignatureVersion", "1.0")
		p.Set("SignatureNonce", nonce)
	}
	return p
}

func stsCode(r rawResult) string {
	if c, ok := r.body["Code"].(string); ok {
		return c
	}
	if _, ok := r.body["Credentials"]; ok {
		return "Success"
	}
	return "no code in " + r.raw
}

// issued reads the credential of a successful answer.
func issued(t *testing.T, r rawResult) Credential {
	t.Helper()
	c, ok := r.body["Credentials"].(map[string]any)
	if !ok {
		t.Fatalf("no Credentials in %s", r.raw)
	}
	exp, err := time.Parse(timestampLayout, c["Expiration"].(string))
	if err != nil {
		t.Fatalf("Expiration: %v", err)
	}
	return Credential{AccessKeyID: c["AccessKeyId"].(string), AccessKeySecret: c["AccessKeySecret"].(string), SecurityToken: c["SecurityToken"].(string), Expires: exp}
}

func TestAssumeRoleIssuesCredentialDescribeInstancesAccepts(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(3)))
	s.AddRole(testRoleArn, nil)
	now := time.Now()
	r := rawDo(t, s, "POST", stsParams(now, ActionAssumeRole, "sts-1", true), DefaultAccessKeySecret, true, true)
	if r.status != http.StatusOK || stsCode(r) != "Success" {
		t.Fatalf("AssumeRole: %d %s", r.status, r.raw)
	}
	if r.body["RequestId"] == "" || r.body["AssumedRoleUser"].(map[string]any)["Arn"] != testRoleArn+"/joinhintd" {
		t.Errorf("answer %s", r.raw)
	}
	c := issued(t, r)
	if d := c.Expires.Sub(now); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("Expiration in %s, want 3600 s", d)
	}
	cl := newClient(t, s, credentials.NewStsTokenCredential(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken))
	resp, err := describe(cl, nil)
	if err != nil || len(resp.Instances.Instance) != 3 {
		t.Fatalf("DescribeInstances with the role credential: %v", err)
	}
	// Without its token the issued key is refused like any STS key.
	cl = newClient(t, s, credentials.NewAccessKeyCredential(c.AccessKeyID, c.AccessKeySecret))
	_, err = describe(cl, nil)
	wantCode(t, err, "MissingSecurityToken", 400)

	calls := s.Calls()
	if calls[0].Action != ActionAssumeRole || calls[0].Code != "Success" || calls[1].Action != ActionDescribeInstances {
		t.Errorf("calls %+v", calls)
	}
}

func TestAssumeRoleIssuerAndChaining(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(1)))
	exp := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	s.AddRole(testRoleArn, func() Credential {
		return Credential{AccessKeyID: "STS.fixed", AccessKeySecret: "fixed-secret", SecurityToken: "fixed-token", Expires: exp}
	})
	r := rawDo(t, s, "POST", stsParams(time.Now(), ActionAssumeRole, "chain-1", true), DefaultAccessKeySecret, true, true)
	c := issued(t, r)
	if c.AccessKeyID != "STS.fixed" || c.SecurityToken != "fixed-token" || !c.Expires.Equal(exp) {
		t.Fatalf("issued %+v", c)
	}
	// An STS credential may assume a role too (role chaining).
	p := stsParams(time.Now(), ActionAssumeRole, "chain-2", true)
	p.Set("AccessKeyId", c.AccessKeyID)
	p.Set("SecurityToken", c.SecurityToken)
	if r := rawDo(t, s, "POST", p, c.AccessKeySecret, true, true); stsCode(r) != "Success" {
		t.Fatalf("chained AssumeRole: %s", r.raw)
	}
}

func TestAssumeRoleErrors(t *testing.T) {
	s := startServer(t)
	s.AddRole(testRoleArn, nil)
	type edit func(url.Values)
	set := func(k, v string) edit { return func(p url.Values) { p.Set(k, v) } }
	del := func(k string) edit { return func(p url.Values) { p.Del(k) } }
	for i, tc := range []struct {
		name   string
		edit   edit
		secret string
		sign   bool
		code   string
		status int
	}{
		{"unsigned", nil, "", false, "MissingSignature", 400},
		{"wrong secret", nil, "other", true, "SignatureDoesNotMatch", 400},
		{"unknown key", set("AccessKeyId", "LTAInobody"), "", true, "InvalidAccessKeyId.NotFound", 404},
		{"unknown role", set("RoleArn", "acs:ram::1:role/nope"), "", true, "EntityNotExist.Role", 404},
		{"no role", del("RoleArn"), "", true, "MissingRoleArn", 400},
		{"no session name", del("RoleSessionName"), "", true, "MissingRoleSessionName", 400},
		{"bad session name", set("RoleSessionName", "a b"), "", true, "InvalidParameter.RoleSessionName", 400},
		{"duration too long", set("DurationSeconds", "7200"), "", true, "InvalidParameter.DurationSeconds", 400},
		{"duration too short", set("DurationSeconds", "60"), "", true, "InvalidParameter.DurationSeconds", 400},
		{"other STS action", set("Action", "GetCallerIdentity"), "", true, "InvalidAction.NotFound", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := stsParams(time.Now(), ActionAssumeRole, fmt.Sprintf("err-%d", i), true)
			if tc.edit != nil {
				tc.edit(p)
			}
			secret := DefaultAccessKeySecret
			if tc.secret != "" {
				secret = tc.secret
			}
			if !tc.sign {
				p.Del("Signature")
			}
			r := rawDo(t, s, "POST", p, secret, tc.sign, true)
			if stsCode(r) != tc.code || r.status != tc.status {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
			if r.body["RequestId"] == "" || r.body["Recommend"] == "" {
				t.Errorf("error body %s", r.raw)
			}
		})
	}
}

func TestAssumeRoleWithOIDC(t *testing.T) {
	const provider = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"
	s := startServer(t, WithInstances(fleetOf(2)))
	s.AddRole(testRoleArn, nil)
	s.AddOIDCProvider(provider, "jwt-1")
	oidc := func(edit func(url.Values)) rawResult {
		p := stsParams(time.Now(), ActionAssumeRoleWithOIDC, "", false)
		p.Set("OIDCProviderArn", provider)
		p.Set("OIDCToken", "jwt-1")
		if edit != nil {
			edit(p)
		}
		return rawDo(t, s, "POST", p, "", false, true)
	}
	r := oidc(nil)
	if stsCode(r) != "Success" || r.body["OIDCTokenInfo"] == nil {
		t.Fatalf("AssumeRoleWithOIDC: %s", r.raw)
	}
	c := issued(t, r)
	resp, err := describe(newClient(t, s, credentials.NewStsTokenCredential(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)), nil)
	if err != nil || len(resp.Instances.Instance) != 2 {
		t.Fatalf("DescribeInstances with the OIDC credential: %v", err)
	}
	for _, tc := range []struct {
		name   string
		edit   func(url.Values)
		code   string
		status int
	}{
		{"wrong token", func(p url.Values) { p.Set("OIDCToken", "jwt-0") }, "AuthenticationFail.OIDCToken.Invalid", 401},
		{"empty token", func(p url.Values) { p.Del("OIDCToken") }, "AuthenticationFail.OIDCToken.Invalid", 401},
		{"unknown provider", func(p url.Values) { p.Set("OIDCProviderArn", provider+"x") }, "AuthenticationFail.NoPermission", 401},
		{"no provider", func(p url.Values) { p.Del("OIDCProviderArn") }, "MissingOIDCProviderArn", 400},
		{"unknown role", func(p url.Values) { p.Set("RoleArn", testRoleArn+"x") }, "EntityNotExist.Role", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := oidc(tc.edit); stsCode(r) != tc.code || r.status != tc.status {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
		})
	}
	t.Run("rotated token", func(t *testing.T) {
		s.AddOIDCProvider(provider, "jwt-2")
		if r := oidc(nil); stsCode(r) != "AuthenticationFail.OIDCToken.Invalid" {
			t.Fatalf("old token after rotation: %s", r.raw)
		}
		if r := oidc(func(p url.Values) { p.Set("OIDCToken", "jwt-2") }); stsCode(r) != "Success" {
			t.Fatalf("new token: %s", r.raw)
		}
	})
}

func TestMetadataRoleDocumentOverride(t *testing.T) {
	md := SampleMetadata("cn-hangzhou")
	md.RoleDocument = `{"Code":"Failed"}`
	md.RoleStatus = http.StatusInternalServerError
	m := startMetadata(t, md)
	req, _ := http.NewRequest("GET", m.URL+credPrefix+md.RoleName, nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || resp.ContentLength != int64(len(md.RoleDocument)) {
		t.Fatalf("status %d length %d", resp.StatusCode, resp.ContentLength)
	}
}
