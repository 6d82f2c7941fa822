package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

// everything is all a daemon has said and served: its whole output and the
// body of every endpoint in every format.
func (d *daemonRun) everything(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(d.stderr.String())
	b.WriteString(d.stdout.String())
	for _, p := range []string{"/v1/peers", "/v1/peers?format=text", "/v1/peers?format=go-discover", "/v1/retry-join",
		"/v1/retry-join?format=json", "/-/ready", "/-/healthy", "/metrics", "/v1/peers?format=bad", "/nowhere"} {
		_, body := d.get(t, p)
		b.WriteString(body)
	}
	return b.String()
}

// failures is the refresh failure count of reason, 0 when not exported.
func (d *daemonRun) failures(t *testing.T, reason string) int {
	t.Helper()
	n, _ := strconv.Atoi(d.metric(t, `joinhintd_refresh_failures_total{reason="`+reason+`"}`))
	return n
}

// step changes the fakes, then waits until a refresh failed for reason (or,
// with reason "", until a refresh succeeded).
func step(t *testing.T, d *daemonRun, name, reason string, change func()) {
	t.Helper()
	before := d.failures(t, reason)
	ok := d.metric(t, `joinhintd_last_refresh_success_timestamp_seconds`)
	change()
	waitFor(t, name, 10*time.Second, func() bool {
		if reason == "" {
			return d.metric(t, `joinhintd_last_refresh_success_timestamp_seconds`) != ok
		}
		return d.failures(t, reason) > before
	})
}

// TestNoSecretInDaemonOutput runs the daemon at debug level through every
// failure path (API faults, bad keys, a signature echo that carries the STS
// token, expired tokens, broken and failing RAM-role answers read in
// hardened mode) and checks that no configured secret, STS token or metadata
// session token appears in its output, its HTTP answers or its metrics.
func TestNoSecretInDaemonOutput(t *testing.T) {
	fleet := []ecstest.Instance{node(1, "Running", cluster1), node(2, "Running", cluster1), node(3, "Running", cluster1)}
	sts := ecstest.Credential{AccessKeyID: "STS.secrettest", AccessKeySecret: "sts-secret-value-41", SecurityToken: "sts-token-value-41"}
	role := ecstest.Credential{AccessKeyID: "STS.secretrole", AccessKeySecret: "role-secret-value-42", SecurityToken: "role-token-value-42"}
	static := "static-secret-value-43"
	md := ecstest.SampleMetadata("cn-hangzhou")
	md.InstanceID = fleet[0].ID
	md.RoleCredential = role
	f := newFakes(t, fleet, md)
	f.api.AddCredential(sts)
	f.api.AddCredential(role)
	f.api.AddCredential(ecstest.Credential{AccessKeyID: "LTAIstatictest", AccessKeySecret: static})
	secrets := []string{sts.AccessKeySecret, sts.SecurityToken, role.AccessKeySecret, role.SecurityToken, static}
	common := []string{"--log-level", "debug", "--refresh-interval", "150ms", "--api-read-timeout", "300ms"}
	noKeys := "provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1"

	t.Run("static keys in argv and STS keys in the environment", func(t *testing.T) {
		// The auto_join keys are in argv (a warning says to move
		// them); the signing keys come from the environment.
		t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", sts.AccessKeyID)
		t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", sts.AccessKeySecret)
		t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", sts.SecurityToken)
		args := f.args(append(common, "--credential-source", "env")...)
		args[1] = noKeys + " access_key_id=LTAIstatictest access_key_secret=" + static
		d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0"}, args...)...)
		waitFor(t, "the first peer set", 5*time.Second, func() bool { code, _ := d.get(t, "/v1/peers"); return code == http.StatusOK })
		for _, fault := range []ecstest.Fault{
			{Kind: ecstest.FaultThrottling}, {Kind: ecstest.FaultServiceUnavailable}, {Kind: ecstest.FaultInternalError},
			{Kind: ecstest.FaultMalformedBody}, {Kind: ecstest.FaultTruncatedBody}, {Kind: ecstest.FaultReset},
			{Kind: ecstest.FaultDelay, Delay: time.Second},
		} {
			reason := map[ecstest.FaultKind]string{ecstest.FaultThrottling: "throttled", ecstest.FaultReset: "network",
				ecstest.FaultTruncatedBody: "network", ecstest.FaultDelay: "network"}[fault.Kind]
			if reason == "" {
				reason = "server"
			}
			step(t, d, fault.Kind.String(), reason, func() { f.api.Inject(fault) })
		}
		// A wrong secret: the fake's SignatureDoesNotMatch echoes
		// the string to sign, which holds the STS token.
		step(t, d, "a wrong secret", "auth", func() {
			f.api.AddCredential(ecstest.Credential{AccessKeyID: sts.AccessKeyID, AccessKeySecret: "another", SecurityToken: sts.SecurityToken})
		})
		step(t, d, "an expired token", "auth", func() {
			expired := sts
			expired.Expires = time.Now().Add(-time.Minute)
			f.api.AddCredential(expired)
		})
		step(t, d, "an unknown key", "auth", func() { f.api.RemoveCredential(sts.AccessKeyID) })
		step(t, d, "recovery", "", func() { f.api.AddCredential(sts) })
		all := d.everything(t)
		d.stop(t)
		all += d.stderr.String()
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("the secret %q is in the daemon's output or answers", s)
			}
		}
		if !strings.Contains(all, "REDACTED") || !strings.Contains(all, "SignatureDoesNotMatch") {
			t.Errorf("the run did not go where the test meant it to: %s", all)
		}
	})

	t.Run("ECS RAM role through hardened metadata", func(t *testing.T) {
		args := f.args(append(common, "--credential-source", "ram-role", "--metadata-hardened")...)
		args[1] = noKeys
		// The role credential expires soon after the start, so the broken
		// answers below first meet a cached credential that still works
		// (a warning) and then none (failed refreshes).
		short := role
		short.Expires = time.Now().Add(1500 * time.Millisecond)
		f.md.SetRoleCredential(short)
		d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0"}, args...)...)
		waitFor(t, "the first peer set", 5*time.Second, func() bool { code, _ := d.get(t, "/v1/peers"); return code == http.StatusOK })
		broken := map[string]ecstest.Metadata{}
		for name, doc := range map[string]string{
			"no Code":           `{"AccessKeyId":"` + role.AccessKeyID + `","AccessKeySecret":"` + role.AccessKeySecret + `","SecurityToken":"` + role.SecurityToken + `"}`,
			"not JSON":          `AccessKeySecret=` + role.AccessKeySecret + ` SecurityToken=` + role.SecurityToken,
			"Code not Success":  `{"Code":"` + role.AccessKeySecret + `","AccessKeySecret":"` + role.AccessKeySecret + `"}`,
			"Expiration broken": `{"Code":"Success","AccessKeyId":"x","AccessKeySecret":"` + role.AccessKeySecret + `","SecurityToken":"` + role.SecurityToken + `","Expiration":"` + role.SecurityToken + `"}`,
		} {
			m := md
			m.RoleDocument = doc
			broken[name] = m
		}
		failing := md
		failing.RoleStatus = http.StatusInternalServerError
		failing.RoleDocument = "upstream said " + role.AccessKeySecret
		broken["HTTP 500"] = failing
		for name, m := range broken {
			step(t, d, name, "server", func() { f.md.Set(m) })
		}
		good := md
		good.RoleCredential = role
		step(t, d, "recovery", "", func() { f.md.Set(good) })
		all := d.everything(t)
		d.stop(t)
		all += d.stderr.String()
		tokens := f.md.IssuedTokens()
		if len(tokens) == 0 {
			t.Fatal("no metadata session token was issued: hardened mode was not used")
		}
		for _, s := range append(secrets, tokens...) {
			if i := strings.Index(all, s); i >= 0 {
				t.Errorf("the secret %q is in the daemon's output or answers: ...%s...", s, all[max(0, i-300):min(len(all), i+100)])
			}
		}
	})
}
