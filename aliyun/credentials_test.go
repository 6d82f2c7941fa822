package aliyun

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"go.uber.org/zap/zaptest"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
	"github.com/joinhintd/joinhintd/daemon"
)

// isolate keeps every credential source on this machine (noCloud) and
// clears the other variables NewCredentialsProvider reads. Tests that need
// the environment inject Getenv, or set it here with t.Setenv.
func isolate(t *testing.T) {
	t.Helper()
	noCloud(t)
	for _, v := range []string{"ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_ACCESS_KEY_STS_TOKEN",
		"ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_ECS_METADATA", "ALIBABA_CLOUD_IMDSV1_DISABLED",
		"ALIBABA_CLOUD_ROLE_SESSION_NAME", "ALIBABA_CLOUD_STS_REGION", "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"} {
		t.Setenv(v, "")
	}
}

// envOf is a Getenv that sees only m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// fakeClock is a settable clock shared by the provider and the fakes.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Identities the fixture's fake API knows.
var (
	credStatic      = ecstest.Credential{AccessKeyID: "LTAIstatic", AccessKeySecret: "static-secret-0001"}
	credEnv         = ecstest.Credential{AccessKeyID: "LTAIenv", AccessKeySecret: "env-secret-0002"}
	credEnvSTS      = ecstest.Credential{AccessKeyID: "STS.env", AccessKeySecret: "env-sts-secret-0003", SecurityToken: "env-sts-token-0003"}
	credAlicloud    = ecstest.Credential{AccessKeyID: "LTAIalicloud", AccessKeySecret: "alicloud-secret-0004"}
	credAlicloudSTS = ecstest.Credential{AccessKeyID: "STS.alicloud", AccessKeySecret: "alicloud-sts-secret-0005", SecurityToken: "alicloud-sts-token-0005"}
	credCLI         = ecstest.Credential{AccessKeyID: "LTAIcli", AccessKeySecret: "cli-secret-0006"}
	credFile        = ecstest.Credential{AccessKeyID: "LTAIfile", AccessKeySecret: "file-secret-0007"}
	credRole        = ecstest.Credential{AccessKeyID: "STS.role", AccessKeySecret: "role-secret-0008", SecurityToken: "role-token-0008"}
	credAssumed     = ecstest.Credential{AccessKeyID: "STS.assumed", AccessKeySecret: "assumed-secret-0009", SecurityToken: "assumed-token-0009"}
	credOIDC        = ecstest.Credential{AccessKeyID: "STS.oidc", AccessKeySecret: "oidc-secret-0010", SecurityToken: "oidc-token-0010"}
	credURI         = ecstest.Credential{AccessKeyID: "STS.uri", AccessKeySecret: "uri-secret-0011", SecurityToken: "uri-token-0011"}
)

const (
	testRoleArn      = "acs:ram::1234567890123456:role/joinhintd-peers"
	testOIDCRoleArn  = "acs:ram::1234567890123456:role/joinhintd-rrsa"
	testOIDCProvider = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1"
	testOIDCToken    = "eyJhbGciOiJSUzI1NiJ9.oidc-jwt-0012.sig"
)

// allSecrets are every secret and token the tests hand out.
func allSecrets() []string {
	var out []string
	for _, c := range []ecstest.Credential{credStatic, credEnv, credEnvSTS, credAlicloud, credAlicloudSTS, credCLI, credFile, credRole, credAssumed, credOIDC, credURI} {
		out = append(out, c.AccessKeySecret)
		if c.SecurityToken != "" {
			out = append(out, c.SecurityToken)
		}
	}
	return append(out, testOIDCToken)
}

// credFixture is a fake ECS and STS API that knows every identity above and
// both roles, and a fake metadata service with credRole attached.
type credFixture struct {
	api *ecstest.Server
	md  *ecstest.MetadataServer
	dir string
}

func newCredFixture(t *testing.T, clk *fakeClock) *credFixture {
	t.Helper()
	opts := []ecstest.Option{ecstest.WithInstances([]ecstest.Instance{node(1, cluster1), node(2, cluster1)})}
	var mdOpts []ecstest.MetadataOption
	if clk != nil {
		opts = append(opts, ecstest.WithClock(clk.Now))
		mdOpts = append(mdOpts, ecstest.WithMetadataClock(clk.Now))
	}
	for _, c := range []ecstest.Credential{credStatic, credEnv, credEnvSTS, credAlicloud, credAlicloudSTS, credCLI, credFile, credRole, credURI} {
		opts = append(opts, ecstest.WithCredential(c))
	}
	api := ecstest.NewServer(opts...)
	t.Cleanup(api.Close)
	api.AddRole(testRoleArn, func() ecstest.Credential { return credAssumed })
	api.AddRole(testOIDCRoleArn, func() ecstest.Credential { return credOIDC })
	api.AddOIDCProvider(testOIDCProvider, testOIDCToken)
	md := ecstest.SampleMetadata("cn-hangzhou")
	md.RoleCredential = credRole
	m := ecstest.NewMetadataServer(md, mdOpts...)
	t.Cleanup(m.Close)
	return &credFixture{api: api, md: m, dir: t.TempDir()}
}

// options are the fixture's endpoints with env as the environment.
func (f *credFixture) options(t *testing.T, env map[string]string) CredentialOptions {
	o := CredentialOptions{
		MetadataEndpoint: f.md.URL,
		STSEndpoint:      f.api.Host,
		STSScheme:        "http",
		Region:           "cn-hangzhou",
		Network:          "public",
		Log:              zaptest.NewLogger(t),
	}
	if env != nil {
		o.Getenv = envOf(env)
	}
	return o
}

// discover runs one Discover signed by p against the fixture's API.
func (f *credFixture) discover(t *testing.T, p credentials.CredentialsProvider, source string) ([]daemon.Peer, error) {
	t.Helper()
	cfg := testConfig(f.api)
	cfg.AccessKeyID, cfg.AccessKeySecret = "", ""
	d, err := NewDiscovererWithCredentials(cfg, "", zaptest.NewLogger(t), nil, p, source)
	if err != nil {
		t.Fatal(err)
	}
	if d.CredentialSource() != source {
		t.Errorf("CredentialSource %q, want %q", d.CredentialSource(), source)
	}
	return d.Discover(t.Context())
}

// calls returns the fixture API's calls of action.
func (f *credFixture) calls(action string) []ecstest.Call {
	var out []ecstest.Call
	for _, c := range f.api.Calls() {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func cliConfig(current string) string {
	return `{"current": "` + current + `", "profiles": [
  {"name": "default", "mode": "AK", "access_key_id": "LTAInobody", "access_key_secret": "nobody-secret"},
  {"name": "vault", "mode": "AK", "access_key_id": "` + credCLI.AccessKeyID + `", "access_key_secret": "` + credCLI.AccessKeySecret + `"}]}`
}

func iniFile(profile string, c ecstest.Credential) string {
	return "[" + profile + "]\ntype = access_key\naccess_key_id = " + c.AccessKeyID + "\naccess_key_secret = " + c.AccessKeySecret + "\n"
}

// uriServer serves c as ALIBABA_CLOUD_CREDENTIALS_URI does, on loopback.
func uriServer(t *testing.T, c ecstest.Credential, exp time.Time) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{
			"AccessKeyId": c.AccessKeyID, "AccessKeySecret": c.AccessKeySecret, "SecurityToken": c.SecurityToken,
			"Expiration": exp.UTC().Format("2006-01-02T15:04:05Z"),
		})
	}))
	t.Cleanup(s.Close)
	return s
}

// TestCredentialSourcesEndToEnd runs one Discover through the real SDK with
// each source, and checks which key and STS token signed it: the fake
// verifies signature and token.
func TestCredentialSourcesEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name       string
		prep       func(t *testing.T, f *credFixture) CredentialOptions
		wantSource string
		want       ecstest.Credential
		check      func(t *testing.T, f *credFixture)
	}{
		{"static", func(t *testing.T, f *credFixture) CredentialOptions {
			o := f.options(t, map[string]string{})
			o.AccessKeyID, o.AccessKeySecret = credStatic.AccessKeyID, credStatic.AccessKeySecret
			return o
		}, SourceStatic, credStatic, nil},
		{"env", func(t *testing.T, f *credFixture) CredentialOptions {
			return f.options(t, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": credEnv.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credEnv.AccessKeySecret})
		}, SourceEnv, credEnv, nil},
		{"env with STS token", func(t *testing.T, f *credFixture) CredentialOptions {
			return f.options(t, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": credEnvSTS.AccessKeyID,
				"ALIBABA_CLOUD_ACCESS_KEY_SECRET": credEnvSTS.AccessKeySecret, "ALIBABA_CLOUD_SECURITY_TOKEN": credEnvSTS.SecurityToken})
		}, SourceEnv, credEnvSTS, nil},
		{"ALICLOUD_*", func(t *testing.T, f *credFixture) CredentialOptions {
			return f.options(t, map[string]string{"ALICLOUD_ACCESS_KEY": credAlicloud.AccessKeyID, "ALICLOUD_SECRET_KEY": credAlicloud.AccessKeySecret})
		}, SourceAlicloudEnv, credAlicloud, nil},
		{"ALICLOUD_* with STS token", func(t *testing.T, f *credFixture) CredentialOptions {
			return f.options(t, map[string]string{"ALICLOUD_ACCESS_KEY": credAlicloudSTS.AccessKeyID,
				"ALICLOUD_SECRET_KEY": credAlicloudSTS.AccessKeySecret, "ALICLOUD_ACCESS_KEY_STS_TOKEN": credAlicloudSTS.SecurityToken})
		}, SourceAlicloudEnv, credAlicloudSTS, nil},
		{"CLI profile, current", func(t *testing.T, f *credFixture) CredentialOptions {
			// The SDK's provider reads HOME itself: set it for real.
			writeFile(t, filepath.Join(f.dir, ".aliyun", "config.json"), cliConfig("vault"))
			t.Setenv("HOME", f.dir)
			t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "")
			return f.options(t, nil)
		}, SourceProfile, credCLI, nil},
		{"CLI profile, ALIBABA_CLOUD_PROFILE", func(t *testing.T, f *credFixture) CredentialOptions {
			writeFile(t, filepath.Join(f.dir, ".aliyun", "config.json"), cliConfig("default"))
			t.Setenv("HOME", f.dir)
			t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "")
			t.Setenv("ALIBABA_CLOUD_PROFILE", "vault")
			return f.options(t, nil)
		}, SourceProfile, credCLI, nil},
		{"credentials file in HOME", func(t *testing.T, f *credFixture) CredentialOptions {
			writeFile(t, filepath.Join(f.dir, ".alibabacloud", "credentials"), iniFile("default", credFile))
			t.Setenv("HOME", f.dir)
			return f.options(t, nil)
		}, SourceProfile, credFile, nil},
		{"ALIBABA_CLOUD_CREDENTIALS_FILE", func(t *testing.T, f *credFixture) CredentialOptions {
			path := writeFile(t, filepath.Join(f.dir, "elsewhere.ini"), iniFile("default", credFile))
			t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", path)
			return f.options(t, nil)
		}, SourceProfile, credFile, nil},
		{"OIDC", func(t *testing.T, f *credFixture) CredentialOptions {
			path := writeFile(t, filepath.Join(f.dir, "token"), testOIDCToken+"\n")
			return f.options(t, map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testOIDCRoleArn,
				"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": testOIDCProvider, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": path})
		}, SourceOIDC, credOIDC, func(t *testing.T, f *credFixture) {
			c := f.calls(ecstest.ActionAssumeRoleWithOIDC)
			if len(c) != 1 || c[0].Params.Get("OIDCToken") != testOIDCToken || c[0].Params.Get("Signature") != "" ||
				c[0].Params.Get("RoleSessionName") != "joinhintd" || c[0].Params.Get("DurationSeconds") != "3600" {
				t.Errorf("AssumeRoleWithOIDC calls %+v", c)
			}
		}},
		{"credentials URI", func(t *testing.T, f *credFixture) CredentialOptions {
			s := uriServer(t, credURI, time.Now().Add(time.Hour))
			return f.options(t, map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": s.URL + "/creds"})
		}, SourceCredentialsURI, credURI, nil},
		{"ECS RAM role, attached", func(t *testing.T, f *credFixture) CredentialOptions {
			return f.options(t, map[string]string{})
		}, SourceRAMRole, credRole, func(t *testing.T, f *credFixture) {
			var listed bool
			for _, r := range f.md.Requests() {
				listed = listed || r.Path == "/latest/meta-data/ram/security-credentials/"
				if r.Method == "GET" && !r.HadToken {
					t.Errorf("GET %s without the session token", r.Path)
				}
			}
			if !listed {
				t.Error("the attached role was not asked for")
			}
		}},
		{"ECS RAM role, --ram-role", func(t *testing.T, f *credFixture) CredentialOptions {
			o := f.options(t, map[string]string{})
			o.Source, o.RAMRole = SourceRAMRole, ecstest.SampleRoleName
			return o
		}, SourceRAMRole, credRole, func(t *testing.T, f *credFixture) {
			for _, r := range f.md.Requests() {
				if r.Path == "/latest/meta-data/ram/security-credentials/" {
					t.Error("the role list was read although --ram-role named the role")
				}
			}
		}},
		{"env + ALIBABA_CLOUD_ROLE_ARN", func(t *testing.T, f *credFixture) CredentialOptions {
			return f.options(t, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": credEnv.AccessKeyID,
				"ALIBABA_CLOUD_ACCESS_KEY_SECRET": credEnv.AccessKeySecret, "ALIBABA_CLOUD_ROLE_ARN": testRoleArn,
				"ALIBABA_CLOUD_ROLE_SESSION_NAME": "vault-1"})
		}, SourceEnv + "+assume-role", credAssumed, func(t *testing.T, f *credFixture) {
			c := f.calls(ecstest.ActionAssumeRole)
			if len(c) != 1 || c[0].Code != "Success" || c[0].Params.Get("AccessKeyId") != credEnv.AccessKeyID ||
				c[0].Params.Get("RoleArn") != testRoleArn || c[0].Params.Get("RoleSessionName") != "vault-1" {
				t.Errorf("AssumeRole calls %+v", c)
			}
		}},
		{"ECS RAM role + ALIBABA_CLOUD_ROLE_ARN", func(t *testing.T, f *credFixture) CredentialOptions {
			return f.options(t, map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testRoleArn})
		}, SourceRAMRole + "+assume-role", credAssumed, func(t *testing.T, f *credFixture) {
			c := f.calls(ecstest.ActionAssumeRole)
			if len(c) != 1 || c[0].Params.Get("AccessKeyId") != credRole.AccessKeyID || c[0].Params.Get("SecurityToken") != credRole.SecurityToken {
				t.Errorf("AssumeRole was not signed with the role credential and its token: %+v", c)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			f := newCredFixture(t, nil)
			p, source, err := NewCredentialsProvider(tc.prep(t, f))
			if err != nil {
				t.Fatal(err)
			}
			if source != tc.wantSource {
				t.Errorf("source %q, want %q", source, tc.wantSource)
			}
			peers, err := f.discover(t, p, source)
			if err != nil || len(peers) != 2 {
				t.Fatalf("Discover: %d peers, %v", len(peers), err)
			}
			d := f.calls(ecstest.ActionDescribeInstances)
			got := d[len(d)-1]
			if got.Code != "Success" || got.Params.Get("AccessKeyId") != tc.want.AccessKeyID || got.Params.Get("SecurityToken") != tc.want.SecurityToken {
				t.Errorf("DescribeInstances signed by %s with token %q (%s), want %s with %q",
					got.Params.Get("AccessKeyId"), got.Params.Get("SecurityToken"), got.Code, tc.want.AccessKeyID, tc.want.SecurityToken)
			}
			if h := got.Header.Get("x-acs-credentials-provider"); h != source {
				t.Errorf("x-acs-credentials-provider %q", h)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

// TestCredentialPrecedence checks which source "auto" picks for
// combinations of inputs (and that forcing one overrides the order). No
// request is made: the choice is made at construction.
func TestCredentialPrecedence(t *testing.T) {
	isolate(t)
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".aliyun", "config.json"), cliConfig("vault"))
	emptyHome := t.TempDir()
	token := writeFile(t, filepath.Join(home, "token"), "jwt")
	credFileHome := t.TempDir()
	writeFile(t, filepath.Join(credFileHome, ".alibabacloud", "credentials"), iniFile("default", credFile))

	env := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"}
	alicloud := map[string]string{"ALICLOUD_ACCESS_KEY": "id", "ALICLOUD_SECRET_KEY": "s"}
	oidc := map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testOIDCRoleArn, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": testOIDCProvider, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": token}
	profile := map[string]string{"HOME": home}
	uri := map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": "http://127.0.0.1:1/creds"}
	roleArn := map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testRoleArn}
	with := func(ms ...map[string]string) map[string]string {
		out := map[string]string{"HOME": emptyHome}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		static bool
		source string
		env    map[string]string
		want   string
	}{
		{"nothing: the ECS RAM role", false, "", with(), SourceRAMRole},
		{"static beats everything", true, "", with(env, alicloud, oidc, profile, uri), SourceStatic},
		{"env beats ALICLOUD_*", false, "", with(env, alicloud, oidc, profile, uri), SourceEnv},
		{"ALICLOUD_* beats OIDC", false, "", with(alicloud, oidc, profile, uri), SourceAlicloudEnv},
		{"OIDC beats profiles", false, "", with(oidc, profile, uri), SourceOIDC},
		{"CLI profile beats the credentials URI", false, "", with(profile, uri), SourceProfile},
		{"credentials file", false, "", with(map[string]string{"HOME": credFileHome}), SourceProfile},
		{"CLI profile disabled", false, "", with(profile, map[string]string{"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "TRUE"}), SourceRAMRole},
		{"credentials URI beats the RAM role", false, "", with(uri), SourceCredentialsURI},
		{"ALIBABA_CLOUD_ROLE_ARN wraps static", true, "", with(roleArn), SourceStatic + "+assume-role"},
		{"ALIBABA_CLOUD_ROLE_ARN wraps env", false, "", with(env, roleArn), SourceEnv + "+assume-role"},
		{"ALIBABA_CLOUD_ROLE_ARN wraps the RAM role", false, "", with(roleArn), SourceRAMRole + "+assume-role"},
		{"OIDC is not wrapped", false, "", with(oidc), SourceOIDC},
		{"forced ram-role over env", false, SourceRAMRole, with(env), SourceRAMRole},
		{"forced env over static", true, SourceEnv, with(env), SourceEnv},
		{"forced alicloud-env over env", false, SourceAlicloudEnv, with(env, alicloud), SourceAlicloudEnv},
		{"forced profile", false, SourceProfile, with(env, profile), SourceProfile},
		{"forced oidc", false, SourceOIDC, with(env, oidc), SourceOIDC},
		{"forced credentials-uri", false, SourceCredentialsURI, with(env, uri), SourceCredentialsURI},
		{"forced static, wrapped", true, SourceStatic, with(env, roleArn), SourceStatic + "+assume-role"},
		{"explicit auto", false, SourceAuto, with(alicloud), SourceAlicloudEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := CredentialOptions{Source: tc.source, Getenv: envOf(tc.env), MetadataEndpoint: "http://127.0.0.1:1",
				STSEndpoint: "127.0.0.1:1", STSScheme: "http"}
			if tc.static {
				o.AccessKeyID, o.AccessKeySecret = "LTAIaj", "aj-secret"
			}
			_, got, err := NewCredentialsProvider(o)
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestCredentialConfigErrors checks the one-line errors for missing or
// half-given inputs.
func TestCredentialConfigErrors(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	token := writeFile(t, filepath.Join(dir, "token"), "jwt")
	for _, tc := range []struct {
		name   string
		source string
		env    map[string]string
		mod    func(*CredentialOptions)
		want   string
	}{
		{"unknown source", "vault", nil, nil,
			`invalid --credential-source "vault": want auto, static, env, alicloud-env, oidc, profile, credentials-uri, ram-role`},
		{"forced static", SourceStatic, nil, nil, "--credential-source static: access_key_id and access_key_secret are not in --auto-join"},
		{"forced env", SourceEnv, nil, nil, "--credential-source env: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set"},
		{"forced alicloud-env", SourceAlicloudEnv, nil, nil, "--credential-source alicloud-env: ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY are not set"},
		{"forced oidc", SourceOIDC, nil, nil,
			"--credential-source oidc: ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE are not set"},
		{"forced oidc, role only", SourceOIDC, map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testRoleArn}, nil,
			"--credential-source oidc: ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE are not set"},
		{"forced profile", SourceProfile, map[string]string{"HOME": dir}, nil,
			"--credential-source profile: no profile file: no " + filepath.Join(dir, ".aliyun", "config.json") + " nor " + filepath.Join(dir, ".alibabacloud", "credentials")},
		{"forced profile, no HOME", SourceProfile, nil, nil, "--credential-source profile: no profile file: HOME is not set"},
		{"forced credentials-uri", SourceCredentialsURI, nil, nil, "--credential-source credentials-uri: ALIBABA_CLOUD_CREDENTIALS_URI is not set"},
		{"auto with the RAM role off", "", map[string]string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}, nil, "no credentials: "},
		{"half env: id", "", map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "id"}, nil,
			"credentials: ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"},
		{"half env: secret", SourceEnv, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"}, nil,
			"--credential-source env: ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not"},
		{"env token without keys", "", map[string]string{"ALIBABA_CLOUD_SECURITY_TOKEN": "t"}, nil,
			"credentials: ALIBABA_CLOUD_SECURITY_TOKEN is set but ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not"},
		{"half ALICLOUD_*", "", map[string]string{"ALICLOUD_ACCESS_KEY": "id"}, nil,
			"credentials: ALICLOUD_ACCESS_KEY is set but ALICLOUD_SECRET_KEY is not"},
		{"half OIDC", "", map[string]string{"ALIBABA_CLOUD_OIDC_TOKEN_FILE": token}, nil,
			"credentials: OIDC needs ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE, but ALIBABA_CLOUD_ROLE_ARN and ALIBABA_CLOUD_OIDC_PROVIDER_ARN are not set"},
		{"OIDC token file missing", "", map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testOIDCRoleArn, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": testOIDCProvider,
			"ALIBABA_CLOUD_OIDC_TOKEN_FILE": filepath.Join(dir, "nope")}, nil, "credentials: ALIBABA_CLOUD_OIDC_TOKEN_FILE: stat "},
		{"credentials file missing", "", map[string]string{"ALIBABA_CLOUD_CREDENTIALS_FILE": filepath.Join(dir, "nope")}, nil,
			"credentials: ALIBABA_CLOUD_CREDENTIALS_FILE " + filepath.Join(dir, "nope") + " does not exist"},
		{"bad credentials URI", "", map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": "file:///etc/creds"}, nil,
			"credentials: invalid ALIBABA_CLOUD_CREDENTIALS_URI: want an http or https URL"},
		{"half static", SourceStatic, nil, func(o *CredentialOptions) { o.AccessKeyID = "id" }, "--credential-source static: --auto-join needs both"},
		{"bad --ram-role", SourceRAMRole, nil, func(o *CredentialOptions) { o.RAMRole = "a/b" }, `--credential-source ram-role: invalid --ram-role "a/b"`},
		{"bad metadata endpoint", SourceRAMRole, nil, func(o *CredentialOptions) { o.MetadataEndpoint = "100.100.100.200" }, "invalid --metadata-endpoint"},
		{"bad role ARN", "", map[string]string{"ALIBABA_CLOUD_ROLE_ARN": "vault"}, nil, `invalid ALIBABA_CLOUD_ROLE_ARN "vault": want acs:ram::ACCOUNT_ID:role/ROLE_NAME`},
		{"bad session name", "", map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testRoleArn, "ALIBABA_CLOUD_ROLE_SESSION_NAME": "a b"}, nil,
			`invalid ALIBABA_CLOUD_ROLE_SESSION_NAME "a b"`},
		{"bad STS scheme", "", map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testRoleArn}, func(o *CredentialOptions) { o.STSScheme = "ftp" }, `invalid --sts-scheme "ftp"`},
		{"bad STS endpoint", "", map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testRoleArn}, func(o *CredentialOptions) { o.STSEndpoint = "https://sts.aliyuncs.com" },
			`invalid --sts-endpoint "https://sts.aliyuncs.com"`},
		{"http STS off loopback", "", map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testRoleArn}, func(o *CredentialOptions) { o.STSEndpoint = "" },
			"--sts-scheme http would send credentials in clear text to sts.aliyuncs.com"},
		{"vpc STS without region", "", map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testRoleArn},
			func(o *CredentialOptions) { o.STSEndpoint, o.STSScheme, o.Network = "", "", "vpc" }, "--network vpc needs a region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env == nil {
				tc.env = map[string]string{}
			}
			o := CredentialOptions{Source: tc.source, Getenv: envOf(tc.env), MetadataEndpoint: "http://127.0.0.1:1",
				STSEndpoint: "127.0.0.1:1", STSScheme: "http"}
			if tc.mod != nil {
				tc.mod(&o)
			}
			p, _, err := NewCredentialsProvider(o)
			if err == nil || p != nil {
				t.Fatalf("no error (provider %v)", p)
			}
			if !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// TestSTSEndpointChoice checks the default STS endpoint and the scheme rule.
func TestSTSEndpointChoice(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		o                               CredentialOptions
		wantScheme, wantHost, wantError string
	}{
		{"public", CredentialOptions{Region: "cn-hangzhou", Network: "public"}, "https", "sts.aliyuncs.com", ""},
		{"no network", CredentialOptions{}, "https", "sts.aliyuncs.com", ""},
		{"vpc", CredentialOptions{Region: "cn-beijing", Network: "vpc"}, "https", "sts-vpc.cn-beijing.aliyuncs.com", ""},
		{"explicit wins over vpc", CredentialOptions{Region: "cn-beijing", Network: "vpc", STSEndpoint: "sts.cn-beijing.aliyuncs.com"}, "https", "sts.cn-beijing.aliyuncs.com", ""},
		{"http to loopback", CredentialOptions{STSEndpoint: "127.0.0.1:8080", STSScheme: "http"}, "http", "127.0.0.1:8080", ""},
		{"http to localhost", CredentialOptions{STSEndpoint: "localhost:8080", STSScheme: "http"}, "http", "localhost:8080", ""},
		{"http elsewhere refused", CredentialOptions{STSEndpoint: "sts.example.com", STSScheme: "http"}, "", "", "--insecure-endpoint"},
		{"http elsewhere allowed", CredentialOptions{STSEndpoint: "sts.example.com", STSScheme: "http", InsecureEndpoint: true}, "http", "sts.example.com", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newCredentialBuilder(tc.o).stsClient()
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("err %v, want %q", err, tc.wantError)
				}
				return
			}
			if err != nil || c.scheme != tc.wantScheme || c.host != tc.wantHost {
				t.Fatalf("got %v %v, want %s://%s", c, err, tc.wantScheme, tc.wantHost)
			}
		})
	}
}

func TestCredentialSourcesList(t *testing.T) {
	got := CredentialSources()
	if got[0] != SourceAuto || got[len(got)-1] != SourceRAMRole || len(got) != 8 {
		t.Fatalf("CredentialSources %v", got)
	}
	got[0] = "changed"
	if CredentialSources()[0] != SourceAuto {
		t.Fatal("CredentialSources shares its slice")
	}
}

// TestNewDiscovererUsesTheChain: the Config-only constructor takes the same
// "auto" chain, with the --auto-join keys first.
func TestNewDiscovererUsesTheChain(t *testing.T) {
	isolate(t)
	f := newCredFixture(t, nil)
	cfg := testConfig(f.api)
	cfg.AccessKeyID, cfg.AccessKeySecret = credStatic.AccessKeyID, credStatic.AccessKeySecret
	d, err := NewDiscoverer(cfg, "", zaptest.NewLogger(t), nil)
	if err != nil || d.CredentialSource() != SourceStatic {
		t.Fatalf("NewDiscoverer: %v, source %q", err, d.CredentialSource())
	}
	if _, err := NewDiscovererWithCredentials(cfg, "", zaptest.NewLogger(t), nil, nil, ""); err == nil {
		t.Error("a nil provider was accepted")
	}
	cfg.AccessKeyID, cfg.AccessKeySecret = "", ""
	if _, err := NewDiscoverer(cfg, "", zaptest.NewLogger(t), nil); err == nil || !strings.Contains(err.Error(), "no credentials") {
		// noCloud turns the RAM role off and leaves no other source.
		t.Fatalf("err %v", err)
	}
}
