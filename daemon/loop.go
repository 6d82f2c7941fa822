package daemon

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"
)

// RefreshObserver records refresh outcomes. metrics.Metrics implements it.
type RefreshObserver interface {
	ObserveRefresh(d time.Duration)
	RefreshFailed(reason string)
	RefreshSucceeded(at time.Time, peers int, changed bool)
}

// LoopOptions configure RunLoop. Discoverer, Store, Interval and Log are
// required.
type LoopOptions struct {
	Discoverer Discoverer
	Store      *Store
	Region     string
	Render     RenderOptions
	Interval   time.Duration // between successful refreshes, jittered ±10%
	MinBackoff time.Duration // first retry delay after a retryable failure; 0: 1s
	Timeout    time.Duration // deadline of one refresh; 0: 1m
	Observer   RefreshObserver
	Log        *zap.Logger
	// Trigger, when it receives, starts a refresh at once (SIGHUP).
	Trigger <-chan struct{}
	// Rand returns a number in [0, 1) for jitter; nil: math/rand/v2.
	Rand func() float64
	// Now and After are the loop's clock; nil: time.Now and time.After.
	// Tests pass a fake clock to run minutes of backoff in milliseconds.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Published, when set, is called after each snapshot is published
	// (from the loop's goroutine), with changed true when the peer set
	// changed: where the cache file is written.
	Published func(snap *Snapshot, changed bool)
}

// RunLoop refreshes at once, then after each success waits the jittered
// interval; after a failure it keeps the published Snapshot and retries with
// exponential backoff and jitter (throttling, server and network errors) or
// at the interval (auth and other errors, which retrying fast cannot fix).
// It returns nil when ctx is done. Only RunLoop publishes to o.Store.
func RunLoop(ctx context.Context, o LoopOptions) error {
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	l := &loop{LoopOptions: o}
	for {
		wait := l.refresh(ctx)
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-o.After(wait):
		case <-o.Trigger:
			l.Log.Info("refresh requested")
		}
	}
}

// loop is RunLoop's state, owned by its goroutine.
type loop struct {
	LoopOptions
	failures int    // consecutive failed refreshes
	lastLog  string // the last failure logged at warn, to log repeats at debug
}

// refresh runs one discovery, publishes its result and returns how long to
// wait before the next one.
func (l *loop) refresh(ctx context.Context) time.Duration {
	start := l.Now()
	rctx, cancel := context.WithTimeout(ctx, l.Timeout)
	peers, err := l.Discoverer.Discover(rctx)
	cancel()
	if l.Observer != nil {
		l.Observer.ObserveRefresh(l.Now().Sub(start))
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0 // shutting down: not a failure
		}
		return l.failed(err)
	}
	now := l.Now()
	prev := l.Store.Load()
	snap, changed, err := NewSnapshot(prev, peers, l.Region, SourceECS, now, l.Render)
	if err != nil {
		// Rendering cannot fail for peers the discoverer built; if it
		// does, keep serving what we have.
		return l.failed(err)
	}
	l.Store.Publish(snap)
	if l.Published != nil {
		l.Published(snap, changed)
	}
	if l.failures > 0 {
		l.Log.Info("refresh recovered", zap.Int("failed_refreshes", l.failures))
	}
	l.failures, l.lastLog = 0, ""
	if l.Observer != nil {
		l.Observer.RefreshSucceeded(now, len(peers), changed)
	}
	if changed {
		var before []Peer
		if prev != nil {
			before = prev.Peers
		}
		added, removed := Diff(before, peers)
		l.Log.Info("peer set changed",
			zap.Uint64("revision", snap.Revision),
			zap.Int("peers", len(peers)),
			zap.Strings("added", describePeers(added)),
			zap.Strings("removed", describePeers(removed)))
	}
	return l.jitter(l.Interval)
}

// failed records a failed refresh and returns the retry delay.
func (l *loop) failed(err error) time.Duration {
	l.failures++
	reason := ReasonOf(err)
	if l.Observer != nil {
		l.Observer.RefreshFailed(string(reason))
	}
	var wait time.Duration
	switch reason {
	case ReasonThrottled, ReasonServer, ReasonNetwork:
		wait = l.backoff()
	default:
		wait = l.jitter(l.Interval)
	}
	fields := []zap.Field{
		zap.String("reason", string(reason)),
		zap.Duration("retry_in", wait.Round(time.Millisecond)),
		zap.Int("consecutive_failures", l.failures),
	}
	code := ""
	var d Detailed
	if errors.As(err, &d) {
		code = d.ErrorCode()
		fields = append(fields, zap.String("code", code), zap.String("request_id", d.RequestID()))
	}
	fields = append(fields, zap.Error(err))
	if snap := l.Store.Load(); snap != nil {
		fields = append(fields, zap.Uint64("serving_revision", snap.Revision))
	}
	// The same auth or configuration error every interval is one event,
	// not one per attempt: repeats go to debug.
	key := string(reason) + "/" + code
	if (reason == ReasonAuth || reason == ReasonOther) && key == l.lastLog {
		l.Log.Debug("refresh failed again", fields...)
	} else {
		l.Log.Warn("refresh failed", fields...)
	}
	l.lastLog = key
	return wait
}

// backoff is exponential with full jitter, from MinBackoff up to Interval:
// after the nth consecutive failure the delay is uniform in [MinBackoff,
// min(MinBackoff·2^n, Interval)]. Full jitter spreads the nodes of a cluster
// that were throttled together across the whole window; the MinBackoff floor
// keeps even an unlucky draw at one call a second at most. A retry never
// waits longer than a successful refresh would (an Interval below
// MinBackoff is both floor and ceiling).
func (l *loop) backoff() time.Duration {
	floor := min(l.MinBackoff, l.Interval)
	ceil := floor
	for i := 0; i < l.failures && ceil < l.Interval; i++ {
		ceil *= 2
	}
	ceil = min(ceil, l.Interval)
	return floor + time.Duration(l.Rand()*float64(ceil-floor))
}

// jitter spreads d by ±10%.
func (l *loop) jitter(d time.Duration) time.Duration {
	return d - d/10 + time.Duration(l.Rand()*float64(d/5))
}

// describePeers renders peers as "instance_id=address" for logs.
func describePeers(peers []Peer) []string {
	out := make([]string, len(peers))
	for i, p := range peers {
		out[i] = p.InstanceID + "=" + p.Address
	}
	return out
}
