package ecstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// startServer starts a Server closed at the end of the test.
func startServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// defaultCred is the credential NewServer registers by default.
func defaultCred() auth.Credential {
	return credentials.NewAccessKeyCredential(DefaultAccessKeyID, DefaultAccessKeySecret)
}

// newClient returns a real SDK client aimed at s, with its own transport.
func newClient(t *testing.T, s *Server, cred auth.Credential, cfgs ...func(*sdk.Config)) *sdk.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	cfg := sdk.NewConfig().WithHttpTransport(tr)
	for _, f := range cfgs {
		f(cfg)
	}
	c, err := sdk.NewClientWithOptions("cn-hangzhou", cfg, cred)
	if err != nil {
		t.Fatalf("NewClientWithOptions: %v", err)
	}
	c.Domain = s.Host
	return c
}

// ecsRequest is the typed request the tests edit.
type ecsRequest = ecs.DescribeInstancesRequest

// describe sends one DescribeInstances through the SDK, with the request
// edited by mod.
func describe(c *sdk.Client, mod func(*ecs.DescribeInstancesRequest)) (*ecs.DescribeInstancesResponse, error) {
	req := ecs.CreateDescribeInstancesRequest()
	req.Scheme = "http"
	req.RegionId = "cn-hangzhou"
	if mod != nil {
		mod(req)
	}
	resp := ecs.CreateDescribeInstancesResponse()
	err := c.DoAction(req, resp)
	return resp, err
}

// serverError unwraps an SDK ServerError or fails.
func serverError(t *testing.T, err error) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want *errors.ServerError, got %T: %v", err, err)
	}
	return se
}

// wantCode checks that err is a ServerError with code and HTTP status.
func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	}
	se := serverError(t, err)
	if se.ErrorCode() != code || se.HttpStatus() != status {
		t.Fatalf("got %s (%d), want %s (%d); message %q", se.ErrorCode(), se.HttpStatus(), code, status, se.Message())
	}
	if se.RequestId() == "" || se.HostId() == "" || se.Recommend() == "" {
		t.Errorf("error body lacks RequestId/HostId/Recommend: %q %q %q", se.RequestId(), se.HostId(), se.Recommend())
	}
}

// ids lists the instance ids of a response, in order.
func ids(resp *ecs.DescribeInstancesResponse) []string {
	out := []string{}
	for _, in := range resp.Instances.Instance {
		out = append(out, in.InstanceId)
	}
	return out
}

// signedParams returns the common parameters of a DescribeInstances request
// by the default credential at now, unsigned.
func signedParams(now time.Time, nonce string) url.Values {
	return url.Values{
		"AccessKeyId":      {DefaultAccessKeyID},
		"Action":           {ActionDescribeInstances},
		"Format":           {"JSON"},
		"RegionId":         {"cn-hangzhou"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {nonce},
		"SignatureType":    {""},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {now.UTC().Format(timestampLayout)},
		"Version":          {APIVersion},
	}
}

// rawResult is a hand-made request's answer.
type rawResult struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// rawDo sends p (signed with secret unless sign is false) by method; with
// form, a POST carries the parameters in its body.
func rawDo(t *testing.T, s *Server, method string, p url.Values, secret string, sign, form bool) rawResult {
	t.Helper()
	p = cloneValues(p)
	if sign {
		p.Set("Signature", Sign(method, p, secret))
	}
	var req *http.Request
	var err error
	if form {
		req, err = http.NewRequest(method, s.URL+"/", strings.NewReader(p.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequest(method, s.URL+"/?"+p.Encode(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return doRaw(t, req)
}

func doRaw(t *testing.T, req *http.Request) rawResult {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := rawResult{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &res.body); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, b)
	}
	return res
}

func (r rawResult) code() string {
	if c, ok := r.body["Code"].(string); ok {
		return c
	}
	if _, ok := r.body["Instances"]; ok {
		return "Success"
	}
	return fmt.Sprintf("no code in %s", r.raw)
}

// fleetOf returns n running vpc instances i-0000..., tagged vault=cluster1.
func fleetOf(n int) []Instance {
	out := make([]Instance, n)
	for i := range out {
		out[i] = Instance{
			ID:         fmt.Sprintf("i-%04d", i),
			Name:       fmt.Sprintf("node-%d", i),
			RegionID:   "cn-hangzhou",
			ZoneID:     "cn-hangzhou-h",
			VpcID:      "vpc-1",
			PrivateIPs: []string{fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)},
			Tags:       []Tag{{"vault", "cluster1"}},
		}
	}
	return out
}
