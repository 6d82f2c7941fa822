package metrics

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newTestMetrics(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg, BuildInfo{Version: "1.2.3", Revision: "abc123", GoVersion: "go1.26.8"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, reg
}

func TestNewLintClean(t *testing.T) {
	m, reg := newTestMetrics(t)
	// Give every vector a child so the linter sees all series shapes.
	m.ObserveAPIRequest("DescribeInstances", "Success", 40*time.Millisecond)
	m.ObserveRefresh(time.Second)
	m.RefreshSucceeded(time.Unix(1, 0), 1, true)

	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatalf("GatherAndLint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestNewRegistersEverything(t *testing.T) {
	_, reg := newTestMetrics(t)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
	}
	// Vectors without children are not exposed until first use, so only the
	// series that exist from the start are expected here.
	for _, name := range []string{
		"joinhintd_refresh_duration_seconds",
		"joinhintd_refresh_failures_total",
		"joinhintd_last_refresh_success_timestamp_seconds",
		"joinhintd_peers",
		"joinhintd_peer_set_changes_total",
		"joinhintd_build_info",
		"go_goroutines",
		"process_start_time_seconds",
	} {
		t.Run(name, func(t *testing.T) {
			if !got[name] {
				t.Errorf("%s not gathered", name)
			}
		})
	}
}

func TestNewTwiceOnOneRegistryFails(t *testing.T) {
	_, reg := newTestMetrics(t)
	if _, err := New(reg, BuildInfo{}); err == nil {
		t.Fatal("second New on the same registry succeeded, want a duplicate registration error")
	}
}

func TestBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		bi   BuildInfo
		want string
	}{
		{
			name: "given",
			bi:   BuildInfo{Version: "1.2.3", Revision: "abc123", GoVersion: "go1.26.8"},
			want: `joinhintd_build_info{goversion="go1.26.8",revision="abc123",version="1.2.3"} 1`,
		},
		{
			name: "defaults",
			bi:   BuildInfo{},
			want: `joinhintd_build_info{goversion="` + runtime.Version() + `",revision="unknown",version="unknown"} 1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			if _, err := New(reg, tt.bi); err != nil {
				t.Fatalf("New: %v", err)
			}
			want := `# HELP joinhintd_build_info Always 1; the labels tell the joinhintd version, VCS revision and Go version of this build.
# TYPE joinhintd_build_info gauge
` + tt.want + "\n"
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "joinhintd_build_info"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestObserveAPIRequest(t *testing.T) {
	m, _ := newTestMetrics(t)
	m.ObserveAPIRequest("DescribeInstances", "Success", 20*time.Millisecond)
	m.ObserveAPIRequest("DescribeInstances", "Success", 3*time.Second)
	m.ObserveAPIRequest("DescribeInstances", "Throttling.User", 7*time.Millisecond)
	m.ObserveAPIRequest("DescribeRegions", "transport", 31*time.Second)

	counts := []struct {
		action, code string
		want         float64
	}{
		{"DescribeInstances", "Success", 2},
		{"DescribeInstances", "Throttling.User", 1},
		{"DescribeRegions", "transport", 1},
		{"DescribeRegions", "Success", 0},
	}
	for _, c := range counts {
		t.Run("count/"+c.action+"/"+c.code, func(t *testing.T) {
			if got := testutil.ToFloat64(m.ecsRequests.WithLabelValues(c.action, c.code)); got != c.want {
				t.Errorf("joinhintd_ecs_requests_total{action=%q,code=%q} = %v, want %v", c.action, c.code, got, c.want)
			}
		})
	}

	t.Run("duration", func(t *testing.T) {
		want := `# HELP joinhintd_ecs_request_duration_seconds Time taken by one ECS API call, successful or not, including the SDK's network time, by API action.
# TYPE joinhintd_ecs_request_duration_seconds histogram
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="0.005"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="0.01"} 1
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="0.025"} 2
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="0.05"} 2
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="0.1"} 2
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="0.25"} 2
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="0.5"} 2
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="1"} 2
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="2.5"} 2
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="5"} 3
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="10"} 3
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="30"} 3
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeInstances",le="+Inf"} 3
joinhintd_ecs_request_duration_seconds_sum{action="DescribeInstances"} 3.027
joinhintd_ecs_request_duration_seconds_count{action="DescribeInstances"} 3
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="0.005"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="0.01"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="0.025"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="0.05"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="0.1"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="0.25"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="0.5"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="1"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="2.5"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="5"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="10"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="30"} 0
joinhintd_ecs_request_duration_seconds_bucket{action="DescribeRegions",le="+Inf"} 1
joinhintd_ecs_request_duration_seconds_sum{action="DescribeRegions"} 31
joinhintd_ecs_request_duration_seconds_count{action="DescribeRegions"} 1
`
		if err := testutil.CollectAndCompare(m.ecsRequestDuration, strings.NewReader(want)); err != nil {
			t.Error(err)
		}
	})
}

func TestObserveRefresh(t *testing.T) {
	m, _ := newTestMetrics(t)
	m.ObserveRefresh(300 * time.Millisecond)
	m.ObserveRefresh(90 * time.Second)

	want := `# HELP joinhintd_refresh_duration_seconds Time taken by one peer-set refresh (all DescribeInstances pages), successful or not.
# TYPE joinhintd_refresh_duration_seconds histogram
joinhintd_refresh_duration_seconds_bucket{le="0.01"} 0
joinhintd_refresh_duration_seconds_bucket{le="0.025"} 0
joinhintd_refresh_duration_seconds_bucket{le="0.05"} 0
joinhintd_refresh_duration_seconds_bucket{le="0.1"} 0
joinhintd_refresh_duration_seconds_bucket{le="0.25"} 0
joinhintd_refresh_duration_seconds_bucket{le="0.5"} 1
joinhintd_refresh_duration_seconds_bucket{le="1"} 1
joinhintd_refresh_duration_seconds_bucket{le="2.5"} 1
joinhintd_refresh_duration_seconds_bucket{le="5"} 1
joinhintd_refresh_duration_seconds_bucket{le="10"} 1
joinhintd_refresh_duration_seconds_bucket{le="30"} 1
joinhintd_refresh_duration_seconds_bucket{le="60"} 1
joinhintd_refresh_duration_seconds_bucket{le="120"} 2
joinhintd_refresh_duration_seconds_bucket{le="+Inf"} 2
joinhintd_refresh_duration_seconds_sum 90.3
joinhintd_refresh_duration_seconds_count 2
`
	if err := testutil.CollectAndCompare(m.refreshDuration, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestRefreshFailed(t *testing.T) {
	tests := []struct {
		name    string
		reasons []string
		want    map[string]float64
	}{
		{
			name: "none yet: every reason exported at zero",
			want: map[string]float64{"throttled": 0, "auth": 0, "server": 0, "network": 0, "other": 0},
		},
		{
			name:    "each reason counted",
			reasons: []string{"throttled", "throttled", "auth", "server", "network", "other"},
			want:    map[string]float64{"throttled": 2, "auth": 1, "server": 1, "network": 1, "other": 1},
		},
		{
			name:    "unknown reason counted as other",
			reasons: []string{"cosmic-ray", "", "other"},
			want:    map[string]float64{"throttled": 0, "auth": 0, "server": 0, "network": 0, "other": 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestMetrics(t)
			for _, r := range tt.reasons {
				m.RefreshFailed(r)
			}
			if got := testutil.CollectAndCount(m.refreshFailures); got != len(FailureReasons()) {
				t.Errorf("%d reason series, want exactly %d", got, len(FailureReasons()))
			}
			for reason, want := range tt.want {
				if got := testutil.ToFloat64(m.refreshFailures.WithLabelValues(reason)); got != want {
					t.Errorf("joinhintd_refresh_failures_total{reason=%q} = %v, want %v", reason, got, want)
				}
			}
		})
	}
}

func TestRefreshSucceeded(t *testing.T) {
	type call struct {
		at      time.Time
		peers   int
		changed bool
	}
	tests := []struct {
		name        string
		calls       []call
		wantTS      float64
		wantPeers   float64
		wantChanges float64
	}{
		{name: "never", wantTS: 0, wantPeers: 0, wantChanges: 0},
		{
			name:   "first set",
			calls:  []call{{time.Unix(1_800_000_000, 500_000_000), 3, true}},
			wantTS: 1_800_000_000.5, wantPeers: 3, wantChanges: 1,
		},
		{
			name: "unchanged refresh moves the timestamp only",
			calls: []call{
				{time.Unix(1_800_000_000, 0), 3, true},
				{time.Unix(1_800_000_030, 0), 3, false},
			},
			wantTS: 1_800_000_030, wantPeers: 3, wantChanges: 1,
		},
		{
			name: "peer lost",
			calls: []call{
				{time.Unix(1_800_000_000, 0), 3, true},
				{time.Unix(1_800_000_030, 0), 2, true},
			},
			wantTS: 1_800_000_030, wantPeers: 2, wantChanges: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestMetrics(t)
			for _, c := range tt.calls {
				m.RefreshSucceeded(c.at, c.peers, c.changed)
			}
			for _, g := range []struct {
				name string
				c    prometheus.Collector
				want float64
			}{
				{"joinhintd_last_refresh_success_timestamp_seconds", m.lastRefreshSuccess, tt.wantTS},
				{"joinhintd_peers", m.peers, tt.wantPeers},
				{"joinhintd_peer_set_changes_total", m.peerSetChanges, tt.wantChanges},
			} {
				if got := testutil.ToFloat64(g.c); got != g.want {
					t.Errorf("%s = %v, want %v", g.name, got, g.want)
				}
			}
		})
	}
}

func TestNilMetricsIsNoOp(t *testing.T) {
	var m *Metrics
	tests := []struct {
		name string
		call func()
	}{
		{"ObserveAPIRequest", func() { m.ObserveAPIRequest("DescribeInstances", "Success", time.Second) }},
		{"ObserveRefresh", func() { m.ObserveRefresh(time.Second) }},
		{"RefreshFailed", func() { m.RefreshFailed(ReasonAuth) }},
		{"RefreshSucceeded", func() { m.RefreshSucceeded(time.Now(), 1, true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.call() // must not panic
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	m, reg := newTestMetrics(t)
	const workers, each = 8, 100
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for range each {
				m.ObserveAPIRequest("DescribeInstances", "Success", time.Millisecond)
				m.ObserveRefresh(time.Millisecond)
				m.RefreshFailed(ReasonNetwork)
				m.RefreshSucceeded(time.Now(), 3, true)
			}
		}()
	}
	for range workers {
		<-done
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if got := testutil.ToFloat64(m.refreshFailures.WithLabelValues(ReasonNetwork)); got != workers*each {
		t.Errorf("network failures = %v, want %d", got, workers*each)
	}
	if got := testutil.ToFloat64(m.peerSetChanges); got != workers*each {
		t.Errorf("peer set changes = %v, want %d", got, workers*each)
	}
}

func TestTagQueryCapped(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg, BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	m.TagQueryCapped()
	m.TagQueryCapped()
	if got := testutil.ToFloat64(m.tagQueryCapped); got != 2 {
		t.Errorf("joinhintd_tag_query_capped_total = %v, want 2", got)
	}
	var nilM *Metrics
	nilM.TagQueryCapped()
}
