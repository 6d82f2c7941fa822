package aliyun

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
	"github.com/joinhintd/joinhintd/daemon"
)

// TestRPCSignatureDocExample reproduces the worked example of the "Request
// signatures" document (AK testid, secret testsecret, DescribeRegions by GET).
func TestRPCSignatureDocExample(t *testing.T) {
	p := url.Values{
		"Timestamp":        {"2016-02-23T12:46:24Z"},
		"Format":           {"XML"},
		"AccessKeyId":      {"testid"},
		"Action":           {"DescribeRegions"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"Version":          {"2014-05-26"},
		"SignatureVersion": {"1.0"},
		"Signature":        {"ignored"},
	}
	if got := rpcSignature("GET", p, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Errorf("signature %s, want OLeaidS1JvxuMvnyHOwuJ+uX5qY=", got)
	}
	for in, want := range map[string]string{"a b": "a%20b", "*": "%2A", "~-_.": "~-_.", "é/": "%C3%A9%2F"} {
		if got := rfc3986(in); got != want {
			t.Errorf("rfc3986(%q) = %q, want %q", in, got, want)
		}
	}
}

// cannedSTS answers every request with status and body, and keeps the last
// request's form.
func cannedSTS(t *testing.T, status int, body string) (*stsClient, *url.Values) {
	t.Helper()
	var got url.Values
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, _ = url.ParseQuery(string(b))
		if r.URL.RawQuery != "" || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("%s %s, Content-Type %q: want a POST form without a query", r.Method, r.URL, r.Header.Get("Content-Type"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return newSTSClient("http", strings.TrimPrefix(s.URL, "http://"), time.Now), &got
}

var stsSigner = &credentials.Credentials{AccessKeyId: "STS.src", AccessKeySecret: "src-secret-0015", SecurityToken: "src-token-0015"}

func TestSTSClientAnswers(t *testing.T) {
	const ok = `{"RequestId":"R1","AssumedRoleUser":{"Arn":"a","AssumedRoleId":"b"},"Credentials":{"AccessKeyId":"STS.new","AccessKeySecret":"new-secret-0016","SecurityToken":"new-token-0016","Expiration":"2030-01-02T03:04:05Z"}}`
	for _, tc := range []struct {
		name       string
		status     int
		body       string
		wantCode   string
		wantReason daemon.Reason
		wantMsg    string
	}{
		{"success", 200, ok, "", "", ""},
		{"error with echo", 400, `{"RequestId":"R2","Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:POST&%2F&SecurityToken%3Dsrc-token-0015"}`,
			"SignatureDoesNotMatch", daemon.ReasonAuth, "Specified signature is not matched with our calculation."},
		{"no permission", 403, `{"RequestId":"R3","Code":"NoPermission","Message":"You are not authorized to do this action."}`, "NoPermission", daemon.ReasonAuth, "not authorized"},
		{"unknown role", 404, `{"RequestId":"R4","Code":"EntityNotExist.Role","Message":"The specified Role not exists ."}`, "EntityNotExist.Role", daemon.ReasonAuth, "Role not exists"},
		{"throttled", 400, `{"Code":"Throttling.User","Message":"Request was denied due to user flow control."}`, "Throttling.User", daemon.ReasonThrottled, "flow control"},
		{"HTML error page", 502, `<html>Bad Gateway</html>`, codeDecode, daemon.ReasonServer, "answer without an STS error code"},
		{"200 not JSON", 200, `<html>portal</html>`, codeDecode, daemon.ReasonServer, "not the JSON AssumeRole returns"},
		{"200 without credentials", 200, `{"RequestId":"R5"}`, codeDecode, daemon.ReasonServer, "no Credentials.AccessKeyId, Credentials.AccessKeySecret, Credentials.SecurityToken, Credentials.Expiration"},
		{"200 without Expiration", 200, `{"Credentials":{"AccessKeyId":"STS.new","AccessKeySecret":"new-secret-0016","SecurityToken":"new-token-0016"}}`,
			codeDecode, daemon.ReasonServer, "no Credentials.Expiration"},
		{"200 bad Expiration", 200, strings.Replace(ok, "2030-01-02T03:04:05Z", "soon", 1), codeDecode, daemon.ReasonServer, "Expiration is not a time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, form := cannedSTS(t, tc.status, tc.body)
			got, err := c.assumeRole(t.Context(), stsSigner, testRoleArn, "joinhintd")
			if got := form.Get("SecurityToken"); got != stsSigner.SecurityToken || form.Get("Signature") == "" || form.Get("Version") != stsVersion {
				t.Errorf("request form %v", form)
			}
			if tc.wantCode == "" {
				if err != nil || got.AccessKeyID != "STS.new" || got.SecurityToken != "new-token-0016" ||
					!got.Expiration.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
					t.Fatalf("got %+v, %v", got, err)
				}
				return
			}
			var se *STSError
			if !errors.As(err, &se) || se.Code != tc.wantCode || se.Reason() != tc.wantReason || !strings.Contains(se.Message, tc.wantMsg) {
				t.Fatalf("err %#v, want %s/%s %q", err, tc.wantCode, tc.wantReason, tc.wantMsg)
			}
			for _, s := range []string{"src-secret-0015", "src-token-0015", "new-secret-0016", "new-token-0016"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q holds a secret", err)
				}
			}
		})
	}
}

func TestSTSClientTransportError(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(s.URL, "http://")
	s.Close()
	_, err := newSTSClient("http", host, time.Now).assumeRoleWithOIDC(t.Context(), testOIDCProvider, testOIDCRoleArn, "oidc-token-0017", "joinhintd")
	var se *STSError
	if !errors.As(err, &se) || se.Code != codeTransport || se.Reason() != daemon.ReasonNetwork || se.Action != actionAssumeRoleWithOIDC {
		t.Fatalf("err %#v", err)
	}
	if strings.Contains(err.Error(), "oidc-token-0017") {
		t.Errorf("error %q holds the OIDC token", err)
	}
}

// TestAssumeRoleRefresh: the assumed credential is cached and replaced near
// its Expiration with a new AssumeRole.
func TestAssumeRoleRefresh(t *testing.T) {
	isolate(t)
	clk := newFakeClock()
	f := newCredFixture(t, clk)
	n := 0
	f.api.AddRole(testRoleArn, func() ecstest.Credential {
		n++
		c := credAssumed
		c.AccessKeyID = credAssumed.AccessKeyID + string(rune('0'+n))
		c.Expires = clk.Now().Add(15 * time.Minute)
		return c
	})
	o := f.options(t, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": credEnv.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": credEnv.AccessKeySecret, "ALIBABA_CLOUD_ROLE_ARN": testRoleArn})
	o.Now = clk.Now
	p, source, err := NewCredentialsProvider(o)
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		advance time.Duration
		want    string
	}{{0, "STS.assumed1"}, {5 * time.Minute, "STS.assumed1"}, {7 * time.Minute, "STS.assumed2"}, {time.Minute, "STS.assumed2"}} {
		clk.Advance(step.advance)
		if _, err := f.discover(t, p, source); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := f.lastSigner(t); got != step.want {
			t.Fatalf("step %d: signed by %s, want %s", i, got, step.want)
		}
	}
	if c := f.calls(ecstest.ActionAssumeRole); len(c) != 2 {
		t.Errorf("%d AssumeRole calls, want 2", len(c))
	}
}

// TestOIDCRereadsTokenFile: every refresh reads the token file again, so a
// token rotated in place is used.
func TestOIDCRereadsTokenFile(t *testing.T) {
	isolate(t)
	clk := newFakeClock()
	f := newCredFixture(t, clk)
	f.api.AddRole(testOIDCRoleArn, func() ecstest.Credential {
		c := credOIDC
		c.Expires = clk.Now().Add(10 * time.Minute)
		return c
	})
	path := writeFile(t, filepath.Join(f.dir, "token"), "jwt-one")
	f.api.AddOIDCProvider(testOIDCProvider, "jwt-one")
	o := f.options(t, map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testOIDCRoleArn,
		"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": testOIDCProvider, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": path})
	o.Now = clk.Now
	p, source, err := NewCredentialsProvider(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.discover(t, p, source); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "jwt-two")
	f.api.AddOIDCProvider(testOIDCProvider, "jwt-two")
	clk.Advance(11 * time.Minute)
	if _, err := f.discover(t, p, source); err != nil {
		t.Fatalf("after the token rotated: %v", err)
	}
	c := f.calls(ecstest.ActionAssumeRoleWithOIDC)
	if len(c) != 2 || c[1].Params.Get("OIDCToken") != "jwt-two" || c[1].Code != "Success" {
		t.Fatalf("AssumeRoleWithOIDC calls %+v", c)
	}
	writeFile(t, path, "  \n")
	clk.Advance(11 * time.Minute)
	if _, err := f.discover(t, p, source); err == nil || !strings.Contains(err.Error(), ": empty") {
		t.Fatalf("empty token file: %v", err)
	}
}
