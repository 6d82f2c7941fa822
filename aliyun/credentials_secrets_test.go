package aliyun

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

// Secrets only the failure cases below hand out.
const (
	docSecret     = "doc-secret-0020"
	docToken      = "doc-token-0020"
	metadataToken = "metadata-session-token-0021"
	wrongOIDC     = "wrong-oidc-jwt-0022"
)

// tokenMetadata is a metadata service on loopback that hands out the known
// session token metadataToken, so a test can look for it, and answers the
// role document with status and body.
func tokenMetadata(t *testing.T, tokenStatus, status int, body string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/latest/api/token":
			w.WriteHeader(tokenStatus)
			_, _ = io.WriteString(w, metadataToken)
		case r.URL.Path == "/latest/meta-data/ram/security-credentials/":
			_, _ = io.WriteString(w, ecstest.SampleRoleName)
		case status != http.StatusOK:
			// Echo the token back, as a confused proxy might.
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body+" "+r.Header.Get("X-aliyun-ecs-metadata-token"))
		default:
			_, _ = io.WriteString(w, body)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// TestNoSecretInCredentialErrorsOrLogs drives every credential failure
// through Discover with debug logging and checks that no secret, STS token,
// OIDC token or metadata token appears in the error chain or the logs.
func TestNoSecretInCredentialErrorsOrLogs(t *testing.T) {
	isolate(t)
	fullDoc := `{"Code":"Success","AccessKeyId":"STS.doc","AccessKeySecret":"` + docSecret + `","SecurityToken":"` + docToken + `","Expiration":"2030-01-01T00:00:00Z"}`
	secrets := append(allSecrets(), docSecret, docToken, metadataToken, wrongOIDC)
	for _, tc := range []struct {
		name string
		prep func(t *testing.T, f *credFixture, o *CredentialOptions)
	}{
		{"role document with HTTP 500", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			o.MetadataEndpoint = tokenMetadata(t, 200, 500, fullDoc)
		}},
		{"role document not JSON", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			o.MetadataEndpoint = tokenMetadata(t, 200, 200, "AccessKeySecret="+docSecret)
		}},
		{"role document Code Failed", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			o.MetadataEndpoint = tokenMetadata(t, 200, 200, strings.Replace(fullDoc, `"Success"`, `"Failed"`, 1))
		}},
		{"role document without Expiration", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			o.MetadataEndpoint = tokenMetadata(t, 200, 200, strings.Replace(fullDoc, `"Expiration"`, `"Expires"`, 1))
		}},
		{"metadata token refused by reads", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			o.MetadataEndpoint = tokenMetadata(t, 200, 401, "Unauthorized")
		}},
		{"metadata token refused, hardened", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			o.MetadataEndpoint = tokenMetadata(t, 403, 200, fullDoc)
			o.MetadataHardened = true
		}},
		{"AssumeRole signed with a wrong secret and an STS token", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			o.Getenv = envOf(map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": credEnvSTS.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credStatic.AccessKeySecret,
				"ALIBABA_CLOUD_SECURITY_TOKEN": credEnvSTS.SecurityToken, "ALIBABA_CLOUD_ROLE_ARN": testRoleArn})
		}},
		{"AssumeRole of an unknown role", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			o.Getenv = envOf(map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": credEnvSTS.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": credEnvSTS.AccessKeySecret,
				"ALIBABA_CLOUD_SECURITY_TOKEN": credEnvSTS.SecurityToken, "ALIBABA_CLOUD_ROLE_ARN": testRoleArn + "-gone"})
		}},
		{"AssumeRole over a failing RAM role", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			o.Getenv = envOf(map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testRoleArn})
			o.MetadataEndpoint = tokenMetadata(t, 200, 500, fullDoc)
		}},
		{"OIDC with a wrong token", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			path := writeFile(t, filepath.Join(f.dir, "token"), wrongOIDC)
			o.Getenv = envOf(map[string]string{"ALIBABA_CLOUD_ROLE_ARN": testOIDCRoleArn,
				"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": testOIDCProvider, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": path})
		}},
		{"CLI config that is not JSON", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			writeFile(t, filepath.Join(f.dir, ".aliyun", "config.json"), `{"profiles": [{"access_key_secret": "`+docSecret+`"`)
			t.Setenv("HOME", f.dir)
			t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "")
			o.Getenv = nil
		}},
		{"credentials file with a broken line", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			path := writeFile(t, filepath.Join(f.dir, "creds.ini"), "[default]\ntype = access_key\naccess_key_id = LTAIx\n"+docSecret+"\n")
			t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", path)
			o.Getenv = nil
		}},
		{"credentials URI with HTTP 500", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(500)
				_, _ = io.WriteString(w, fullDoc)
			}))
			t.Cleanup(s.Close)
			o.Getenv = envOf(map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": s.URL + "/?token=" + docToken})
		}},
		{"credentials URI without Expiration", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, strings.Replace(fullDoc, `"Expiration"`, `"Expires"`, 1))
			}))
			t.Cleanup(s.Close)
			o.Getenv = envOf(map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": s.URL + "/?token=" + docToken})
		}},
		{"credentials URI unreachable", func(t *testing.T, f *credFixture, o *CredentialOptions) {
			s := httptest.NewServer(http.NotFoundHandler())
			s.Close()
			o.Getenv = envOf(map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": s.URL + "/?token=" + docToken})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCredFixture(t, nil)
			core, logs := observer.New(zapcore.DebugLevel)
			log := zap.New(core)
			o := f.options(t, map[string]string{})
			o.Log = log
			tc.prep(t, f, &o)
			p, source, err := NewCredentialsProvider(o)
			if err != nil {
				t.Fatalf("NewCredentialsProvider: %v", err)
			}
			cfg := testConfig(f.api)
			cfg.AccessKeyID, cfg.AccessKeySecret = "", ""
			d, err := NewDiscovererWithCredentials(cfg, "", log, nil, p, source)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Discover(t.Context())
			if err == nil {
				t.Fatal("Discover succeeded")
			}
			var texts []string
			for e := err; e != nil; e = errors.Unwrap(e) {
				texts = append(texts, e.Error(), fmt.Sprintf("%+v", e))
			}
			for _, entry := range logs.All() {
				texts = append(texts, entry.Message, fmt.Sprint(entry.ContextMap()))
			}
			for _, text := range texts {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%q holds the secret %q", text, s)
					}
				}
			}
			t.Logf("error: %v", err)
		})
	}
}
