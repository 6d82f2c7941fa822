package ecstest

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// FaultKind selects what an injected [Fault] does to a DescribeInstances call.
type FaultKind int

const (
	// FaultThrottling answers 400 Throttling.User, "Request was denied due to
	// user flow control." (the SDK never retries it).
	FaultThrottling FaultKind = iota + 1
	// FaultServiceUnavailable answers 503 ServiceUnavailable.
	FaultServiceUnavailable
	// FaultInternalError answers 500 InternalError.
	FaultInternalError
	// FaultMalformedBody answers 200 with a body that is not JSON (the SDK
	// returns ClientError SDK.JsonUnmarshalError).
	FaultMalformedBody
	// FaultTruncatedBody processes the call normally but sends only half of the
	// response body under a Content-Length for all of it, then closes the
	// connection (the SDK returns a raw "unexpected EOF").
	FaultTruncatedBody
	// FaultDelay waits Fault.Delay, then processes the call normally. If the
	// client goes away or the server closes first, nothing is answered.
	FaultDelay
	// FaultReset closes the connection without any answer, with SO_LINGER 0 so
	// the client sees a reset.
	FaultReset
)

// Call codes recorded for faults that have no ECS error code.
const (
	CallMalformed = "malformed"
	CallTruncated = "truncated"
	CallDelay     = "delay"
	CallReset     = "reset"
)

// String names the kind; for the kinds without an ECS code it is the Call code.
func (k FaultKind) String() string {
	switch k {
	case FaultThrottling:
		return "throttling"
	case FaultServiceUnavailable:
		return "service-unavailable"
	case FaultInternalError:
		return "internal-error"
	case FaultMalformedBody:
		return CallMalformed
	case FaultTruncatedBody:
		return CallTruncated
	case FaultDelay:
		return CallDelay
	case FaultReset:
		return CallReset
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is a queued misbehaviour. Faults form a queue: only the head is
// active; it lets Skip authenticated DescribeInstances calls pass, then fails
// Times calls (0 means 1, negative means forever) and leaves the queue, and the
// next fault starts counting its own Skip from the following call.
type Fault struct {
	Kind  FaultKind
	Skip  int
	Times int
	Delay time.Duration // FaultDelay only
	// Code and Status override the error code and HTTP status of the error
	// kinds (FaultThrottling, FaultServiceUnavailable, FaultInternalError),
	// e.g. Code "Throttling" or "Throttling.Api", or ServiceUnavailable with
	// Status 500 as one ECS document lists it.
	Code   string
	Status int
}

// faultState is a queued Fault with its remaining counts.
type faultState struct {
	f         Fault
	skipLeft  int
	timesLeft int // < 0: forever
}

// error returns the error answer of an error-kind fault, nil for other kinds.
func (f Fault) error() *apiError {
	var e apiError
	switch f.Kind {
	case FaultThrottling:
		e = apiError{http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control.", false}
	case FaultServiceUnavailable:
		e = apiError{http.StatusServiceUnavailable, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.", false}
	case FaultInternalError:
		e = apiError{http.StatusInternalServerError, "InternalError", "The request processing has failed due to some unknown error, exception or failure.", false}
	default:
		return nil
	}
	if f.Code != "" {
		e.code = f.Code
	}
	if f.Status != 0 {
		e.status = f.Status
	}
	return &e
}

// Inject queues f behind the faults already queued.
func (s *Server) Inject(f Fault) {
	st := &faultState{f: f, skipLeft: max(f.Skip, 0), timesLeft: f.Times}
	if f.Times == 0 {
		st.timesLeft = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, st)
	s.mu.Unlock()
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// PendingFaults returns how many faults are still queued.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// takeFault consumes one call of the head fault and reports the fault to apply,
// if any. The caller holds s.mu.
func (s *Server) takeFault() (Fault, bool) {
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	head := s.faults[0]
	if head.skipLeft > 0 {
		head.skipLeft--
		return Fault{}, false
	}
	if head.timesLeft > 0 {
		head.timesLeft--
		if head.timesLeft == 0 {
			s.faults = s.faults[1:]
		}
	}
	return head.f, true
}

// malformedBody is what FaultMalformedBody sends: a proxy error page.
const malformedBody = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n"

// writeTruncated sends status, headers and half of body under a Content-Length
// for all of it, then closes the connection.
func writeTruncated(w http.ResponseWriter, status int, header http.Header, body []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	header.Set("Content-Length", strconv.Itoa(len(body)+64))
	header.Set("Connection", "close")
	_ = header.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}

// reset closes the client connection without an answer, as a reset.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
