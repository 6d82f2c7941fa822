package aliyun

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
	"github.com/joinhintd/joinhintd/daemon"
)

// roleDocGETs counts reads of the role's credential document.
func roleDocGETs(m *ecstest.MetadataServer) int {
	n := 0
	for _, r := range m.Requests() {
		if r.Method == "GET" && r.Path == "/latest/meta-data/ram/security-credentials/"+ecstest.SampleRoleName {
			n++
		}
	}
	return n
}

// lastSigner is the AccessKeyId of the fixture's last DescribeInstances.
func (f *credFixture) lastSigner(t *testing.T) string {
	t.Helper()
	d := f.calls(ecstest.ActionDescribeInstances)
	if len(d) == 0 {
		t.Fatal("no DescribeInstances call")
	}
	return d[len(d)-1].Params.Get("AccessKeyId")
}

// ramRoleProvider builds the forced ram-role source on the fixture, on clk,
// logging to the returned observer.
func ramRoleProvider(t *testing.T, f *credFixture, clk *fakeClock, mod func(*CredentialOptions)) (*refreshingProvider, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	o := f.options(t, map[string]string{})
	o.Source, o.Now, o.Log = SourceRAMRole, clk.Now, zap.New(core)
	if mod != nil {
		mod(&o)
	}
	p, source, err := NewCredentialsProvider(o)
	if err != nil || source != SourceRAMRole {
		t.Fatalf("NewCredentialsProvider: %q %v", source, err)
	}
	return p.(*refreshingProvider), logs
}

// startedRole is a fixture whose role credential lives 10 minutes, the
// ram-role provider on a fake clock, and one Discover signed with it done.
func startedRole(t *testing.T) (*fakeClock, *credFixture, ecstest.Credential, *refreshingProvider, *observer.ObservedLogs) {
	t.Helper()
	clk := newFakeClock()
	f := newCredFixture(t, clk)
	first := credRole
	first.Expires = clk.Now().Add(10 * time.Minute)
	f.api.AddCredential(first)
	f.md.SetRoleCredential(first)
	p, logs := ramRoleProvider(t, f, clk, nil)
	if _, err := f.discover(t, p, SourceRAMRole); err != nil {
		t.Fatal(err)
	}
	return clk, f, first, p, logs
}

// TestRAMRoleRefresh: the role credential is cached, fetched again when at
// most 3 minutes are left or after it expired, and the next Discover signs
// with the new one. A failed refresh keeps the still-valid cached one.
func TestRAMRoleRefresh(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		name    string
		advance time.Duration // from the first fetch; the first credential lives 10 min
	}{
		{"inside the refresh margin", 7*time.Minute + 30*time.Second},
		{"after expiry", 11 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk, f, _, p, _ := startedRole(t)
			clk.Advance(time.Minute)
			if _, err := f.discover(t, p, SourceRAMRole); err != nil {
				t.Fatal(err)
			}
			if n := roleDocGETs(f.md); n != 1 {
				t.Fatalf("%d role document reads before the margin, want 1 (cached)", n)
			}

			second := ecstest.Credential{AccessKeyID: "STS.role2", AccessKeySecret: "role2-secret", SecurityToken: "role2-token",
				Expires: clk.Now().Add(time.Hour)}
			f.api.AddCredential(second)
			f.md.SetRoleCredential(second)
			clk.Advance(tc.advance - time.Minute)
			if _, err := f.discover(t, p, SourceRAMRole); err != nil {
				t.Fatalf("Discover after the rotation: %v", err)
			}
			if got := f.lastSigner(t); got != second.AccessKeyID {
				t.Fatalf("signed by %s, want the new %s", got, second.AccessKeyID)
			}
			if n := roleDocGETs(f.md); n != 2 {
				t.Errorf("%d role document reads, want 2", n)
			}
		})
	}
}

func TestRAMRoleFailedRefreshKeepsCachedCredential(t *testing.T) {
	isolate(t)
	clk, f, first, p, logs := startedRole(t)

	md := ecstest.SampleMetadata("cn-hangzhou")
	md.RoleCredential = first
	md.RoleStatus = http.StatusInternalServerError
	f.md.Set(md)
	clk.Advance(8 * time.Minute) // 2 min left: refresh, fail, keep
	if _, err := f.discover(t, p, SourceRAMRole); err != nil {
		t.Fatalf("Discover with the cached credential: %v", err)
	}
	if got := f.lastSigner(t); got != first.AccessKeyID {
		t.Errorf("signed by %s", got)
	}
	warns := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warns) != 1 || !strings.Contains(fmt.Sprint(warns[0].ContextMap()["error"]), "HTTP 500") {
		t.Errorf("warnings %+v", warns)
	}
	// The warning, like every log line, names no secret.
	for _, entry := range logs.All() {
		text := entry.Message + fmt.Sprint(entry.ContextMap())
		for _, s := range allSecrets() {
			if strings.Contains(text, s) {
				t.Errorf("log %q holds %q", text, s)
			}
		}
	}

	clk.Advance(3 * time.Minute) // expired, and the service still fails
	_, err := f.discover(t, p, SourceRAMRole)
	var ce *CredentialError
	if !errors.As(err, &ce) || ce.Source != SourceRAMRole {
		t.Fatalf("err %v, want a *CredentialError", err)
	}
	if n := len(f.calls(ecstest.ActionDescribeInstances)); n != 2 {
		t.Errorf("%d DescribeInstances calls: a request was sent without credentials", n)
	}

	md.RoleStatus = 0
	f.md.Set(md)
	second := ecstest.Credential{AccessKeyID: "STS.role2", AccessKeySecret: "role2-secret", SecurityToken: "role2-token"}
	f.api.AddCredential(second)
	f.md.SetRoleCredential(second)
	if _, err := f.discover(t, p, SourceRAMRole); err != nil || f.lastSigner(t) != second.AccessKeyID {
		t.Fatalf("after the service recovered: %v", err)
	}
}

// TestRAMRoleHardened covers hardened mode required and optional.
func TestRAMRoleHardened(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		name                      string
		refused, required         bool
		hardened                  bool
		env                       map[string]string
		wantErr                   string
		wantTokenGETs, wantPlains bool
	}{
		{"token refused, optional: plain reads", true, false, false, nil, "", false, true},
		{"token refused, hardened: error", true, false, true, nil, "requires a session token", false, false},
		{"token refused, ALIBABA_CLOUD_IMDSV1_DISABLED: error", true, false, false, map[string]string{"ALIBABA_CLOUD_IMDSV1_DISABLED": "true"}, "requires a session token", false, false},
		{"token required, optional client", false, true, false, nil, "", true, false},
		{"token required, hardened client", false, true, true, nil, "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			f := newCredFixture(t, clk)
			md := ecstest.SampleMetadata("cn-hangzhou")
			md.RoleCredential = credRole
			md.TokenRefused, md.TokenRequired = tc.refused, tc.required
			f.md.Set(md)
			core, _ := observer.New(zapcore.DebugLevel)
			o := f.options(t, tc.env)
			if tc.env == nil {
				o.Getenv = envOf(map[string]string{})
			}
			o.Source, o.Now, o.Log, o.MetadataHardened = SourceRAMRole, clk.Now, zap.New(core), tc.hardened
			p, _, err := NewCredentialsProvider(o)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.discover(t, p, SourceRAMRole)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			var tokenGETs, plainGETs int
			for _, r := range f.md.Requests() {
				if r.Method == "GET" {
					if r.HadToken {
						tokenGETs++
					} else {
						plainGETs++
					}
				}
			}
			if (tokenGETs > 0) != tc.wantTokenGETs || (plainGETs > 0) != tc.wantPlains {
				t.Errorf("GETs with token %d, without %d", tokenGETs, plainGETs)
			}
		})
	}
}

// TestRAMRoleMalformedDocuments: every bad answer is an error, never a panic,
// and the provider works again once the answer is good.
func TestRAMRoleMalformedDocuments(t *testing.T) {
	isolate(t)
	good := `"AccessKeyId":"STS.doc","AccessKeySecret":"doc-secret-0013","SecurityToken":"doc-token-0013"`
	for _, tc := range []struct {
		name, doc string
		status    int
		want      string
	}{
		{"not JSON", "<html>Service Unavailable</html>", 0, "not the JSON"},
		{"JSON array", "[]", 0, "not the JSON"},
		{"whitespace", "   ", 0, "empty answer"},
		{"no Code", `{` + good + `,"Expiration":"2030-01-01T00:00:00Z"}`, 0, "has no Code"},
		{"Code not Success", `{"Code":"Failed",` + good + `,"Expiration":"2030-01-01T00:00:00Z"}`, 0, "Code is not Success"},
		{"no Expiration", `{"Code":"Success",` + good + `}`, 0, "has no Expiration"},
		{"null Expiration", `{"Code":"Success",` + good + `,"Expiration":null}`, 0, "has no Expiration"},
		{"bad Expiration", `{"Code":"Success",` + good + `,"Expiration":"tomorrow"}`, 0, "Expiration is not a time"},
		{"Expiration with offset", `{"Code":"Success",` + good + `,"Expiration":"2030-01-01T08:00:00+08:00"}`, 0, "Expiration is not a time"},
		{"no SecurityToken", `{"Code":"Success","AccessKeyId":"STS.doc","AccessKeySecret":"doc-secret-0013","Expiration":"2030-01-01T00:00:00Z"}`, 0, "has no SecurityToken"},
		{"secret is a number", `{"Code":"Success","AccessKeyId":"STS.doc","AccessKeySecret":13,"SecurityToken":"t","Expiration":"2030-01-01T00:00:00Z"}`, 0, "not the JSON"},
		{"already expired", `{"Code":"Success",` + good + `,"Expiration":"2020-01-01T00:00:00Z"}`, 0, "expired at 2020-01-01T00:00:00Z, before it arrived"},
		{"HTTP 500 with a document", `{"Code":"Success",` + good + `,"Expiration":"2030-01-01T00:00:00Z"}`, 500, "HTTP 500"},
		{"HTTP 403", "Forbidden", 403, "HTTP 403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			f := newCredFixture(t, clk)
			md := ecstest.SampleMetadata("cn-hangzhou")
			md.RoleCredential = credRole
			md.RoleDocument, md.RoleStatus = tc.doc, tc.status
			f.md.Set(md)
			p, _ := ramRoleProvider(t, f, clk, nil)
			c, err := p.GetCredentials()
			if err == nil || c != nil {
				t.Fatalf("no error: %+v", c)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			for _, s := range []string{"doc-secret-0013", "doc-token-0013", credRole.AccessKeySecret, credRole.SecurityToken} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q holds a secret", err)
				}
			}
			md.RoleDocument, md.RoleStatus = "", 0
			f.md.Set(md)
			if c, err := p.GetCredentials(); err != nil || c.AccessKeyId != credRole.AccessKeyID {
				t.Fatalf("after a good answer: %v", err)
			}
		})
	}
}

func TestRAMRoleNotAttached(t *testing.T) {
	isolate(t)
	clk := newFakeClock()
	f := newCredFixture(t, clk)
	md := ecstest.SampleMetadata("cn-hangzhou")
	md.RoleName = ""
	f.md.Set(md)
	p, _ := ramRoleProvider(t, f, clk, nil)
	if _, err := p.GetCredentials(); err == nil || !strings.Contains(err.Error(), "no RAM role is attached") {
		t.Errorf("err %v", err)
	}
	p, _ = ramRoleProvider(t, f, clk, func(o *CredentialOptions) { o.RAMRole = "other-role" })
	if _, err := p.GetCredentials(); err == nil || !strings.Contains(err.Error(), `no RAM role "other-role"`) {
		t.Errorf("err %v", err)
	}
}

// TestRAMRoleUnreachable: off ECS the refresh fails as a network error.
func TestRAMRoleUnreachable(t *testing.T) {
	isolate(t)
	f := newCredFixture(t, nil)
	f.md.Close()
	o := f.options(t, map[string]string{})
	p, source, err := NewCredentialsProvider(o)
	if err != nil || source != SourceRAMRole {
		t.Fatalf("%q %v", source, err)
	}
	_, err = p.GetCredentials()
	var ce *CredentialError
	if !errors.As(err, &ce) || ce.Reason() != "network" {
		t.Fatalf("err %v (%T)", err, err)
	}

	// Through Discover: no API call is made, and the error says it was the
	// credentials, with their reason, not a transport failure of ECS.
	_, err = f.discover(t, p, SourceRAMRole)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != codeCredentials || daemon.ReasonOf(err) != daemon.ReasonNetwork {
		t.Fatalf("Discover err %v (%T), want code %q and reason network", err, err, codeCredentials)
	}
	if !strings.Contains(err.Error(), "ram-role credentials") {
		t.Errorf("Discover err %q does not name the source", err)
	}
	if n := len(f.calls(ecstest.ActionDescribeInstances)); n != 0 {
		t.Errorf("%d DescribeInstances calls without credentials, want 0", n)
	}
}

// TestCredentialsConcurrent calls GetCredentials from several goroutines
// while the clock moves: one fetch at a time, no race (go test -race).
func TestCredentialsConcurrent(t *testing.T) {
	isolate(t)
	clk := newFakeClock()
	f := newCredFixture(t, clk)
	exp := clk.Now().Add(5 * time.Minute)
	f.md.SetRoleCredential(ecstest.Credential{AccessKeyID: credRole.AccessKeyID, AccessKeySecret: credRole.AccessKeySecret,
		SecurityToken: credRole.SecurityToken, Expires: exp})
	p, _ := ramRoleProvider(t, f, clk, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 8 {
				if g == 0 && i == 4 {
					clk.Advance(3 * time.Minute) // into the margin: one refetch
				}
				c, err := p.GetCredentials()
				if err != nil {
					errs <- err
					return
				}
				if c.AccessKeyId != credRole.AccessKeyID || c.SecurityToken != credRole.SecurityToken {
					errs <- fmt.Errorf("got %s", c.AccessKeyId)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := roleDocGETs(f.md); n < 1 || n > 64 {
		t.Errorf("%d role document reads", n)
	}
}

// TestMetadataSessionToken covers the client's token handling: hardened
// mode, a token the service forgot (401: one retry with a new token), and a
// service that starts requiring tokens after plain reads (403: ask again).
func TestMetadataSessionToken(t *testing.T) {
	t.Run("hardened refuses plain reads", func(t *testing.T) {
		md := ecstest.SampleMetadata("cn-hangzhou")
		md.TokenRefused = true
		m := ecstest.NewMetadataServer(md)
		defer m.Close()
		if _, err := NewMetadata(m.URL, WithMetadataHardened(true)).Get(t.Context(), "region-id"); err == nil {
			t.Fatal("hardened read without a token succeeded")
		}
		if v, err := NewMetadata(m.URL).Get(t.Context(), "region-id"); err != nil || v != "cn-hangzhou" {
			t.Fatalf("plain read: %q %v", v, err)
		}
		for _, r := range m.Requests() {
			if r.Method == "GET" && r.HadToken {
				t.Errorf("GET %s with a token", r.Path)
			}
		}
	})
	t.Run("expired token is replaced", func(t *testing.T) {
		srvClock := newFakeClock()
		m := ecstest.NewMetadataServer(ecstest.SampleMetadata("cn-hangzhou"), ecstest.WithMetadataClock(srvClock.Now))
		defer m.Close()
		c := NewMetadata(m.URL)
		if _, err := c.Get(t.Context(), "region-id"); err != nil {
			t.Fatal(err)
		}
		srvClock.Advance(7 * time.Hour) // the service's token is gone; the client does not know
		if v, err := c.Get(t.Context(), "instance-id"); err != nil || v == "" {
			t.Fatalf("read after the token expired: %q %v", v, err)
		}
		var puts int
		for _, r := range m.Requests() {
			if r.Method == "PUT" {
				puts++
			}
		}
		if puts != 2 {
			t.Errorf("%d token requests, want 2", puts)
		}
	})
	t.Run("service starts requiring tokens", func(t *testing.T) {
		md := ecstest.SampleMetadata("cn-hangzhou")
		md.TokenRefused = true
		m := ecstest.NewMetadataServer(md)
		defer m.Close()
		c := NewMetadata(m.URL)
		if _, err := c.Get(t.Context(), "region-id"); err != nil {
			t.Fatal(err)
		}
		md.TokenRefused, md.TokenRequired = false, true
		m.Set(md)
		if v, err := c.Get(t.Context(), "region-id"); err != nil || v != "cn-hangzhou" {
			t.Fatalf("read after the service turned hardened: %q %v", v, err)
		}
	})
}
