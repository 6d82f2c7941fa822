package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
)

const testMaxStale = 5 * time.Minute

// testClock is a settable clock for the handler's Now.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.Set(t)
	return c
}

func (c *testClock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// metricsStub stands in for the promhttp handler.
func metricsStub(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	io.WriteString(w, "joinhintd_peers 4\n")
}

func newTestHandler(t testing.TB, store *Store, clock *testClock) http.Handler {
	return NewHandler(ServerOptions{
		Store:    store,
		MaxStale: testMaxStale,
		Metrics:  http.HandlerFunc(metricsStub),
		Log:      zaptest.NewLogger(t),
		Now:      clock.Now,
	})
}

func TestHandler(t *testing.T) {
	fresh := testSnapshot(t, testPeers(), testTLS())
	cached, _, err := NewSnapshot(nil, testPeers(), "cn-hangzhou", SourceCache, testT1, testTLS())
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]struct {
		snap *Snapshot
		now  time.Time
	}{
		"none":  {nil, testT1},
		"fresh": {fresh, testT1.Add(testMaxStale - time.Second)},
		"stale": {fresh, testT1.Add(testMaxStale)},
		"cache": {cached, testT1.Add(time.Minute)},
	}

	const (
		ctJSON = "application/json"
		ctText = "text/plain; charset=utf-8"
	)
	ok := []byte("OK\n")
	for _, tc := range []struct {
		state, method, target string
		code                  int
		ctype                 string
		body                  []byte // for 200s: the exact body
		errText               string // for errors: a part of the message
	}{
		// The peers document and its formats.
		{"fresh", "GET", "/v1/peers", 200, ctJSON, fresh.bodies.peersJSON[0], ""},
		{"fresh", "GET", "/v1/peers?format=json", 200, ctJSON, fresh.bodies.peersJSON[0], ""},
		{"fresh", "GET", "/v1/peers?format=text", 200, ctText, fresh.bodies.text, ""},
		{"fresh", "GET", "/v1/peers?format=go-discover", 200, ctText, fresh.bodies.goDiscover, ""},
		{"fresh", "GET", "/v1/peers?format=go%2Ddiscover", 200, ctText, fresh.bodies.goDiscover, ""},
		{"fresh", "GET", "/v1/peers?&format=text&", 200, ctText, fresh.bodies.text, ""},
		{"stale", "GET", "/v1/peers", 200, ctJSON, fresh.bodies.peersJSON[1], ""},
		{"stale", "GET", "/v1/peers?format=text", 200, ctText, fresh.bodies.text, ""},
		{"cache", "GET", "/v1/peers", 200, ctJSON, cached.bodies.peersJSON[1], ""},
		{"none", "GET", "/v1/peers", 503, ctJSON, nil, "no peer set yet"},
		{"none", "GET", "/v1/peers?format=text", 503, ctJSON, nil, "no peer set yet"},

		// retry_join.
		{"fresh", "GET", "/v1/retry-join", 200, ctText, fresh.bodies.retryHCL, ""},
		{"fresh", "GET", "/v1/retry-join?format=hcl", 200, ctText, fresh.bodies.retryHCL, ""},
		{"fresh", "GET", "/v1/retry-join?format=json", 200, ctJSON, fresh.bodies.retryJSON, ""},
		{"stale", "GET", "/v1/retry-join", 200, ctText, fresh.bodies.retryHCL, ""},
		{"cache", "GET", "/v1/retry-join?format=json", 200, ctJSON, cached.bodies.retryJSON, ""},
		{"none", "GET", "/v1/retry-join", 503, ctJSON, nil, "no peer set yet"},

		// Bad queries, checked before the state.
		{"fresh", "GET", "/v1/peers?format=xml", 400, ctJSON, nil, `unknown format "xml": want json, text, go-discover`},
		{"fresh", "GET", "/v1/peers?format=", 400, ctJSON, nil, `unknown format ""`},
		{"fresh", "GET", "/v1/peers?format=hcl", 400, ctJSON, nil, "unknown format"},
		{"fresh", "GET", "/v1/peers?format=JSON", 400, ctJSON, nil, "unknown format"},
		{"fresh", "GET", "/v1/retry-join?format=text", 400, ctJSON, nil, `want hcl, json`},
		{"fresh", "GET", "/v1/peers?format=json&format=json", 400, ctJSON, nil, "more than once"},
		{"fresh", "GET", "/v1/peers?index=3&wait=30s", 400, ctJSON, nil, `unknown query parameter "index"`},
		{"fresh", "GET", "/v1/retry-join?format=hcl;x", 400, ctJSON, nil, "unknown format"},
		{"fresh", "GET", "/v1/peers?format=%zz", 400, ctJSON, nil, "bad query"},
		{"none", "GET", "/v1/peers?format=xml", 400, ctJSON, nil, "unknown format"},

		// Probes; their query is ignored.
		{"none", "GET", "/-/healthy", 200, ctText, ok, ""},
		{"fresh", "GET", "/-/healthy?probe=1", 200, ctText, ok, ""},
		{"fresh", "GET", "/-/ready", 200, ctText, ok, ""},
		{"none", "GET", "/-/ready", 503, ctJSON, nil, "no successful refresh yet"},
		{"stale", "GET", "/-/ready", 503, ctJSON, nil, "last successful refresh 5m0s ago, older than --max-stale 5m0s"},
		{"cache", "GET", "/-/ready", 503, ctJSON, nil, "cache file only"},

		// Metrics are delegated.
		{"none", "GET", "/metrics", 200, "text/plain; version=0.0.4", []byte("joinhintd_peers 4\n"), ""},

		// Unknown paths, then methods.
		{"fresh", "GET", "/", 404, ctJSON, nil, "not found"},
		{"fresh", "GET", "/v1/peers/", 404, ctJSON, nil, "not found"},
		{"fresh", "GET", "/V1/peers", 404, ctJSON, nil, "not found"},
		{"fresh", "GET", "/v1/peers/../peers", 404, ctJSON, nil, "not found"},
		{"fresh", "POST", "/nope", 404, ctJSON, nil, "not found"},
		{"fresh", "POST", "/v1/peers", 405, ctJSON, nil, "method POST not allowed"},
		{"fresh", "PUT", "/v1/retry-join", 405, ctJSON, nil, "method PUT not allowed"},
		{"none", "DELETE", "/-/healthy", 405, ctJSON, nil, "not allowed"},
		{"none", "OPTIONS", "/-/ready", 405, ctJSON, nil, "not allowed"},
		{"none", "POST", "/metrics", 405, ctJSON, nil, "not allowed"},
		{"fresh", "POST", "/v1/peers?format=xml", 405, ctJSON, nil, "not allowed"},
	} {
		t.Run(fmt.Sprintf("%s %s %s", tc.state, tc.method, tc.target), func(t *testing.T) {
			st := states[tc.state]
			store := &Store{}
			if st.snap != nil {
				store.Publish(st.snap)
			}
			h := newTestHandler(t, store, newTestClock(st.now))

			// HEAD must answer as GET does, without a body.
			methods := []string{tc.method}
			if tc.method == "GET" {
				methods = append(methods, "HEAD")
			}
			var getBody []byte
			for _, method := range methods {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(method, tc.target, nil))
				res := rec.Result()
				body := rec.Body.Bytes()

				if res.StatusCode != tc.code {
					t.Errorf("%s: status %d, want %d; body %s", method, res.StatusCode, tc.code, body)
				}
				if got := res.Header.Get("Content-Type"); got != tc.ctype {
					t.Errorf("%s: Content-Type %q, want %q", method, got, tc.ctype)
				}
				checkHeaders(t, method, tc.target, res)

				wantBody := tc.body
				switch {
				case method == "HEAD" && strings.HasPrefix(tc.target, "/metrics"):
					// The delegate writes; a real server drops it.
				case method == "HEAD":
					wantBody = nil
				case tc.code != 200:
					checkErrorBody(t, body, tc.errText)
					wantBody = body
				}
				if !bytes.Equal(body, wantBody) {
					t.Errorf("%s: body\n%s\nwant\n%s", method, body, wantBody)
				}
				if method == "GET" {
					getBody = body
				}
				// A HEAD announces the length of the GET's body.
				if !strings.HasPrefix(tc.target, "/metrics") {
					want := len(body)
					if method == "HEAD" {
						want = len(getBody)
					}
					if got := res.Header.Get("Content-Length"); got != strconv.Itoa(want) {
						t.Errorf("%s: Content-Length %s, want %d", method, got, want)
					}
				}
			}
		})
	}
}

// checkHeaders checks the headers every answer of ours carries.
func checkHeaders(t *testing.T, method, target string, res *http.Response) {
	t.Helper()
	if strings.HasPrefix(target, "/metrics") && res.StatusCode == 200 {
		return
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control %q", method, got)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", method, got)
	}
	wantRevision := ""
	if res.StatusCode == 200 && strings.HasPrefix(target, "/v1/") {
		wantRevision = "1"
	}
	if got := res.Header.Get("X-Joinhintd-Revision"); got != wantRevision {
		t.Errorf("%s: X-Joinhintd-Revision %q, want %q", method, got, wantRevision)
	}
	wantAllow := ""
	if res.StatusCode == http.StatusMethodNotAllowed {
		wantAllow = "GET, HEAD"
	}
	if got := res.Header.Get("Allow"); got != wantAllow {
		t.Errorf("%s: Allow %q, want %q", method, got, wantAllow)
	}
}

// checkErrorBody checks that body is a JSON error mentioning errText.
func checkErrorBody(t *testing.T, body []byte, errText string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || !strings.Contains(e.Error, errText) {
		t.Errorf("error body %s (%v), want it to mention %q", body, err, errText)
	}
}

func TestHandlerStaleFollowsClock(t *testing.T) {
	store := &Store{}
	store.Publish(testSnapshot(t, testPeers(), RenderOptions{}))
	clock := newTestClock(testT1)
	h := newTestHandler(t, store, clock)
	for _, step := range []struct {
		at        time.Duration
		stale     bool
		readyCode int
	}{
		{0, false, 200},
		{testMaxStale - time.Nanosecond, false, 200},
		{testMaxStale, true, 503},
		{time.Hour, true, 503},
	} {
		clock.Set(testT1.Add(step.at))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/peers", nil))
		var doc peersDocument
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Stale != step.stale {
			t.Errorf("at +%s: stale %v, want %v", step.at, doc.Stale, step.stale)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/-/ready", nil))
		if rec.Code != step.readyCode {
			t.Errorf("at +%s: ready %d, want %d: %s", step.at, rec.Code, step.readyCode, rec.Body)
		}
	}
}

func TestHandlerNoMetrics(t *testing.T) {
	h := NewHandler(ServerOptions{Store: &Store{}, MaxStale: time.Minute})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("status %d, want 404", rec.Code)
	}
}

func TestHandlerRecoversPanics(t *testing.T) {
	h := NewHandler(ServerOptions{
		Store:    &Store{},
		MaxStale: time.Minute,
		Metrics:  http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		Log:      zaptest.NewLogger(t),
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"error": "internal error"`) {
		t.Errorf("got %d %s, want 500 and a JSON error", rec.Code, rec.Body)
	}

	// A request without a URL cannot reach a handler through net/http, but
	// must not take the process down either.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, &http.Request{Method: "GET"})
	if rec.Code != 500 {
		t.Errorf("nil URL: got %d, want 500", rec.Code)
	}

	// net/http's own abort is passed on.
	abort := NewHandler(ServerOptions{
		Store:    &Store{},
		MaxStale: time.Minute,
		Metrics:  http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }),
	})
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil))
}

func TestNewHandlerChecksOptions(t *testing.T) {
	for name, o := range map[string]ServerOptions{
		"nil store":     {MaxStale: time.Minute},
		"zero MaxStale": {Store: &Store{}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			NewHandler(o)
		})
	}
}

// discardWriter is a ResponseWriter that keeps its header map between
// requests and drops the body, so that only the handler's own allocations
// count.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
func (d *discardWriter) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }

func TestHandlerDoesNotAllocate(t *testing.T) {
	store := &Store{}
	store.Publish(testSnapshot(t, benchPeers(100), testTLS()))
	h := newTestHandler(t, store, newTestClock(testT1))
	for _, target := range []string{"/v1/peers", "/v1/peers?format=go-discover", "/v1/retry-join?format=json", "/-/ready", "/-/healthy"} {
		req := httptest.NewRequest("GET", target, nil)
		w := &discardWriter{header: http.Header{}}
		allocs := testing.AllocsPerRun(100, func() {
			clear(w.header)
			h.ServeHTTP(w, req)
		})
		if w.code != 200 || allocs != 0 {
			t.Errorf("%s: status %d, %.1f allocations a request, want 200 and none", target, w.code, allocs)
		}
	}
}

// TestHandlerConcurrentPublish reads while snapshots are swapped: every answer
// must come whole from one snapshot.
func TestHandlerConcurrentPublish(t *testing.T) {
	// Revision r holds r%7+1 peers, the first of them self.
	snaps := snapshotSeries(t, 40)
	peerCount := func(rev uint64) int { return int(rev)%7 + 1 }

	store := &Store{}
	store.Publish(snaps[0])
	h := newTestHandler(t, store, newTestClock(testT1))

	stop := make(chan struct{})
	var publisher, readers sync.WaitGroup
	publisher.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				store.Publish(snaps[i%len(snaps)])
			}
		}
	})
	var sawSwaps atomic.Bool
	for range 6 {
		readers.Go(func() {
			seen := map[uint64]bool{}
			for i := range 300 {
				rev, err := checkConsistent(h, i%3, peerCount)
				if err != nil {
					t.Error(err)
					return
				}
				seen[rev] = true
			}
			if len(seen) > 1 {
				sawSwaps.Store(true)
			}
		})
	}
	readers.Wait()
	close(stop)
	publisher.Wait()
	if !sawSwaps.Load() {
		t.Error("no reader saw the snapshot change")
	}
}

// checkConsistent asks h for one body, chosen by kind, checks it against its
// revision header and returns the revision.
func checkConsistent(h http.Handler, kind int, peerCount func(uint64) int) (uint64, error) {
	target := [...]string{"/v1/peers", "/v1/peers?format=text", "/v1/retry-join"}[kind]
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	if rec.Code != 200 {
		return 0, fmt.Errorf("%s: status %d", target, rec.Code)
	}
	rev, err := strconv.ParseUint(rec.Header().Get("X-Joinhintd-Revision"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: revision header: %w", target, err)
	}
	body := rec.Body.Bytes()
	var got, want int
	switch kind {
	case 0:
		var doc peersDocument
		if err := json.Unmarshal(body, &doc); err != nil {
			return 0, fmt.Errorf("%s: %w", target, err)
		}
		if doc.Revision != rev {
			return 0, fmt.Errorf("%s: revision %d in the body, %d in the header", target, doc.Revision, rev)
		}
		got, want = len(doc.Peers), peerCount(rev)
	case 1:
		got, want = bytes.Count(body, []byte("\n")), peerCount(rev)
	default:
		header, _, _ := bytes.Cut(body, []byte("\n"))
		if !bytes.Contains(header, fmt.Appendf(nil, "revision %d,", rev)) {
			return 0, fmt.Errorf("%s: header comment %q, revision header %d", target, header, rev)
		}
		got, want = bytes.Count(body, []byte("retry_join {")), peerCount(rev)-1
	}
	if got != want {
		return 0, fmt.Errorf("%s: revision %d with %d peers, want %d", target, rev, got, want)
	}
	return rev, nil
}

func TestServe(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	store := &Store{}
	snap := testSnapshot(t, testPeers(), testTLS())
	store.Publish(snap)
	h := newTestHandler(t, store, newTestClock(testT1))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h, 5*time.Second, zaptest.NewLogger(t)) }()

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	for _, tc := range []struct {
		target string
		code   int
		body   []byte
	}{
		{"/v1/peers", 200, snap.bodies.peersJSON[0]},
		{"/v1/retry-join", 200, snap.bodies.retryHCL},
		{"/-/healthy", 200, []byte("OK\n")},
		{"/nope", 404, nil},
	} {
		res, err := client.Get(base + tc.target)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tc.code || (tc.body != nil && !bytes.Equal(body, tc.body)) {
			t.Errorf("%s: %d %s", tc.target, res.StatusCode, body)
		}
		if res.ContentLength != int64(len(body)) {
			t.Errorf("%s: Content-Length %d for %d bytes", tc.target, res.ContentLength, len(body))
		}
	}

	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("listener still open after Serve returned")
	}
}

func TestServeListenerFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = Serve(t.Context(), ln, http.NotFoundHandler(), time.Second, zaptest.NewLogger(t))
	if err == nil || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve = %v, want an error wrapping net.ErrClosed", err)
	}
}

// pipeListener hands out in-memory connections, so that Serve can run inside
// a synctest bubble on its fake clock.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// get sends a GET of target on a new connection and returns its response,
// delivered once the server answers.
func (l *pipeListener) get(target string) <-chan *http.Response {
	client, server := net.Pipe()
	l.conns <- server
	out := make(chan *http.Response, 1)
	go func() {
		defer client.Close()
		fmt.Fprintf(client, "GET %s HTTP/1.1\r\nHost: joinhintd\r\nConnection: close\r\n\r\n", target)
		res, err := http.ReadResponse(bufio.NewReader(client), nil)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		out <- res
	}()
	return out
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// blockingHandler answers once release is closed, after telling entered.
func blockingHandler(entered, release chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done\n")
	})
}

func TestServeWaitsForRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		ln := newPipeListener()
		ctx, cancel := context.WithCancel(t.Context())
		served := make(chan error, 1)
		go func() {
			served <- Serve(ctx, ln, blockingHandler(entered, release), 10*time.Second, zaptest.NewLogger(t))
		}()

		res := ln.get("/slow")
		<-entered
		cancel()
		time.Sleep(3 * time.Second) // on the bubble's clock
		synctest.Wait()
		select {
		case err := <-served:
			t.Fatalf("Serve returned %v with a request in flight", err)
		default:
		}
		close(release)
		if r := <-res; r == nil || r.StatusCode != 200 {
			t.Errorf("request in flight: %v", r)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

func TestServeShutdownDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		ln := newPipeListener()
		ctx, cancel := context.WithCancel(t.Context())
		served := make(chan error, 1)
		go func() {
			served <- Serve(ctx, ln, blockingHandler(entered, release), 10*time.Second, zaptest.NewLogger(t))
		}()

		res := ln.get("/stuck")
		<-entered
		start := time.Now()
		cancel()
		err := <-served
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve = %v, want a deadline error", err)
		}
		if d := time.Since(start); d < 10*time.Second || d > 11*time.Second {
			t.Errorf("Serve returned after %s, want the 10s deadline", d)
		}
		close(release)
		if r := <-res; r != nil {
			t.Errorf("cut-off request answered %d", r.StatusCode)
		}
	})
}

func BenchmarkServePeers(b *testing.B) {
	store := &Store{}
	snap := testSnapshot(b, benchPeers(1000), testTLS())
	store.Publish(snap)
	h := newTestHandler(b, store, newTestClock(testT1))
	size := int64(len(snap.bodies.peersJSON[0]))

	// The handler alone: what a request costs us, net/http aside.
	b.Run("handler", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/v1/peers", nil)
		w := &discardWriter{header: http.Header{}}
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			clear(w.header)
			h.ServeHTTP(w, req)
		}
	})

	b.Run("recorder", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/v1/peers", nil)
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
		}
	})

	// A real loopback server and a keep-alive client.
	b.Run("loopback", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(b.Context())
		served := make(chan error, 1)
		go func() { served <- Serve(ctx, ln, h, 5*time.Second, zaptest.NewLogger(b)) }()
		defer func() {
			cancel()
			if err := <-served; err != nil {
				b.Error(err)
			}
		}()
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		url := "http://" + ln.Addr().String() + "/v1/peers"
		buf := make([]byte, 32<<10)
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			res, err := client.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(io.Discard, res.Body, buf)
			res.Body.Close()
			if err != nil || n != size {
				b.Fatalf("read %d bytes: %v", n, err)
			}
		}
	})
}

// snapshotSeries builds n snapshots, each following the one before: revision
// r holds r%7+1 peers, the first of them self, so every one is a change.
func snapshotSeries(t *testing.T, n int) []*Snapshot {
	t.Helper()
	var snaps []*Snapshot
	var prev *Snapshot
	for range n {
		rev := uint64(1)
		if prev != nil {
			rev = prev.Revision + 1
		}
		s, changed, err := NewSnapshot(prev, benchPeers(int(rev)%7+1), "cn-hangzhou", SourceECS, testT1, testTLS())
		if err != nil || !changed {
			t.Fatalf("NewSnapshot: changed %v, %v", changed, err)
		}
		snaps, prev = append(snaps, s), s
	}
	return snaps
}
