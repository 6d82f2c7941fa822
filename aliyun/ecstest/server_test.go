package ecstest

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
)

// TestAuthWithSDK drives the credential checks with the real SDK.
func TestAuthWithSDK(t *testing.T) {
	past := time.Now().Add(-time.Minute)
	s := startServer(t,
		WithCredential(Credential{AccessKeyID: DefaultAccessKeyID, AccessKeySecret: DefaultAccessKeySecret}),
		WithCredential(Credential{AccessKeyID: "STS.good", AccessKeySecret: "sts-secret", SecurityToken: "tok-1", Expires: time.Now().Add(time.Hour)}),
		WithCredential(Credential{AccessKeyID: "STS.old", AccessKeySecret: "sts-secret", SecurityToken: "tok-2", Expires: past}),
		WithCredential(Credential{AccessKeyID: "LTAIdisabled", AccessKeySecret: "x", Expires: past}),
		WithInstances(fleetOf(3)),
	)
	for _, tc := range []struct {
		name   string
		cred   auth.Credential
		code   string
		status int
	}{
		{"static key accepted", defaultCred(), "", 0},
		{"wrong secret", credentials.NewAccessKeyCredential(DefaultAccessKeyID, "nope"), "SignatureDoesNotMatch", 400},
		{"unknown key", credentials.NewAccessKeyCredential("LTAIunknown", "x"), "InvalidAccessKeyId.NotFound", 404},
		{"sts accepted", credentials.NewStsTokenCredential("STS.good", "sts-secret", "tok-1"), "", 0},
		{"sts without token", credentials.NewAccessKeyCredential("STS.good", "sts-secret"), "MissingSecurityToken", 400},
		{"sts wrong token", credentials.NewStsTokenCredential("STS.good", "sts-secret", "tok-x"), "InvalidSecurityToken.MismatchWithAccessKey", 400},
		{"sts expired", credentials.NewStsTokenCredential("STS.old", "sts-secret", "tok-2"), "InvalidSecurityToken.Expired", 400},
		{"sts secret wrong", credentials.NewStsTokenCredential("STS.good", "nope", "tok-1"), "SignatureDoesNotMatch", 400},
		{"token with permanent key", credentials.NewStsTokenCredential(DefaultAccessKeyID, DefaultAccessKeySecret, "tok-1"), "InvalidSecurityToken.MismatchWithAccessKey", 400},
		{"permanent key expired", credentials.NewAccessKeyCredential("LTAIdisabled", "x"), "InvalidAccessKeyId.Inactive", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := describe(newClient(t, s, tc.cred), nil)
			wantCode(t, err, tc.code, tc.status)
			if tc.code == "" && len(resp.Instances.Instance) != 3 {
				t.Errorf("got %d instances, want 3", len(resp.Instances.Instance))
			}
		})
	}
	if n := len(s.Calls()); n != 10 {
		t.Errorf("recorded %d calls, want 10", n)
	}
}

// TestWrongSecretStringToSign checks that the fake's "server string to sign"
// equals the SDK's own: the SDK then blames the secret, not itself.
func TestWrongSecretStringToSign(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s, credentials.NewAccessKeyCredential(DefaultAccessKeyID, "wrong"))
	_, err := describe(c, func(r *ecsRequest) {
		r.InstanceName = "a b*c~d+e/é"
		r.QueryParams["X-Unknown-Param"] = "ignored but signed"
	})
	se := serverError(t, err)
	if se.ErrorCode() != "SignatureDoesNotMatch" {
		t.Fatalf("code %s", se.ErrorCode())
	}
	if !strings.Contains(se.Message(), "server string to sign is:POST&%2F&") {
		t.Errorf("message %q lacks the string to sign", se.Message())
	}
	if !strings.HasPrefix(se.Recommend(), "InvalidAccessKeySecret") {
		t.Errorf("SDK recommend %q: the fake's string to sign differs from the SDK's", se.Recommend())
	}
}

func TestTimestampWindowWithSDK(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration
		code   string
	}{
		{"in window", 14 * time.Minute, ""},
		{"server ahead", 16 * time.Minute, "InvalidTimeStamp.Expired"},
		{"server behind", -16 * time.Minute, "InvalidTimeStamp.Expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, WithClock(func() time.Time { return time.Now().Add(tc.offset) }))
			_, err := describe(newClient(t, s, defaultCred()), nil)
			wantCode(t, err, tc.code, 400)
		})
	}
}

// TestProtocolRaw covers what the SDK never sends wrong, with hand-made
// requests signed by the package's own (SDK-checked) signer.
func TestProtocolRaw(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := startServer(t, WithClock(func() time.Time { return now }), WithInstances(fleetOf(2)))
	type edit func(url.Values)
	set := func(k, v string) edit { return func(p url.Values) { p.Set(k, v) } }
	del := func(k string) edit { return func(p url.Values) { p.Del(k) } }
	for i, tc := range []struct {
		name   string
		method string
		form   bool
		edit   edit
		secret string
		code   string
		status int
	}{
		{"GET accepted", "GET", false, nil, "", "Success", 200},
		{"POST query accepted", "POST", false, nil, "", "Success", 200},
		{"POST form body accepted", "POST", true, nil, "", "Success", 200},
		{"missing AccessKeyId", "GET", false, del("AccessKeyId"), "", "MissingAccessKeyId", 400},
		{"missing SignatureNonce", "GET", false, del("SignatureNonce"), "", "MissingSignatureNonce", 400},
		{"missing Timestamp", "GET", false, del("Timestamp"), "", "MissingTimestamp", 400},
		{"missing Action", "GET", false, del("Action"), "", "MissingAction", 400},
		{"missing Version", "GET", false, del("Version"), "", "MissingVersion", 400},
		{"missing RegionId", "GET", false, del("RegionId"), "", "MissingRegionId", 400},
		{"HMAC-SHA256", "GET", false, set("SignatureMethod", "HMAC-SHA256"), "", "InvalidSignatureMethod", 400},
		{"signature version 2.0", "GET", false, set("SignatureVersion", "2.0"), "", "InvalidSignatureVersion", 400},
		{"timestamp with offset", "GET", false, set("Timestamp", "2026-03-01T20:00:00+08:00"), "", "InvalidTimeStamp.Format", 400},
		{"timestamp 16 min old", "GET", false, set("Timestamp", "2026-03-01T11:44:00Z"), "", "InvalidTimeStamp.Expired", 400},
		{"timestamp 15 min old", "GET", false, set("Timestamp", "2026-03-01T11:45:00Z"), "", "Success", 200},
		{"other version", "GET", false, set("Version", "2016-03-14"), "", "InvalidVersion", 400},
		{"other action", "GET", false, set("Action", "DescribeRegions"), "", "InvalidAction.NotFound", 404},
		{"format XML", "GET", false, set("Format", "XML"), "", codeFormatNotImplemented, 400},
		{"format absent", "GET", false, del("Format"), "", codeFormatNotImplemented, 400},
		{"format json lower case", "GET", false, set("Format", "json"), "", "Success", 200},
		{"wrong secret", "GET", false, nil, "other", "SignatureDoesNotMatch", 400},
		{"PUT", "PUT", false, nil, "", "InvalidApi.NotFound", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := signedParams(now, "nonce-raw-"+string(rune('a'+i)))
			if tc.edit != nil {
				tc.edit(p)
			}
			secret := DefaultAccessKeySecret
			if tc.secret != "" {
				secret = tc.secret
			}
			res := rawDo(t, s, tc.method, p, secret, true, tc.form)
			if res.code() != tc.code || res.status != tc.status {
				t.Fatalf("got %s (%d), want %s (%d): %s", res.code(), res.status, tc.code, tc.status, res.raw)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json;charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if id := res.header.Get("x-acs-request-id"); id == "" || id != res.body["RequestId"] {
				t.Errorf("x-acs-request-id %q, body RequestId %v", id, res.body["RequestId"])
			}
			if tc.code != "Success" {
				for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
					if _, ok := res.body[k]; !ok {
						t.Errorf("error body lacks %s: %s", k, res.raw)
					}
				}
			}
		})
	}
}

func TestSignatureDetails(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	s := startServer(t)
	t.Run("empty parameter is signed", func(t *testing.T) {
		p := signedParams(now, "nonce-empty")
		without := cloneValues(p)
		without.Del("SignatureType")
		p.Set("Signature", Sign("GET", without, DefaultAccessKeySecret))
		res := rawDo(t, s, "GET", p, "", false, false)
		if res.code() != "SignatureDoesNotMatch" {
			t.Fatalf("signature that skipped the empty SignatureType: got %s", res.code())
		}
	})
	t.Run("method is signed", func(t *testing.T) {
		p := signedParams(now, "nonce-method")
		p.Set("Signature", Sign("GET", p, DefaultAccessKeySecret))
		res := rawDo(t, s, "POST", p, "", false, false)
		if res.code() != "SignatureDoesNotMatch" {
			t.Fatalf("GET signature on a POST: got %s", res.code())
		}
		if msg, _ := res.body["Message"].(string); !strings.HasSuffix(msg, "is:"+StringToSign("POST", p)) {
			t.Errorf("message %q", msg)
		}
	})
	t.Run("nonce reuse", func(t *testing.T) {
		p := signedParams(now, "nonce-reused")
		if res := rawDo(t, s, "GET", p, DefaultAccessKeySecret, true, false); res.code() != "Success" {
			t.Fatalf("first use: %s", res.raw)
		}
		if res := rawDo(t, s, "GET", p, DefaultAccessKeySecret, true, false); res.code() != "SignatureNonceUsed" || res.status != 400 {
			t.Fatalf("second use: %d %s", res.status, res.raw)
		}
	})
	t.Run("failed signature does not burn the nonce", func(t *testing.T) {
		p := signedParams(now, "nonce-kept")
		if res := rawDo(t, s, "GET", p, "wrong", true, false); res.code() != "SignatureDoesNotMatch" {
			t.Fatalf("bad signature: %s", res.raw)
		}
		if res := rawDo(t, s, "GET", p, DefaultAccessKeySecret, true, false); res.code() != "Success" {
			t.Fatalf("then good signature: %s", res.raw)
		}
	})
	t.Run("other path", func(t *testing.T) {
		p := signedParams(now, "nonce-path")
		p.Set("Signature", Sign("GET", p, DefaultAccessKeySecret))
		req, _ := http.NewRequest("GET", s.URL+"/v1?"+p.Encode(), nil)
		if res := doRaw(t, req); res.code() != "InvalidApi.NotFound" || res.status != 404 {
			t.Fatalf("got %d %s", res.status, res.raw)
		}
	})
}

func TestNonceExpiresWithClock(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: now}
	s := startServer(t, WithClock(clock.Now))
	p := signedParams(now, "nonce-1")
	if res := rawDo(t, s, "GET", p, DefaultAccessKeySecret, true, false); res.code() != "Success" {
		t.Fatal(res.raw)
	}
	clock.Add(16 * time.Minute)
	p.Set("Timestamp", clock.Now().Format(timestampLayout))
	if res := rawDo(t, s, "GET", p, DefaultAccessKeySecret, true, false); res.code() != "Success" {
		t.Fatalf("nonce 16 minutes later: %s", res.raw)
	}
}

func TestCallsRecord(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(1)))
	c := newClient(t, s, defaultCred())
	if _, err := describe(c, nil); err != nil {
		t.Fatal(err)
	}
	_, err := describe(newClient(t, s, credentials.NewAccessKeyCredential("nobody", "x")), nil)
	wantCode(t, err, "InvalidAccessKeyId.NotFound", 404)
	calls := s.Calls()
	if len(calls) != 2 || s.CallCount(ActionDescribeInstances) != 2 || s.CallCount("Other") != 0 {
		t.Fatalf("calls %+v", calls)
	}
	first := calls[0]
	if first.Method != "POST" || first.Action != ActionDescribeInstances || first.Code != "Success" || first.Time.IsZero() {
		t.Errorf("first call %+v", first)
	}
	if first.Params.Get("RegionId") != "cn-hangzhou" || first.Params.Get("Signature") == "" {
		t.Errorf("params %v", first.Params)
	}
	if first.Header.Get("x-acs-action") != ActionDescribeInstances {
		t.Errorf("headers %v", first.Header)
	}
	if calls[1].Code != "InvalidAccessKeyId.NotFound" {
		t.Errorf("second call code %s", calls[1].Code)
	}
	first.Params.Set("RegionId", "changed")
	if s.Calls()[0].Params.Get("RegionId") != "cn-hangzhou" {
		t.Error("Calls does not return a copy")
	}
	s.ResetCalls()
	if len(s.Calls()) != 0 {
		t.Error("ResetCalls kept calls")
	}
}

// TestConcurrentUse changes the fleet and reads calls while the SDK queries;
// run with -race.
func TestConcurrentUse(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(30)))
	c := newClient(t, s, defaultCred())
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			switch i % 4 {
			case 0:
				s.SetInstances(fleetOf(20 + i%15))
			case 1:
				s.PutInstance(Instance{ID: "i-extra", Tags: []Tag{{"vault", "cluster1"}}})
			case 2:
				s.SetStatus("i-0001", StatusStopped)
			case 3:
				s.RemoveInstance("i-extra")
				_ = s.Calls()
			}
		}
	}()
	for i := 0; i < 20; i++ {
		if _, err := describe(c, func(r *ecsRequest) { r.PageSize = "100" }); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	<-stopped
}

func TestMaxCalls(t *testing.T) {
	s := startServer(t, WithMaxCalls(2))
	c := newClient(t, s, defaultCred())
	for _, region := range []string{"cn-beijing", "cn-shanghai", "cn-hangzhou"} {
		if _, err := describe(c, func(r *ecsRequest) { r.RegionId = region }); err != nil {
			t.Fatal(err)
		}
	}
	calls := s.Calls()
	if len(calls) != 2 || calls[0].Params.Get("RegionId") != "cn-shanghai" || calls[1].Params.Get("RegionId") != "cn-hangzhou" {
		t.Errorf("calls %+v", calls)
	}
}

func TestCloseIdempotent(t *testing.T) {
	s := NewServer()
	s.Close()
	s.Close()
	m := NewMetadataServer(Metadata{})
	m.Close()
	m.Close()
}

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
