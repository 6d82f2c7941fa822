package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

// syncBuffer is a bytes.Buffer safe for the daemon's goroutines to write
// while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logLines returns the JSON log lines written so far.
func (s *syncBuffer) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// isolate keeps every test off the real cloud: no metadata service, no
// profile files, no keys or settings from the developer's environment.
func isolate(t *testing.T) {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
	t.Setenv("HOME", t.TempDir())
	for _, v := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_ACCESS_KEY_STS_TOKEN",
		"ALICLOUD_REGION", "ALIBABA_CLOUD_REGION_ID", "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_ROLE_SESSION_NAME",
		"ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_CREDENTIALS_URI",
		"ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_ECS_METADATA",
		"ALIBABA_CLOUD_IMDSV1_DISABLED", "STATE_DIRECTORY"} {
		t.Setenv(v, "")
	}
	// No JOINHINTD_* setting of the developer's shell reaches a test.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, envPrefix+"_") {
			t.Setenv(k, "")
		}
	}
	// A safety net: a test that forgets --endpoint or --metadata-endpoint
	// reaches a closed loopback port, never the cloud.
	t.Setenv("JOINHINTD_ENDPOINT", "127.0.0.1:1")
	t.Setenv("JOINHINTD_ENDPOINT_SCHEME", "http")
	t.Setenv("JOINHINTD_METADATA_ENDPOINT", "http://127.0.0.1:1")
}

// fakes are a fake ECS region and metadata service on loopback.
type fakes struct {
	api *ecstest.Server
	md  *ecstest.MetadataServer
}

func newFakes(t *testing.T, fleet []ecstest.Instance, md ecstest.Metadata) *fakes {
	t.Helper()
	isolate(t)
	f := &fakes{api: ecstest.NewServer(ecstest.WithInstances(fleet)), md: ecstest.NewMetadataServer(md)}
	t.Cleanup(f.api.Close)
	t.Cleanup(f.md.Close)
	return f
}

// args are the flags that point a command at the fakes with static keys.
func (f *fakes) args(extra ...string) []string {
	return append([]string{
		"--auto-join", fmt.Sprintf("provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1 access_key_id=%s access_key_secret=%s",
			ecstest.DefaultAccessKeyID, ecstest.DefaultAccessKeySecret),
		"--endpoint", f.api.Host, "--endpoint-scheme", "http",
		"--metadata-endpoint", f.md.URL, "--log-format", "json",
	}, extra...)
}

func node(n int, status string, tags ...ecstest.Tag) ecstest.Instance {
	return ecstest.Instance{
		ID: fmt.Sprintf("i-bp1vault%05d", n), Name: fmt.Sprintf("vault-%d", n), HostName: fmt.Sprintf("vault-%d", n),
		RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-h", Status: status, VpcID: "vpc-bp1main",
		PrivateIPs: []string{fmt.Sprintf("172.16.%d.%d", n/200, n%200+1)}, Tags: tags,
	}
}

var cluster1 = ecstest.Tag{Key: "vault", Value: "cluster1"}

// execute runs the command to completion.
func execute(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb syncBuffer
	code = run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// daemonRun is a `joinhintd run` (or demo) started in-process.
type daemonRun struct {
	base   string
	stderr *syncBuffer
	stdout *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

// startDaemon runs the command until the test ends, and waits for its
// "starting" log to learn the listen address.
func startDaemon(t *testing.T, args ...string) *daemonRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemonRun{stderr: &syncBuffer{}, stdout: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() { d.done <- run(ctx, args, d.stdout, d.stderr) }()
	t.Cleanup(func() { d.stop(t) })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range d.stderr.logLines(t) {
			if l["msg"] == "starting" {
				d.base = "http://" + l["listen"].(string)
				return d
			}
		}
		select {
		case code := <-d.done:
			d.done <- code // for the cleanup's stop
			t.Fatalf("daemon exited with %d: %s", code, d.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("daemon did not start: %s", d.stderr.String())
	return nil
}

// stop cancels the daemon as SIGTERM does and returns its exit code.
func (d *daemonRun) stop(t *testing.T) int {
	t.Helper()
	d.cancel()
	select {
	case code, ok := <-d.done:
		if ok {
			close(d.done)
			if code != 0 {
				t.Errorf("daemon exited with %d", code)
			}
		}
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop")
		return -1
	}
}

// get fetches path and returns status and body.
func (d *daemonRun) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(d.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

type peersDoc struct {
	Revision uint64 `json:"revision"`
	Stale    bool   `json:"stale"`
	Source   string `json:"source"`
	Region   string `json:"region"`
	Peers    []struct {
		InstanceID string `json:"instance_id"`
		Address    string `json:"address"`
		Self       bool   `json:"self"`
	} `json:"peers"`
}

func (d *daemonRun) peers(t *testing.T) peersDoc {
	t.Helper()
	code, body := d.get(t, "/v1/peers")
	if code != http.StatusOK {
		t.Fatalf("/v1/peers: %d %s", code, body)
	}
	var doc peersDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("/v1/peers body %q: %v", body, err)
	}
	return doc
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metric returns the value of one exposition line, e.g.
// `joinhintd_refresh_failures_total{reason="server"}`.
func (d *daemonRun) metric(t *testing.T, series string) string {
	t.Helper()
	_, body := d.get(t, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}
