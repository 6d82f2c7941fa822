package main

import (
	"strings"
	"testing"
	"time"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

// Credentials the fakes of TestCredentialFlags know.
var (
	credFlagEnv      = ecstest.Credential{AccessKeyID: "LTAIflagenv", AccessKeySecret: "flag-env-secret-31"}
	credFlagAlicloud = ecstest.Credential{AccessKeyID: "STS.flagalicloud", AccessKeySecret: "flag-alicloud-secret-32", SecurityToken: "flag-alicloud-token-32"}
	credFlagRole     = ecstest.Credential{AccessKeyID: "STS.flagrole", AccessKeySecret: "flag-role-secret-33", SecurityToken: "flag-role-token-33"}
	credFlagAssumed  = ecstest.Credential{AccessKeyID: "STS.flagassumed", AccessKeySecret: "flag-assumed-secret-34", SecurityToken: "flag-assumed-token-34"}
)

const flagRoleArn = "acs:ram::1234567890123456:role/joinhintd-flags"

// TestCredentialFlags runs discover with each way of choosing credentials
// on the command line, against the fake API, STS and metadata service: the
// right identity signs, and a failure is one line with the right exit code.
func TestCredentialFlags(t *testing.T) {
	fleet := []ecstest.Instance{node(1, "Running", cluster1), node(2, "Running", cluster1)}
	md := ecstest.SampleMetadata("cn-hangzhou")
	md.InstanceID = fleet[0].ID
	md.RoleCredential = credFlagRole
	f := newFakes(t, fleet, md)
	for _, c := range []ecstest.Credential{credFlagEnv, credFlagAlicloud, credFlagRole} {
		f.api.AddCredential(c)
	}
	f.api.AddRole(flagRoleArn, func() ecstest.Credential { return credFlagAssumed })
	noKeys := "provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1"
	envKeys := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": credFlagEnv.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credFlagEnv.AccessKeySecret}
	tfKeys := map[string]string{"ALICLOUD_ACCESS_KEY": credFlagAlicloud.AccessKeyID, "ALICLOUD_SECRET_KEY": credFlagAlicloud.AccessKeySecret, "ALICLOUD_ACCESS_KEY_STS_TOKEN": credFlagAlicloud.SecurityToken}
	sts := []string{"--sts-endpoint", f.api.Host, "--sts-scheme", "http"}
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		meta   func(*ecstest.Metadata)
		code   int
		signer string // AccessKeyId of the last DescribeInstances
		want   string // in stderr
	}{
		{"auto picks the environment", nil, envKeys, nil, exitOK, credFlagEnv.AccessKeyID, ""},
		{"auto picks the Terraform variables with their STS token", nil, tfKeys, nil, exitOK, credFlagAlicloud.AccessKeyID, ""},
		{"environment beats Terraform variables", nil, merge(envKeys, tfKeys), nil, exitOK, credFlagEnv.AccessKeyID, ""},
		{"forced ram-role beats the environment", []string{"--credential-source", "ram-role"}, envKeys, nil, exitOK, credFlagRole.AccessKeyID, ""},
		{"ram-role named", []string{"--credential-source", "ram-role", "--ram-role", ecstest.SampleRoleName}, nil, nil, exitOK, credFlagRole.AccessKeyID, ""},
		{"ram-role hardened", []string{"--credential-source", "ram-role", "--metadata-hardened"}, nil, nil, exitOK, credFlagRole.AccessKeyID, ""},
		{"ram-role falls back to plain reads", []string{"--credential-source", "ram-role"}, nil, func(m *ecstest.Metadata) { m.TokenRefused = true }, exitOK, credFlagRole.AccessKeyID, ""},
		{"ram-role hardened refuses plain reads", []string{"--credential-source", "ram-role", "--metadata-hardened"}, nil, func(m *ecstest.Metadata) { m.TokenRefused = true }, exitFailure, "", "hardened mode (--metadata-hardened) requires a session token"},
		{"ALIBABA_CLOUD_IMDSV1_DISABLED is hardened mode", []string{"--credential-source", "ram-role"}, map[string]string{"ALIBABA_CLOUD_IMDSV1_DISABLED": "true"}, func(m *ecstest.Metadata) { m.TokenRefused = true }, exitFailure, "", "requires a session token"},
		{"ram-role not attached", []string{"--credential-source", "ram-role", "--ram-role", "other-role"}, nil, nil, exitFailure, "", `no RAM role "other-role"`},
		{"assume role on top of the environment", sts, merge(envKeys, map[string]string{"ALIBABA_CLOUD_ROLE_ARN": flagRoleArn}), nil, exitOK, credFlagAssumed.AccessKeyID, ""},
		{"assume role of an unknown role", sts, merge(envKeys, map[string]string{"ALIBABA_CLOUD_ROLE_ARN": flagRoleArn + "x"}), nil, exitFailure, "", "EntityNotExist.Role"},
		{"sts over http to the cloud", []string{"--sts-scheme", "http"}, merge(envKeys, map[string]string{"ALIBABA_CLOUD_ROLE_ARN": flagRoleArn}), nil, exitConfig, "", "--sts-scheme http would send credentials in clear text to sts.aliyuncs.com"},
		{"forced env without its variables", []string{"--credential-source", "env"}, tfKeys, nil, exitConfig, "", "--credential-source env: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set"},
		{"half a key pair", nil, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIhalf"}, nil, exitConfig, "", "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"},
		{"nothing at all", nil, nil, nil, exitConfig, "", "no credentials: give access_key_id and access_key_secret in --auto-join"},
		{"unknown source", []string{"--credential-source", "vault"}, nil, nil, exitConfig, "", `invalid --credential-source "vault": want auto, static, env, alicloud-env, oidc, profile, credentials-uri, ram-role`},
		{"bad role name", []string{"--ram-role", "no spaces"}, nil, nil, exitConfig, "", `invalid --ram-role "no spaces"`},
		{"bad sts scheme", []string{"--sts-scheme", "ftp"}, nil, nil, exitConfig, "", `invalid --sts-scheme "ftp": want https or http`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := md
			if tc.meta != nil {
				tc.meta(&m)
			}
			f.md.Set(m)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			f.api.ResetCalls()
			args := append([]string{"discover"}, f.args(tc.args...)...)
			args[2] = noKeys
			code, out, errs := execute(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tc.code, out, errs)
			}
			if tc.code == exitOK {
				if out != "172.16.0.2\n172.16.0.3\n" {
					t.Errorf("stdout %q", out)
				}
				calls := f.api.Calls()
				if last := calls[len(calls)-1]; last.Action != ecstest.ActionDescribeInstances || last.Params.Get("AccessKeyId") != tc.signer {
					t.Errorf("last call %s signed by %q, want DescribeInstances by %q", last.Action, last.Params.Get("AccessKeyId"), tc.signer)
				}
				return
			}
			if !strings.Contains(errs, tc.want) || !strings.HasPrefix(lastLine(errs), "joinhintd: ") {
				t.Errorf("stderr %q, want a last line naming %q", errs, tc.want)
			}
			if tc.code == exitConfig && f.api.CallCount(ecstest.ActionDescribeInstances) != 0 {
				t.Error("a configuration error still called the API")
			}
			for _, c := range []ecstest.Credential{credFlagEnv, credFlagAlicloud, credFlagRole, credFlagAssumed} {
				if strings.Contains(out+errs, c.AccessKeySecret) || (c.SecurityToken != "" && strings.Contains(out+errs, c.SecurityToken)) {
					t.Errorf("output holds a secret of %s: %s", c.AccessKeyID, errs)
				}
			}
		})
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestRunRefetchesRAMRoleCredentials: in run, the ECS RAM role's credential
// is fetched again before it expires and the next refresh signs with the new
// one, through --metadata-endpoint.
func TestRunRefetchesRAMRoleCredentials(t *testing.T) {
	fleet := []ecstest.Instance{node(1, "Running", cluster1)}
	md := ecstest.SampleMetadata("cn-hangzhou")
	md.InstanceID = fleet[0].ID
	// It expires within the 3-minute refresh margin: every refresh asks the
	// metadata service again, and signs with what it answers.
	first := credFlagRole
	first.Expires = time.Now().Add(2 * time.Minute)
	md.RoleCredential = first
	f := newFakes(t, fleet, md)
	f.api.AddCredential(first)
	args := f.args("--credential-source", "ram-role", "--refresh-interval", "200ms")
	args[1] = "provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1"
	d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0"}, args...)...)
	waitFor(t, "the first peer set", 5*time.Second, func() bool { return d.metric(t, "joinhintd_peers") == "1" })

	second := ecstest.Credential{AccessKeyID: "STS.flagrole2", AccessKeySecret: "flag-role-secret-35", SecurityToken: "flag-role-token-35", Expires: time.Now().Add(time.Hour)}
	f.api.AddCredential(second)
	f.md.SetRoleCredential(second)
	f.api.RemoveCredential(first.AccessKeyID) // the old one no longer works
	before := d.metric(t, `joinhintd_ecs_requests_total{action="DescribeInstances",code="Success"}`)
	waitFor(t, "a refresh signed with the new credential", 5*time.Second, func() bool {
		calls := f.api.Calls()
		return len(calls) > 0 && calls[len(calls)-1].Params.Get("AccessKeyId") == second.AccessKeyID &&
			d.metric(t, `joinhintd_ecs_requests_total{action="DescribeInstances",code="Success"}`) != before
	})
	if got := d.metric(t, `joinhintd_refresh_failures_total{reason="auth"}`); got != "0" {
		t.Errorf("%s auth failures across the rotation, want 0", got)
	}
	for _, l := range d.stderr.logLines(t) {
		if l["msg"] == "starting" && l["credential_source"] != "ram-role" {
			t.Errorf("start log credential_source %v", l["credential_source"])
		}
	}
}
