package ecstest

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

const helperEnv = "ECSTEST_HELPER_ECS_HOST"

// TestSDKRamRoleThroughMetadata runs the SDK's own ECS RAM role provider
// against the fake metadata service and uses the role credential on the fake
// ECS API. The SDK hard-codes http://100.100.100.200, so a child process is
// started with HTTP_PROXY pointing at the fake (which serves proxy-form
// requests) and NO_PROXY=127.0.0.1 for the ECS fake; a fresh process is needed
// because net/http reads the proxy environment only once.
func TestSDKRamRoleThroughMetadata(t *testing.T) {
	role := Credential{AccessKeyID: "STS.roleKey", AccessKeySecret: "role-secret", SecurityToken: "role-token"}
	for _, tc := range []struct {
		name          string
		required      bool
		refused       bool
		wantTokenGETs bool
	}{
		{"hardened only", true, false, true},
		{"old service without tokens", false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, WithCredential(role), WithInstances(SampleFleet("cn-hangzhou")))
			md := SampleMetadata("cn-hangzhou")
			md.RoleCredential = role
			md.TokenRequired, md.TokenRefused = tc.required, tc.refused
			m := startMetadata(t, md)
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRamRoleProcess$", "-test.v", "-test.count=1")
			cmd.Env = append(proxyFreeEnv(),
				helperEnv+"="+s.Host,
				"HTTP_PROXY="+m.URL, "http_proxy="+m.URL,
				"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1",
			)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestHelperRamRoleProcess") {
				t.Fatalf("helper process: %v\n%s", err, out)
			}
			reqs := m.Requests()
			var gets int
			for _, r := range reqs {
				if r.Method == "GET" {
					gets++
					if r.HadToken != tc.wantTokenGETs {
						t.Errorf("GET %s HadToken=%v", r.Path, r.HadToken)
					}
				}
			}
			if gets == 0 {
				t.Errorf("no metadata GETs: %+v", reqs)
			}
			calls := s.Calls()
			if len(calls) != 1 || calls[0].Code != "Success" || calls[0].Params.Get("SecurityToken") != role.SecurityToken {
				t.Errorf("ECS calls %+v", calls)
			}
		})
	}
}

// proxyFreeEnv is the environment without any proxy settings.
func proxyFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.EqualFold(name, "HTTP_PROXY") && !strings.EqualFold(name, "HTTPS_PROXY") &&
			!strings.EqualFold(name, "NO_PROXY") && !strings.EqualFold(name, "ALL_PROXY") {
			env = append(env, kv)
		}
	}
	return env
}

// TestHelperRamRoleProcess is the child of TestSDKRamRoleThroughMetadata; it
// skips unless started by it.
func TestHelperRamRoleProcess(t *testing.T) {
	host := os.Getenv(helperEnv)
	if host == "" {
		t.Skip("runs only as the child of TestSDKRamRoleThroughMetadata")
	}
	// Never let the SDK reach the real metadata address: insist that it goes
	// to the loopback proxy.
	req, _ := http.NewRequest("GET", "http://100.100.100.200/latest/meta-data/", nil)
	proxy, err := http.ProxyFromEnvironment(req)
	if err != nil || proxy == nil || !strings.HasPrefix(proxy.Host, "127.0.0.1:") {
		t.Fatalf("metadata requests would not go to the loopback fake: %v %v", proxy, err)
	}
	c, err := sdk.NewClientWithOptions("cn-hangzhou", sdk.NewConfig(), credentials.NewEcsRamRoleCredential(SampleRoleName))
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = host
	dreq := ecs.CreateDescribeInstancesRequest()
	dreq.Scheme = "http"
	dreq.Status = StatusRunning
	dreq.Tag = &[]ecs.DescribeInstancesTag{{Key: SampleTagKey, Value: SampleTagValue}}
	resp := ecs.CreateDescribeInstancesResponse()
	if err := c.DoAction(dreq, resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Instances.Instance) != SampleNodes {
		t.Fatalf("got %d instances", len(resp.Instances.Instance))
	}
}
