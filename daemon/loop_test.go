package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// scriptedDiscoverer answers each Discover with the next scripted result;
// after the script it repeats the last one. It stands in for the aliyun
// package, whose own tests run the real SDK against the fake ECS API.
type scriptedDiscoverer struct {
	mu     sync.Mutex
	script []result
	calls  []time.Time
}

type result struct {
	peers []Peer
	err   error
}

func (d *scriptedDiscoverer) Discover(ctx context.Context) ([]Peer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, time.Now())
	r := d.script[0]
	if len(d.script) > 1 {
		d.script = d.script[1:]
	}
	return r.peers, r.err
}

func (d *scriptedDiscoverer) callTimes() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.calls...)
}

// reasonErr is a classified error as the aliyun package returns them.
type reasonErr struct {
	reason    Reason
	code, req string
}

func (e reasonErr) Error() string     { return "DescribeInstances: " + e.code }
func (e reasonErr) Reason() Reason    { return e.reason }
func (e reasonErr) ErrorCode() string { return e.code }
func (e reasonErr) RequestID() string { return e.req }

// countingObserver records RefreshObserver calls.
type countingObserver struct {
	mu        sync.Mutex
	failures  map[string]int
	successes int
	changes   int
	peers     int
}

func (o *countingObserver) ObserveRefresh(time.Duration) {}
func (o *countingObserver) RefreshFailed(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failures == nil {
		o.failures = map[string]int{}
	}
	o.failures[reason]++
}
func (o *countingObserver) RefreshSucceeded(_ time.Time, peers int, changed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.successes++
	o.peers = peers
	if changed {
		o.changes++
	}
}

func peersOf(ids ...string) []Peer {
	out := make([]Peer, len(ids))
	for i, id := range ids {
		out[i] = Peer{InstanceID: id, Address: "10.0.0." + fmt.Sprint(i+1)}
	}
	return out
}

// startLoop runs RunLoop in the synctest bubble with a fixed jitter source
// (0.5: no jitter), returning the store, the observed logs and a stop func.
func startLoop(t *testing.T, d Discoverer, interval time.Duration, obs RefreshObserver) (*Store, *observer.ObservedLogs, func()) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	store := &Store{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- RunLoop(ctx, LoopOptions{
			Discoverer: d, Store: store, Region: "cn-hangzhou", Interval: interval,
			Render:   RenderOptions{VaultScheme: "https", VaultPort: 8200},
			Observer: obs, Log: zap.New(core), Rand: func() float64 { return 0.5 },
		})
	}()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunLoop: %v", err)
		}
	}
	return store, logs, stop
}

func TestLoopRefreshesAtOnceThenEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &scriptedDiscoverer{script: []result{{peers: peersOf("i-1", "i-2")}}}
		obs := &countingObserver{}
		store, _, stop := startLoop(t, d, 30*time.Second, obs)
		start := time.Now()
		synctest.Wait()
		snap := store.Load()
		if snap == nil || len(snap.Peers) != 2 || snap.Revision != 1 || snap.Source != SourceECS {
			t.Fatalf("after the first refresh: %+v", snap)
		}
		time.Sleep(95 * time.Second)
		stop()
		calls := d.callTimes()
		if len(calls) != 4 { // t=0, 30, 60, 90
			t.Fatalf("%d refreshes in 95s at a 30s interval, want 4", len(calls))
		}
		for i, c := range calls {
			if got := c.Sub(start); got != time.Duration(i)*30*time.Second {
				t.Errorf("refresh %d at %v", i, got)
			}
		}
		if s := store.Load(); s.Revision != 1 || !s.UpdatedAt.Equal(calls[3].UTC()) {
			t.Errorf("unchanged refreshes: revision %d (want 1), updated_at %v (want %v)", s.Revision, s.UpdatedAt, calls[3])
		}
		if obs.successes != 4 || obs.changes != 1 {
			t.Errorf("observer: %d successes, %d changes; want 4 and 1", obs.successes, obs.changes)
		}
	})
}

func TestLoopRevisionAndChangeLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &scriptedDiscoverer{script: []result{
			{peers: peersOf("i-1", "i-2", "i-3")},
			{peers: peersOf("i-1", "i-2", "i-3")},
			{peers: []Peer{{InstanceID: "i-1", Address: "10.0.0.1"}, {InstanceID: "i-2", Address: "10.0.0.2"}, {InstanceID: "i-4", Address: "10.0.0.4"}}},
		}}
		store, logs, stop := startLoop(t, d, 10*time.Second, nil)
		synctest.Wait()
		first := store.Load()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if s := store.Load(); s.Revision != 1 || !s.ChangedAt.Equal(first.ChangedAt) {
			t.Fatalf("same set: revision %d changed_at %v", s.Revision, s.ChangedAt)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		stop()
		s := store.Load()
		if s.Revision != 2 || !s.ChangedAt.After(first.ChangedAt) {
			t.Fatalf("changed set: revision %d changed_at %v", s.Revision, s.ChangedAt)
		}
		changes := logs.FilterMessage("peer set changed").All()
		if len(changes) != 2 {
			t.Fatalf("%d change logs, want 2", len(changes))
		}
		last := changes[1].ContextMap()
		if fmt.Sprint(last["added"]) != "[i-4=10.0.0.4]" || fmt.Sprint(last["removed"]) != "[i-3=10.0.0.3]" || last["revision"] != uint64(2) {
			t.Errorf("change log fields: %v", last)
		}
		if changes[1].Level != zapcore.InfoLevel {
			t.Errorf("change logged at %v", changes[1].Level)
		}
	})
}

func TestLoopKeepsSnapshotOnFailureAndBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		throttled := reasonErr{reason: ReasonThrottled, code: "Throttling.User", req: "REQ-1"}
		script := []result{{peers: peersOf("i-1", "i-2")}}
		for range 40 {
			script = append(script, result{err: throttled})
		}
		script = append(script, result{peers: peersOf("i-1", "i-2", "i-3")})
		d := &scriptedDiscoverer{script: script}
		obs := &countingObserver{}
		store, logs, stop := startLoop(t, d, 30*time.Second, obs)
		synctest.Wait()
		good := store.Load()
		// First failure at t=30s; then a throttling storm for a minute.
		time.Sleep(90 * time.Second)
		synctest.Wait()
		if s := store.Load(); s != good {
			t.Fatalf("a failed refresh replaced the snapshot: %+v", s)
		}
		calls := d.callTimes()
		// Full jitter in [1s, 2s], [1s, 4s], ... [1s, 30s] with Rand 0.5.
		var gaps []time.Duration
		for i := 2; i < len(calls); i++ {
			gaps = append(gaps, calls[i].Sub(calls[i-1]))
		}
		want := []time.Duration{1500 * time.Millisecond, 2500 * time.Millisecond, 4500 * time.Millisecond, 8500 * time.Millisecond, 15500 * time.Millisecond, 15500 * time.Millisecond}
		for i, w := range want {
			if i >= len(gaps) || gaps[i] != w {
				t.Fatalf("retry gaps %v, want them to start %v", gaps, want)
			}
		}
		if n := len(calls) - 1; n >= 15 {
			t.Errorf("%d calls in a minute of throttling, want fewer than 15", n)
		}
		warns := logs.FilterMessage("refresh failed").All()
		if len(warns) == 0 || warns[0].ContextMap()["code"] != "Throttling.User" || warns[0].ContextMap()["request_id"] != "REQ-1" || warns[0].ContextMap()["reason"] != "throttled" {
			t.Fatalf("failure log: %v", warns)
		}
		if obs.failures["throttled"] != len(calls)-1 {
			t.Errorf("failures counted %v for %d failed calls", obs.failures, len(calls)-1)
		}
		stop()
	})
}

func TestLoopAuthErrorsRetryAtIntervalAndLogOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		auth := reasonErr{reason: ReasonAuth, code: "InvalidAccessKeyId.NotFound"}
		d := &scriptedDiscoverer{script: []result{{err: auth}}}
		_, logs, stop := startLoop(t, d, 30*time.Second, nil)
		time.Sleep(100 * time.Second)
		synctest.Wait()
		stop()
		if n := len(d.callTimes()); n != 4 {
			t.Errorf("%d calls in 100s of auth errors at a 30s interval, want 4", n)
		}
		if n := logs.FilterMessage("refresh failed").FilterField(zap.String("code", "InvalidAccessKeyId.NotFound")).Len(); n != 1 {
			t.Errorf("auth error warned %d times, want once", n)
		}
		if n := logs.FilterMessage("refresh failed again").Len(); n != 3 {
			t.Errorf("%d repeats at debug, want 3", n)
		}
	})
}

func TestLoopStopsOnCancelDuringDiscover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := blockingDiscoverer{}
		store, logs, stop := startLoop(t, block, time.Second, nil)
		synctest.Wait()
		stop() // returns only when RunLoop did
		if store.Load() != nil {
			t.Error("an abandoned refresh published")
		}
		if logs.FilterMessage("refresh failed").Len() != 0 {
			t.Error("shutdown logged as a failed refresh")
		}
	})
}

// blockingDiscoverer waits for its context.
type blockingDiscoverer struct{}

func (blockingDiscoverer) Discover(ctx context.Context) ([]Peer, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestLoopRefreshTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.DebugLevel)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go RunLoop(ctx, LoopOptions{Discoverer: blockingDiscoverer{}, Store: &Store{}, Interval: time.Minute,
			Timeout: 5 * time.Second, Log: zap.New(core), Rand: func() float64 { return 0.5 }})
		time.Sleep(6 * time.Second)
		synctest.Wait()
		e := logs.FilterMessage("refresh failed").All()
		if len(e) != 1 || e[0].ContextMap()["reason"] != "network" {
			t.Fatalf("a refresh past its deadline: %v", e)
		}
		cancel()
	})
}

func TestLoopTrigger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &scriptedDiscoverer{script: []result{{peers: peersOf("i-1")}}}
		trigger := make(chan struct{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			RunLoop(ctx, LoopOptions{Discoverer: d, Store: &Store{}, Interval: time.Hour, Log: zap.NewNop(), Trigger: trigger})
		}()
		synctest.Wait()
		trigger <- struct{}{}
		synctest.Wait()
		if n := len(d.callTimes()); n != 2 {
			t.Errorf("%d refreshes after one trigger, want 2", n)
		}
		cancel()
		<-done
	})
}

func TestReasonOf(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want Reason
	}{
		{fmt.Errorf("page 2: %w", reasonErr{reason: ReasonServer}), ReasonServer},
		{context.DeadlineExceeded, ReasonNetwork},
		{errors.New("boom"), ReasonOther},
	} {
		if got := ReasonOf(tt.err); got != tt.want {
			t.Errorf("ReasonOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestDiff(t *testing.T) {
	a := Peer{InstanceID: "i-a", Address: "1"}
	b := Peer{InstanceID: "i-b", Address: "2"}
	b2 := Peer{InstanceID: "i-b", Address: "3"}
	c := Peer{InstanceID: "i-c", Address: "4"}
	added, removed := Diff([]Peer{a, b}, []Peer{b2, c})
	if fmt.Sprint(added) != fmt.Sprint([]Peer{b2, c}) || fmt.Sprint(removed) != fmt.Sprint([]Peer{a, b}) {
		t.Errorf("Diff: added %v removed %v", added, removed)
	}
	added, removed = Diff(nil, nil)
	if added != nil || removed != nil {
		t.Errorf("Diff(nil, nil) = %v, %v", added, removed)
	}
}

// TestBackoffBounds: full jitter between 1s and a ceiling that doubles per
// failure up to the interval; never below 1s, never above the interval.
func TestBackoffBounds(t *testing.T) {
	for _, tc := range []struct {
		failures int
		rand     float64
		want     time.Duration
	}{
		{1, 0, time.Second}, {1, 0.999999, 2 * time.Second}, {2, 0.999999, 4 * time.Second},
		{3, 0.5, 4500 * time.Millisecond}, {5, 0.999999, 30 * time.Second}, {40, 0.999999, 30 * time.Second}, {40, 0, time.Second},
	} {
		l := &loop{LoopOptions: LoopOptions{MinBackoff: time.Second, Interval: 30 * time.Second, Rand: func() float64 { return tc.rand }}, failures: tc.failures}
		if got := l.backoff().Round(time.Millisecond); got != tc.want {
			t.Errorf("failure %d, rand %v: backoff %v, want %v", tc.failures, tc.rand, got, tc.want)
		}
	}
	// An interval shorter than the floor: a retry waits the interval.
	l := &loop{LoopOptions: LoopOptions{MinBackoff: time.Second, Interval: 200 * time.Millisecond, Rand: func() float64 { return 0.9 }}, failures: 3}
	if got := l.backoff(); got != 200*time.Millisecond {
		t.Errorf("backoff %v with a 200ms interval, want 200ms", got)
	}
}
