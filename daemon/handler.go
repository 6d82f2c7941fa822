package daemon

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// handler is the local HTTP API; see NewHandler. Its fields are set once by
// NewHandler, except prep, which requests update atomically.
type handler struct {
	store    *Store
	maxStale time.Duration
	metrics  http.Handler
	log      *zap.Logger
	now      func() time.Time

	hv   headerValues
	prep atomic.Pointer[prepared]
	// slots bounds the requests served at once: a local client gone wrong
	// (a retry loop without backoff) gets 503s, not the daemon's memory.
	slots chan struct{}
}

// headerValues are the header values that never change. They are assigned
// straight into response header maps, shared by every response: net/http and
// the handlers only read them, so no response copies or allocates them.
type headerValues struct {
	json, text, noStore, nosniff, allow, okLen, retryAfter []string
	ok                                                     []byte
}

func newHeaderValues() headerValues {
	const ok = "OK\n"
	return headerValues{
		json:       []string{"application/json"},
		text:       []string{"text/plain; charset=utf-8"},
		noStore:    []string{"no-store"},
		nosniff:    []string{"nosniff"},
		allow:      []string{"GET, HEAD"},
		okLen:      []string{strconv.Itoa(len(ok))},
		retryAfter: []string{"1"},
		ok:         []byte(ok),
	}
}

// prepared holds the header values that depend on one Snapshot, built by the
// first request that serves it, so that the following ones do not format
// numbers again. Like the Snapshot, it is never changed once published.
type prepared struct {
	snap      *Snapshot
	revision  []string
	peersJSON [2][]string // Content-Length of bodies.peersJSON
	text      []string
	discover  []string
	retryHCL  []string
	retryJSON []string
}

// prepare returns the prepared values of s. Concurrent requests may each
// build them for a new Snapshot; any of the identical results may win.
func (h *handler) prepare(s *Snapshot) *prepared {
	if p := h.prep.Load(); p != nil && p.snap == s {
		return p
	}
	length := func(b []byte) []string { return []string{strconv.Itoa(len(b))} }
	p := &prepared{
		snap:      s,
		revision:  []string{strconv.FormatUint(s.Revision, 10)},
		peersJSON: [2][]string{length(s.bodies.peersJSON[0]), length(s.bodies.peersJSON[1])},
		text:      length(s.bodies.text),
		discover:  length(s.bodies.goDiscover),
		retryHCL:  length(s.bodies.retryHCL),
		retryJSON: length(s.bodies.retryJSON),
	}
	h.prep.Store(p)
	return p
}

// ServeHTTP routes by exact path first, then checks the method.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer h.recoverPanic(w, r)
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header()["Retry-After"] = h.hv.retryAfter
		h.writeError(w, r, http.StatusServiceUnavailable, "too many requests in flight")
		return
	}
	serve := h.route(r.URL.Path)
	if serve == nil {
		h.writeError(w, r, http.StatusNotFound, "not found")
		return
	}
	if h.allowMethod(w, r) {
		serve(w, r)
	}
}

// route returns the handler of path, nil for an unknown path.
func (h *handler) route(path string) func(http.ResponseWriter, *http.Request) {
	switch path {
	case PathPeers:
		return h.servePeers
	case PathRetryJoin:
		return h.serveRetryJoin
	case PathHealthy:
		return h.writeOK
	case PathReady:
		return h.serveReady
	case PathMetrics:
		if h.metrics != nil {
			return h.metrics.ServeHTTP
		}
	}
	return nil
}

// Formats of /v1/peers, by index.
const (
	peersJSON = iota
	peersText
	peersGoDiscover
)

func (h *handler) servePeers(w http.ResponseWriter, r *http.Request) {
	formats := [...]string{peersJSON: "json", peersText: "text", peersGoDiscover: "go-discover"}
	f, ok := h.format(w, r, formats[:])
	if !ok {
		return
	}
	s := h.snapshot(w, r)
	if s == nil {
		return
	}
	p := h.prepare(s)
	switch f {
	case peersJSON:
		// A set loaded from the cache file is stale until a live refresh
		// confirms it, however recent the file.
		i := 0
		if s.Source == SourceCache || h.now().Sub(s.UpdatedAt) >= h.maxStale {
			i = 1
		}
		h.writeBody(w, r, h.hv.json, p.peersJSON[i], p.revision, s.bodies.peersJSON[i])
	case peersText:
		h.writeBody(w, r, h.hv.text, p.text, p.revision, s.bodies.text)
	default:
		h.writeBody(w, r, h.hv.text, p.discover, p.revision, s.bodies.goDiscover)
	}
}

// Formats of /v1/retry-join, by index.
const (
	retryHCL = iota
	retryJSON
)

func (h *handler) serveRetryJoin(w http.ResponseWriter, r *http.Request) {
	formats := [...]string{retryHCL: "hcl", retryJSON: "json"}
	f, ok := h.format(w, r, formats[:])
	if !ok {
		return
	}
	s := h.snapshot(w, r)
	if s == nil {
		return
	}
	p := h.prepare(s)
	if f == retryHCL {
		h.writeBody(w, r, h.hv.text, p.retryHCL, p.revision, s.bodies.retryHCL)
	} else {
		h.writeBody(w, r, h.hv.json, p.retryJSON, p.revision, s.bodies.retryJSON)
	}
}

// snapshot returns the current Snapshot, or answers 503 and returns nil
// before the first.
func (h *handler) snapshot(w http.ResponseWriter, r *http.Request) *Snapshot {
	s := h.store.Load()
	if s == nil {
		h.writeError(w, r, http.StatusServiceUnavailable, "no peer set yet: the first refresh has not succeeded")
	}
	return s
}

func (h *handler) serveReady(w http.ResponseWriter, r *http.Request) {
	s := h.store.Load()
	var reason string
	switch {
	case s == nil:
		reason = "no successful refresh yet"
	case s.Source == SourceCache:
		reason = "serving the peer set from the cache file only: no live refresh has succeeded yet"
	case s.Source != SourceECS:
		reason = fmt.Sprintf("serving a peer set from source %q, not a live refresh", s.Source)
	default:
		if age := h.now().Sub(s.UpdatedAt); age >= h.maxStale {
			reason = fmt.Sprintf("last successful refresh %s ago, older than --max-stale %s",
				age.Round(time.Second), h.maxStale)
		}
	}
	if reason != "" {
		h.writeError(w, r, http.StatusServiceUnavailable, reason)
		return
	}
	h.writeOK(w, r)
}

// allowMethod answers 405 and returns false unless r is a GET or HEAD.
func (h *handler) allowMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header()["Allow"] = h.hv.allow
	h.writeError(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed: use GET or HEAD", r.Method))
	return false
}

// format returns the index in formats of r's format parameter, 0 when there
// is none. Otherwise, or when r has any other query parameter, it answers 400
// and returns false.
func (h *handler) format(w http.ResponseWriter, r *http.Request, formats []string) (int, bool) {
	value, present, msg := formatParam(r.URL.RawQuery)
	if msg == "" && !present {
		return 0, true
	}
	if msg == "" {
		for i, f := range formats {
			if f == value {
				return i, true
			}
		}
		msg = fmt.Sprintf("unknown format %q: want %s", value, strings.Join(formats, ", "))
	}
	h.writeError(w, r, http.StatusBadRequest, msg)
	return 0, false
}

// formatParam parses a query that may hold format=VALUE once and nothing
// else. It returns the value and whether it was given, or an error message.
// Unlike url.ParseQuery it builds no map, and it allocates only to unescape
// or to report an error.
func formatParam(query string) (value string, present bool, msg string) {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return "", false, fmt.Sprintf("bad query: %v", err)
		}
		if k != "format" {
			return "", false, fmt.Sprintf("unknown query parameter %q: only format is accepted", k)
		}
		if present {
			return "", false, "format given more than once"
		}
		if value, err = url.QueryUnescape(v); err != nil {
			return "", false, fmt.Sprintf("bad query: %v", err)
		}
		present = true
	}
	return value, present, ""
}

// writeBody answers 200 with body, or only its headers to a HEAD.
func (h *handler) writeBody(w http.ResponseWriter, r *http.Request, ctype, clen, revision []string, body []byte) {
	hdr := w.Header()
	hdr["Content-Type"] = ctype
	hdr["Content-Length"] = clen
	hdr["Cache-Control"] = h.hv.noStore
	hdr["X-Content-Type-Options"] = h.hv.nosniff
	if revision != nil {
		hdr["X-Joinhintd-Revision"] = revision
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		// An error here is the client gone away: nothing left to tell it.
		_, _ = w.Write(body)
	}
}

func (h *handler) writeOK(w http.ResponseWriter, r *http.Request) {
	h.writeBody(w, r, h.hv.text, h.hv.okLen, nil, h.hv.ok)
}

// writeError answers code with the JSON body {"error": msg}.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	body := make([]byte, 0, len(msg)+16)
	body = append(body, `{"error": `...)
	body = appendJSONString(body, msg)
	body = append(body, "}\n"...)
	hdr := w.Header()
	hdr["Content-Type"] = h.hv.json
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	hdr["Cache-Control"] = h.hv.noStore
	hdr["X-Content-Type-Options"] = h.hv.nosniff
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// recoverPanic turns a panic in a request into a logged error and a 500
// answer (too late if the handler had already written its headers, but the
// process keeps serving). http.ErrAbortHandler is passed on: it is net/http's
// way to abort a response.
func (h *handler) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	path := ""
	if r.URL != nil {
		path = r.URL.Path
	}
	h.log.Error("panic serving a request",
		zap.String("method", r.Method),
		zap.String("path", path),
		zap.Any("panic", v),
		zap.Stack("stack"))
	h.writeError(w, r, http.StatusInternalServerError, "internal error")
}
