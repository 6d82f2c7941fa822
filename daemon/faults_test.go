package daemon_test

// The fault-injection suite: the real refresh loop, the real aliyun
// discoverer and SDK, and the fake ECS API misbehaving, on a fake clock so
// a minute of backoff takes milliseconds. Each case asserts what a user
// sees: the peers served, readiness, the metrics and the logs.

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/joinhintd/joinhintd/aliyun"
	"github.com/joinhintd/joinhintd/aliyun/ecstest"
	"github.com/joinhintd/joinhintd/daemon"
	"github.com/joinhintd/joinhintd/metrics"
)

// fakeClock is the loop's clock: After registers a wake-up, and the test
// moves time to the earliest one when the loop waits.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	added   chan struct{}
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC), added: make(chan struct{}, 1)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	c.mu.Unlock()
	select {
	case c.added <- struct{}{}:
	default:
	}
	return ch
}

// idle waits (in real time) until the loop waits on the clock: its refresh
// is over and recorded.
func (c *fakeClock) idle(t *testing.T) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		select {
		case <-c.added:
		case <-deadline:
			t.Fatal("the loop never waited")
		}
	}
}

// next waits until the loop waits, then moves time to its wake-up and
// fires it. It returns the time moved.
func (c *fakeClock) next(t *testing.T) time.Duration {
	t.Helper()
	c.idle(t)
	c.mu.Lock()
	w := c.waiters[0]
	c.waiters = c.waiters[1:]
	d := w.at.Sub(c.now)
	if d > 0 {
		c.now = w.at
	}
	now := c.now
	c.mu.Unlock()
	w.ch <- now
	return d
}

// harness runs the loop against a fake region until the test ends.
type harness struct {
	srv     *ecstest.Server
	clock   *fakeClock
	store   *daemon.Store
	reg     *prometheus.Registry
	logs    *observer.ObservedLogs
	handler http.Handler
}

const (
	interval = 30 * time.Second
	maxStale = 45 * time.Second
)

func fleet() []ecstest.Instance {
	var out []ecstest.Instance
	for _, n := range []string{"1", "2", "3"} {
		out = append(out, ecstest.Instance{ID: "i-bp1node0000" + n, Name: "vault-" + n, Status: "Running",
			PrivateIPs: []string{"172.16.1.1" + n}, Tags: []ecstest.Tag{{Key: "vault", Value: "cluster1"}}})
	}
	return out
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	h := &harness{srv: ecstest.NewServer(ecstest.WithInstances(fleet())), clock: newFakeClock(), store: &daemon.Store{}, reg: prometheus.NewRegistry()}
	t.Cleanup(h.srv.Close)
	m, err := metrics.New(h.reg, metrics.BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	h.logs = logs
	log := zap.New(core)
	disc, err := aliyun.NewDiscoverer(aliyun.Config{
		Region: "cn-hangzhou", Tags: []aliyun.Tag{{Key: "vault", Value: "cluster1"}}, AddrType: aliyun.AddrPrivateV4,
		Endpoint: h.srv.Host, EndpointScheme: "http", Network: "public", MetadataEndpoint: "http://127.0.0.1:1",
		AccessKeyID: ecstest.DefaultAccessKeyID, AccessKeySecret: ecstest.DefaultAccessKeySecret,
		ConnectTimeout: time.Second, ReadTimeout: 300 * time.Millisecond,
	}, "", log.Named("aliyun"), m)
	if err != nil {
		t.Fatal(err)
	}
	h.handler = daemon.NewHandler(daemon.ServerOptions{Store: h.store, MaxStale: maxStale, Log: log.Named("http"), Now: h.clock.Now,
		Metrics: promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{})})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = daemon.RunLoop(ctx, daemon.LoopOptions{Discoverer: disc, Store: h.store, Region: "cn-hangzhou", Interval: interval,
			Timeout: 5 * time.Second, Observer: m, Log: log.Named("refresh"), Now: h.clock.Now, After: h.clock.After,
			// Real jitter, but seeded: a case sees the same delays every run.
			Rand: rand.New(rand.NewPCG(uint64(len(t.Name())), 7)).Float64})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	h.clock.idle(t) // the first refresh is done when the loop first waits
	if s := h.store.Load(); s == nil || len(s.Peers) != 3 {
		t.Fatalf("first refresh: %+v", s)
	}
	return h
}

// runFor lets fake time pass and returns the DescribeInstances calls made.
func (h *harness) runFor(t *testing.T, d time.Duration) int {
	t.Helper()
	before := h.srv.CallCount(ecstest.ActionDescribeInstances)
	for elapsed := time.Duration(0); elapsed < d; {
		elapsed += h.clock.next(t)
	}
	h.clock.idle(t)
	return h.srv.CallCount(ecstest.ActionDescribeInstances) - before
}

func (h *harness) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.Bytes()
}

// metric returns the value of a counter or gauge with the given labels.
func (h *harness) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

type servedDoc struct {
	Revision  uint64 `json:"revision"`
	UpdatedAt string `json:"updated_at"`
	Stale     bool   `json:"stale"`
	Peers     []struct {
		Address string `json:"address"`
	} `json:"peers"`
}

func (h *harness) served(t *testing.T) servedDoc {
	t.Helper()
	code, body := h.get(t, "/v1/peers")
	var doc servedDoc
	if err := json.Unmarshal(body, &doc); code != http.StatusOK || err != nil {
		t.Fatalf("/v1/peers: %d %s", code, body)
	}
	return doc
}

func TestFaultsKeepServingAndRecover(t *testing.T) {
	defaultKey := ecstest.Credential{AccessKeyID: ecstest.DefaultAccessKeyID, AccessKeySecret: ecstest.DefaultAccessKeySecret}
	tests := []struct {
		name     string
		fault    ecstest.Fault
		break_   func(*ecstest.Server) // instead of a fault
		mend     func(*ecstest.Server)
		reason   string
		code     string // joinhintd_ecs_requests_total{code}
		maxCalls int    // DescribeInstances calls in one minute of the fault (3: at the ±10% jittered interval)
	}{
		{name: "throttling storm", fault: ecstest.Fault{Kind: ecstest.FaultThrottling}, reason: "throttled", code: "Throttling.User", maxCalls: 14},
		{name: "503", fault: ecstest.Fault{Kind: ecstest.FaultServiceUnavailable}, reason: "server", code: "ServiceUnavailable", maxCalls: 14},
		{name: "500", fault: ecstest.Fault{Kind: ecstest.FaultInternalError}, reason: "server", code: "InternalError", maxCalls: 14},
		{name: "malformed JSON", fault: ecstest.Fault{Kind: ecstest.FaultMalformedBody}, reason: "server", code: "decode", maxCalls: 14},
		{name: "truncated body", fault: ecstest.Fault{Kind: ecstest.FaultTruncatedBody}, reason: "network", code: "transport", maxCalls: 14},
		{name: "slower than the timeout", fault: ecstest.Fault{Kind: ecstest.FaultDelay, Delay: 3 * time.Second}, reason: "network", code: "transport", maxCalls: 14},
		{name: "connection reset", fault: ecstest.Fault{Kind: ecstest.FaultReset}, reason: "network", code: "transport", maxCalls: 14},
		{name: "auth: key deleted", break_: func(s *ecstest.Server) { s.RemoveCredential(defaultKey.AccessKeyID) },
			mend: func(s *ecstest.Server) { s.AddCredential(defaultKey) }, reason: "auth", code: "InvalidAccessKeyId.NotFound", maxCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			good := h.served(t)
			if tt.break_ != nil {
				tt.break_(h.srv)
			} else {
				f := tt.fault
				f.Times = -1
				h.srv.Inject(f)
			}
			// The first failure comes one interval after the good refresh;
			// then a minute of fault.
			h.runFor(t, interval)
			calls := h.runFor(t, time.Minute)
			if calls > tt.maxCalls || calls < 1 {
				t.Errorf("%d calls in a minute of %s, want 1 to %d", calls, tt.name, tt.maxCalls)
			}
			doc := h.served(t)
			if doc.Revision != good.Revision || len(doc.Peers) != 3 || doc.UpdatedAt != good.UpdatedAt {
				t.Errorf("the served set changed during the fault: %+v", doc)
			}
			if !doc.Stale {
				t.Error("not stale after 90s without success (max-stale 45s)")
			}
			if code, _ := h.get(t, "/-/ready"); code != http.StatusServiceUnavailable {
				t.Errorf("/-/ready %d during the fault, want 503", code)
			}
			failures := h.metric(t, "joinhintd_refresh_failures_total", map[string]string{"reason": tt.reason})
			if failures < 2 {
				t.Errorf("refresh_failures_total{reason=%q} = %v", tt.reason, failures)
			}
			if got := h.metric(t, "joinhintd_ecs_requests_total", map[string]string{"action": "DescribeInstances", "code": tt.code}); got != failures {
				t.Errorf("ecs_requests_total{code=%q} = %v, want %v (one per failed refresh)", tt.code, got, failures)
			}
			warns := h.logs.FilterMessage("refresh failed").FilterField(zap.String("reason", tt.reason)).FilterField(zap.String("code", tt.code)).All()
			if len(warns) == 0 || warns[0].Level != zapcore.WarnLevel {
				t.Fatalf("no warn log with reason %s and code %s", tt.reason, tt.code)
			}
			if tt.reason == "auth" && len(warns) != 1 {
				t.Errorf("auth error warned %d times, want once", len(warns))
			}

			// Recovery: the fault goes away, the next refresh serves again.
			if tt.mend != nil {
				tt.mend(h.srv)
			} else {
				h.srv.ClearFaults()
			}
			h.srv.PutInstance(ecstest.Instance{ID: "i-bp1node00004", Name: "vault-4", Status: "Running",
				PrivateIPs: []string{"172.16.1.14"}, Tags: []ecstest.Tag{{Key: "vault", Value: "cluster1"}}})
			h.runFor(t, interval)
			doc = h.served(t)
			if doc.Stale || len(doc.Peers) != 4 || doc.Revision != good.Revision+1 {
				t.Errorf("after recovery: %+v", doc)
			}
			if code, _ := h.get(t, "/-/ready"); code != http.StatusOK {
				t.Errorf("/-/ready %d after recovery", code)
			}
			if h.logs.FilterMessage("refresh recovered").Len() != 1 {
				t.Error("no recovery log")
			}
		})
	}
}
