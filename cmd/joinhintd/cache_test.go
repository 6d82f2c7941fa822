package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
	"github.com/joinhintd/joinhintd/daemon"
)

// cacheFleet is three running cluster1 nodes and a decoy.
func cacheFleet() []ecstest.Instance {
	return []ecstest.Instance{node(1, "Running", cluster1), node(2, "Running", cluster1), node(3, "Running", cluster1), node(4, "Running")}
}

// runUntilCached runs the daemon with --cache-file until the cache holds the
// fleet's three nodes, then stops it.
func runUntilCached(t *testing.T, f *fakes, path string, extra ...string) {
	t.Helper()
	d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0", "--cache-file", path}, f.args(extra...)...)...)
	waitFor(t, "the cache file", 5*time.Second, func() bool { _, err := os.Stat(path); return err == nil })
	if doc := d.peers(t); len(doc.Peers) != 3 || doc.Source != "ecs" {
		t.Fatalf("live set: %+v", doc)
	}
	if code := d.stop(t); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v, want 0600", fi.Mode().Perm())
	}
}

// freeAddr is a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRestartWithAPIDownServesCache: a node that reboots while the ECS API
// fails serves its last good peer set at once, marked cache and stale and
// not ready, and switches to the live set when the API is back.
func TestRestartWithAPIDownServesCache(t *testing.T) {
	f := newFakes(t, cacheFleet(), ecstest.Metadata{InstanceID: "i-bp1vault00001"})
	path := filepath.Join(t.TempDir(), "peers.cache")
	runUntilCached(t, f, path)

	// The API is down: every call fails until the fault is cleared.
	f.api.Inject(ecstest.Fault{Kind: ecstest.FaultServiceUnavailable, Times: -1})
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	start := time.Now()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"run", "--listen", addr, "--cache-file", path, "--refresh-interval", "300ms"}, f.args()...), &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	}()
	var served time.Duration
	var body string
	for {
		resp, err := http.Get("http://" + addr + "/v1/peers?format=text")
		if err == nil {
			b := make([]byte, 4096)
			n, _ := resp.Body.Read(b)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("first answer: %d %s", resp.StatusCode, b[:n])
			}
			served, body = time.Since(start), string(b[:n])
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("never served: %s", stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("cached peers served %v after start", served)
	if served > 100*time.Millisecond {
		t.Errorf("cached peers served %v after start, want within 100ms", served)
	}
	if body != "172.16.0.2\n172.16.0.3\n172.16.0.4\n" {
		t.Errorf("cached text %q", body)
	}
	d := &daemonRun{base: "http://" + addr, stderr: &stderr}
	doc := d.peers(t)
	if doc.Source != "cache" || !doc.Stale || doc.Revision != 1 || len(doc.Peers) != 3 || !doc.Peers[0].Self {
		t.Errorf("cached document: %+v", doc)
	}
	if code, _ := d.get(t, "/-/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/-/ready %d while serving only the cache, want 503", code)
	}
	if code, body := d.get(t, "/v1/retry-join"); code != http.StatusOK || strings.Count(body, "retry_join {") != 2 {
		t.Errorf("/v1/retry-join from the cache: %d %q", code, body)
	}
	waitFor(t, "a failed refresh", 5*time.Second, func() bool { return d.metric(t, `joinhintd_refresh_failures_total{reason="server"}`) != "0" })
	if doc := d.peers(t); doc.Source != "cache" || len(doc.Peers) != 3 {
		t.Errorf("after failed refreshes: %+v", doc)
	}

	// The API is back: the live set replaces the cached one, same revision.
	f.api.ClearFaults()
	waitFor(t, "a live refresh", 5*time.Second, func() bool { return d.peers(t).Source == "ecs" })
	if doc := d.peers(t); doc.Stale || doc.Revision != 1 || len(doc.Peers) != 3 {
		t.Errorf("live document after the cache: %+v", doc)
	}
	if code, _ := d.get(t, "/-/ready"); code != http.StatusOK {
		t.Errorf("/-/ready %d after a live refresh", code)
	}
	logs := stderr.String()
	if !strings.Contains(logs, "serving the cached peer set until a live refresh succeeds") {
		t.Errorf("no log of the cache load: %s", logs)
	}
}

// TestBadCacheIsIgnored: a damaged, truncated, foreign-region or foreign-tag
// cache file is a warning: the daemon starts, serves nothing until a live
// refresh, and overwrites the file with the live set.
func TestBadCacheIsIgnored(t *testing.T) {
	f := newFakes(t, cacheFleet(), ecstest.Metadata{})
	good := filepath.Join(t.TempDir(), "peers.cache")
	runUntilCached(t, f, good)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// Peers for the foreign settings, so their live sets are not empty.
	beijing := node(7, "Running", cluster1)
	beijing.RegionID = "cn-beijing"
	f.api.PutInstance(beijing)
	f.api.PutInstance(node(8, "Running", ecstest.Tag{Key: "vault", Value: "cluster2"}))
	for _, tc := range []struct {
		name  string
		bytes []byte
		args  []string // run flags beyond the fakes'
		want  string   // in the warning
	}{
		{"truncated", data[:len(data)/2], nil, "invalid cache file"},
		{"flipped byte", []byte(strings.Replace(string(data), "172.16.0.3", "172.16.0.9", 1)), nil, "invalid cache file"},
		{"not json", []byte("garbage\n"), nil, "invalid cache file"},
		{"empty", nil, nil, "invalid cache file"},
		{"foreign region", data, []string{"--region", "cn-beijing"}, "another cluster"},
		{"foreign tag", data, []string{"--tag", "vault=cluster2"}, "another cluster"},
		{"foreign vpc", data, []string{"--vpc-id", "vpc-bp1main"}, "another cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "peers.cache")
			if err := os.WriteFile(path, tc.bytes, 0o600); err != nil {
				t.Fatal(err)
			}
			// Every call fails, so anything served would come from the file.
			f.api.Inject(ecstest.Fault{Kind: ecstest.FaultServiceUnavailable, Times: -1})
			defer f.api.ClearFaults()
			d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0", "--cache-file", path}, f.args(tc.args...)...)...)
			if code, body := d.get(t, "/v1/peers"); code != http.StatusServiceUnavailable {
				t.Errorf("/v1/peers %d %s, want 503: a bad cache is never served", code, body)
			}
			var warned bool
			for _, l := range d.stderr.logLines(t) {
				if l["msg"] == "cache file ignored; waiting for a live refresh" && l["level"] == "warn" && strings.Contains(l["error"].(string), tc.want) {
					warned = true
				}
			}
			if !warned {
				t.Errorf("no warning naming %q: %s", tc.want, d.stderr.String())
			}
			f.api.ClearFaults()
			waitFor(t, "a live refresh", 5*time.Second, func() bool { code, _ := d.get(t, "/v1/peers"); return code == http.StatusOK })
			waitFor(t, "the file rewritten", 5*time.Second, func() bool {
				b, _ := os.ReadFile(path)
				return strings.Contains(string(b), `"sha256"`) && string(b) != string(tc.bytes)
			})
		})
	}
}

func TestCacheFileFlag(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	getenv := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name, flag string
		env        map[string]string
		want       string // "" none
		err        string
	}{
		{"off by default", "", nil, "", ""},
		{"systemd StateDirectory", "", map[string]string{"STATE_DIRECTORY": dir}, filepath.Join(dir, "peers.cache"), ""},
		{"first of several", "", map[string]string{"STATE_DIRECTORY": dir + ":/elsewhere"}, filepath.Join(dir, "peers.cache"), ""},
		{"off under systemd", "off", map[string]string{"STATE_DIRECTORY": dir}, "", ""},
		{"explicit", filepath.Join(dir, "x.cache"), nil, filepath.Join(dir, "x.cache"), ""},
		{"missing directory", filepath.Join(dir, "nope", "x.cache"), nil, "", "invalid --cache-file " + filepath.Join(dir, "nope", "x.cache") + ": its directory " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"a directory", dir, nil, "", "invalid --cache-file " + dir + ": a directory"},
		{"StateDirectory missing", "", map[string]string{"STATE_DIRECTORY": filepath.Join(dir, "gone")}, "", "its directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cachePath(tc.flag, getenv(tc.env))
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case got != tc.want:
				t.Fatalf("path %q, want %q", got, tc.want)
			}
		})
	}

	// Through the command: exit 2, one line, nothing started.
	f := newFakes(t, cacheFleet(), ecstest.Metadata{})
	code, _, stderr := execute(t, append([]string{"run", "--listen", "127.0.0.1:0", "--cache-file", filepath.Join(dir, "nope", "x")}, f.args()...)...)
	if code != exitConfig || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "joinhintd: invalid --cache-file") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if n := f.api.CallCount(ecstest.ActionDescribeInstances); n != 0 {
		t.Errorf("%d API calls before the bad flag was refused", n)
	}

	// Under systemd without the flag, run writes $STATE_DIRECTORY/peers.cache.
	t.Setenv("STATE_DIRECTORY", dir)
	d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0"}, f.args()...)...)
	waitFor(t, "the default cache file", 5*time.Second, func() bool { _, err := os.Stat(filepath.Join(dir, "peers.cache")); return err == nil })
	d.stop(t)
}

// TestEmptySetIsNotCached: an empty answer (as a caller that lost
// ecs:DescribeInstances gets) never replaces the cached set with peers.
func TestEmptySetIsNotCached(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers.cache")
	key := daemon.CacheKey{Region: "cn-hangzhou", Filter: "f"}
	pc := &peerCache{path: path, key: key, render: daemon.RenderOptions{VaultScheme: "https", VaultPort: 8200}, log: zaptest.NewLogger(t)}
	now := time.Now()
	full, _, err := daemon.NewSnapshot(nil, []daemon.Peer{{InstanceID: "i-1", Address: "172.16.0.2", PrivateIPv4: "172.16.0.2"}}, "cn-hangzhou", daemon.SourceECS, now, pc.render)
	if err != nil {
		t.Fatal(err)
	}
	pc.published(full, true)
	empty, changed, err := daemon.NewSnapshot(full, nil, "cn-hangzhou", daemon.SourceECS, now.Add(time.Second), pc.render)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	pc.published(empty, true)
	got, err := daemon.LoadCache(path, key, pc.render)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Peers) != 1 || got.Revision != 1 {
		t.Errorf("cache after an empty set: revision %d, %d peers; want the set with peers", got.Revision, len(got.Peers))
	}
}
