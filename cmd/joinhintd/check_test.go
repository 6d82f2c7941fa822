package main

import (
	"strings"
	"testing"
	"time"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

func TestCheck(t *testing.T) {
	fleet := []ecstest.Instance{node(1, "Running", cluster1)}
	f := newFakes(t, fleet, ecstest.Metadata{})
	f.api.AddCredential(ecstest.Credential{AccessKeyID: "LTAIdenied", AccessKeySecret: "denied-secret", Denied: true})
	f.api.AddCredential(ecstest.Credential{AccessKeyID: "STS.expired", AccessKeySecret: "sts-secret", SecurityToken: "sts-token", Expires: time.Now().Add(-time.Hour)})
	f.api.AddCredential(ecstest.Credential{AccessKeyID: "STS.valid", AccessKeySecret: "sts-secret2", SecurityToken: "sts-token2"})
	keys := func(id, secret string) []string {
		return []string{"--auto-join", "provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1 access_key_id=" + id + " access_key_secret=" + secret}
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"all good", nil, nil, exitOK, "ok: credentials from static may call ecs:DescribeInstances in cn-hangzhou at http://" + f.api.Host},
		{"no permission", keys("LTAIdenied", "denied-secret"), nil, exitFailure, "no permission: the credentials may not call DescribeInstances in cn-hangzhou; grant the RAM action ecs:DescribeInstances"},
		{"bad key", keys("LTAInobody", "x"), nil, exitFailure, `bad AccessKey ID: "LTAInobody" is not known`},
		{"bad secret", keys(ecstest.DefaultAccessKeyID, "wrong-secret"), nil, exitFailure, "bad AccessKey secret"},
		{"expired sts token", nil, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.expired", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sts-secret", "ALIBABA_CLOUD_SECURITY_TOKEN": "sts-token"}, exitFailure, "the STS token has expired"},
		{"sts token of another key", nil, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.valid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sts-secret2", "ALIBABA_CLOUD_SECURITY_TOKEN": "sts-token"}, exitFailure, "the STS token does not match"},
		{"unknown region", []string{"--region", "xx-nowhere-1"}, nil, exitFailure, `unknown region "xx-nowhere-1"`},
		{"network failure", []string{"--endpoint", "127.0.0.1:1"}, nil, exitFailure, "network failure: cannot reach the ECS API at http://127.0.0.1:1"},
		{"no RAM role", []string{"--credential-source", "ram-role"}, nil, exitFailure, "cannot get credentials, so nothing was asked of the API: ram-role credentials: no RAM role is attached to this instance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check"}, f.args(tt.args...)...)
			if tt.env != nil {
				args[2] = "provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1" // no keys: the environment's
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
			}
			code, out, errs := execute(t, args...)
			if code != tt.code || !strings.Contains(out+errs, tt.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errs, tt.code, tt.want)
			}
			if code != exitOK && strings.Count(strings.TrimSpace(errs), "\n") != 0 && !strings.HasPrefix(lastLine(errs), "joinhintd: check failed: ") {
				t.Errorf("not a one-line failure: %q", errs)
			}
			for _, secret := range []string{"denied-secret", "wrong-secret", "sts-secret", "sts-token", ecstest.DefaultAccessKeySecret} {
				if strings.Contains(out+errs, secret) {
					t.Errorf("output holds the secret %q: %s", secret, out+errs)
				}
			}
			if dry := f.api.Calls(); len(dry) > 0 && dry[len(dry)-1].Params.Get("DryRun") != "true" {
				t.Errorf("check did not dry-run: %v", dry[len(dry)-1].Params)
			}
		})
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

// The trap: a caller without permission gets an empty list from a listing,
// which looks like "no peers"; the dry run tells it apart, and run says so
// at start.
func TestNoPermissionLooksEmptyButCheckTellsIt(t *testing.T) {
	f := newFakes(t, []ecstest.Instance{node(1, "Running", cluster1)}, ecstest.Metadata{})
	f.api.AddCredential(ecstest.Credential{AccessKeyID: "LTAIdenied", AccessKeySecret: "denied-secret", Denied: true})
	args := f.args()
	args[1] = "provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1 access_key_id=LTAIdenied access_key_secret=denied-secret"
	code, out, _ := execute(t, append([]string{"discover"}, args...)...)
	if code != exitOK || out != "" {
		t.Fatalf("discover without permission: exit %d, %q (the API's empty list)", code, out)
	}
	code, _, errs := execute(t, append([]string{"check"}, args...)...)
	if code != exitFailure || !strings.Contains(errs, "no permission") {
		t.Fatalf("check: exit %d %s", code, errs)
	}
	d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0"}, args...)...)
	waitFor(t, "the start-up check", 5*time.Second, func() bool {
		return strings.Contains(d.stderr.String(), `"msg":"permission check failed; discovery cannot work until this is fixed"`)
	})
	if !strings.Contains(d.stderr.String(), `"level":"error"`) || !strings.Contains(d.stderr.String(), "ecs:DescribeInstances") {
		t.Errorf("start-up check log: %s", d.stderr.String())
	}
}
