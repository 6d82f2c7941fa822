package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// Paths of the local HTTP API.
const (
	PathPeers     = "/v1/peers"
	PathRetryJoin = "/v1/retry-join"
	PathHealthy   = "/-/healthy"
	PathReady     = "/-/ready"
	PathMetrics   = "/metrics"
)

// ServerOptions configure the handler of the local HTTP API.
type ServerOptions struct {
	Store    *Store        // required; read on every request, never written
	MaxStale time.Duration // required, > 0: see the "stale" field and /-/ready
	Metrics  http.Handler  // served at /metrics; nil answers 404 there
	Log      *zap.Logger   // nil logs nothing
	Now      func() time.Time
	// MaxInFlight bounds the requests served at once; more are answered
	// 503 with Retry-After. 0 means DefaultMaxInFlight.
	MaxInFlight int
}

// DefaultMaxInFlight is the default of ServerOptions.MaxInFlight: far more
// than one Vault wrapper and a Prometheus scraper ever need.
const DefaultMaxInFlight = 64

// NewHandler returns the handler of the local HTTP API, as the design's
// "HTTP API (local)" section describes it:
//
//   - GET /v1/peers: the peers document; ?format=json (default), text or
//     go-discover.
//   - GET /v1/retry-join: retry_join stanzas; ?format=hcl (default) or json.
//   - GET /-/healthy: 200 "OK".
//   - GET /-/ready: 200 "OK", or 503 with the reason.
//   - /metrics: o.Metrics.
//
// Both /v1/ paths take no query parameter but format, given at most once: any
// other is a 400, so that a client asking for something this version does
// not know (say, a blocking query) is told instead of silently answered. The
// query of the other paths is ignored. A request for any other path is a
// 404, then a method other than GET and HEAD a 405; HEAD answers with the
// headers of the GET. Errors are JSON {"error": "..."}.
//
// The handler is safe for concurrent use. It reads the Store on each request
// and serves the Snapshot's pre-rendered bodies: one Load per request and no
// lock, so every answer comes whole from one Snapshot. Panics in a request
// are logged and answered 500. NewHandler panics if o.Store is nil or
// o.MaxStale not positive.
func NewHandler(o ServerOptions) http.Handler {
	if o.Store == nil {
		panic("daemon.NewHandler: nil Store")
	}
	if o.MaxStale <= 0 {
		panic("daemon.NewHandler: MaxStale must be positive")
	}
	h := &handler{
		store:    o.Store,
		maxStale: o.MaxStale,
		metrics:  o.Metrics,
		log:      o.Log,
		now:      o.Now,
		hv:       newHeaderValues(),
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	h.slots = make(chan struct{}, o.MaxInFlight)
	if h.log == nil {
		h.log = zap.NewNop()
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// Timeouts and limits of the server Serve runs. Requests are tiny and local;
// the largest answer, a thousand peers' document, is about 300 kB.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
)

// Serve serves h on ln until ctx is done, then shuts down gracefully, waiting
// up to shutdownTimeout for requests in flight, and returns nil. If the
// deadline passes first it closes the remaining connections and returns an
// error wrapping context.DeadlineExceeded; if serving fails before ctx is
// done, it returns that error. Serve owns ln and closes it. It returns only
// once its serving goroutine has ended. log, named "http" by the caller,
// receives the server's own error messages (such as a client's broken
// request); nil discards them.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, shutdownTimeout time.Duration, log *zap.Logger) error {
	if h == nil {
		// http.Server would fall back to http.DefaultServeMux.
		ln.Close()
		return errors.New("serve http: nil handler")
	}
	if log == nil {
		log = zap.NewNop()
	}
	errorLog, err := zap.NewStdLogAt(log, zap.WarnLevel)
	if err != nil {
		ln.Close()
		return fmt.Errorf("http error log: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errorLog,
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	if shutdownErr != nil {
		// Requests still running past the deadline: cut them off.
		srv.Close()
	}
	// After Shutdown, Serve returns at once with ErrServerClosed.
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("shut down http server: %w", shutdownErr)
	}
	return nil
}
