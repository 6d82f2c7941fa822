package ecstest

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"go.uber.org/goleak"
)

// TestFaultsAsTheSDKSurfacesThem injects each fault kind and checks what the
// real SDK returns and what Calls records.
func TestFaultsAsTheSDKSurfacesThem(t *testing.T) {
	serverErr := func(code string, status int) func(*testing.T, error) {
		return func(t *testing.T, err error) { t.Helper(); wantCode(t, err, code, status) }
	}
	for _, tc := range []struct {
		name     string
		fault    Fault
		check    func(*testing.T, error)
		wantCall string
	}{
		{"throttling", Fault{Kind: FaultThrottling}, serverErr("Throttling.User", 400), "Throttling.User"},
		{"throttling with another code", Fault{Kind: FaultThrottling, Code: "Throttling"}, serverErr("Throttling", 400), "Throttling"},
		{"service unavailable", Fault{Kind: FaultServiceUnavailable}, serverErr("ServiceUnavailable", 503), "ServiceUnavailable"},
		{"service unavailable as 500", Fault{Kind: FaultServiceUnavailable, Status: 500}, serverErr("ServiceUnavailable", 500), "ServiceUnavailable"},
		{"internal error", Fault{Kind: FaultInternalError}, serverErr("InternalError", 500), "InternalError"},
		{"malformed body", Fault{Kind: FaultMalformedBody}, func(t *testing.T, err error) {
			var ce *sdkerrors.ClientError
			if !errors.As(err, &ce) || ce.ErrorCode() != sdkerrors.JsonUnmarshalErrorCode {
				t.Errorf("want ClientError %s, got %T %v", sdkerrors.JsonUnmarshalErrorCode, err, err)
			}
		}, CallMalformed},
		{"truncated body", Fault{Kind: FaultTruncatedBody}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
				t.Errorf("want unexpected EOF, got %T %v", err, err)
			}
		}, CallTruncated},
		{"reset", Fault{Kind: FaultReset}, func(t *testing.T, err error) {
			var ue *url.Error
			if !errors.As(err, &ue) {
				t.Errorf("want *url.Error, got %T %v", err, err)
			}
		}, CallReset},
		{"short delay then answer", Fault{Kind: FaultDelay, Delay: 50 * time.Millisecond}, func(t *testing.T, err error) {
			if err != nil {
				t.Errorf("want success, got %v", err)
			}
		}, CallDelay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, WithInstances(fleetOf(2)))
			c := newClient(t, s, defaultCred())
			s.Inject(tc.fault)
			start := time.Now()
			_, err := describe(c, nil)
			tc.check(t, err)
			if tc.fault.Kind == FaultDelay && time.Since(start) < tc.fault.Delay {
				t.Errorf("answered after %v, before the delay", time.Since(start))
			}
			calls := s.Calls()
			if len(calls) != 1 || calls[0].Code != tc.wantCall {
				t.Fatalf("calls %+v", calls)
			}
			if _, err := describe(c, nil); err != nil {
				t.Errorf("call after the fault: %v", err)
			}
			if s.PendingFaults() != 0 {
				t.Errorf("%d faults still queued", s.PendingFaults())
			}
		})
	}
}

func TestFaultQueue(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(1)))
	c := newClient(t, s, defaultCred())
	s.Inject(Fault{Kind: FaultThrottling, Skip: 1, Times: 2})
	s.Inject(Fault{Kind: FaultInternalError, Skip: 1})
	// A call that fails authentication neither counts nor consumes a fault.
	_, err := describe(newClient(t, s, credentials.NewAccessKeyCredential(DefaultAccessKeyID, "wrong")), nil)
	wantCode(t, err, "SignatureDoesNotMatch", 400)
	var got []string
	for i := 0; i < 6; i++ {
		_, err := describe(c, nil)
		code := "Success"
		if err != nil {
			code = serverError(t, err).ErrorCode()
		}
		got = append(got, code)
	}
	want := []string{"Success", "Throttling.User", "Throttling.User", "Success", "InternalError", "Success"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
	s.Inject(Fault{Kind: FaultServiceUnavailable, Times: -1})
	for i := 0; i < 3; i++ {
		_, err := describe(c, nil)
		wantCode(t, err, "ServiceUnavailable", 503)
	}
	s.ClearFaults()
	if _, err := describe(c, nil); err != nil || s.PendingFaults() != 0 {
		t.Errorf("after ClearFaults: %v, %d pending", err, s.PendingFaults())
	}
}

// TestSDKAutoRetry shows the SDK's own retry: 5xx only, at once, re-signed
// with a fresh nonce each time.
func TestSDKAutoRetry(t *testing.T) {
	// SDK v1.63.107 drops the response of each retried attempt without closing
	// its body: the connection and its two goroutines stay until the request
	// deadline (the read timeout) passes. Keep that short and wait it out.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { waitNoLeaks(t, ignore, 10*time.Second) })
	s := startServer(t, WithInstances(fleetOf(1)))
	c := newClient(t, s, defaultCred(), func(cfg *sdk.Config) { cfg.WithAutoRetry(true).WithMaxRetryTime(3) })
	c.SetReadTimeout(time.Second)
	s.Inject(Fault{Kind: FaultServiceUnavailable, Times: 2})
	if _, err := describe(c, nil); err != nil {
		t.Fatalf("retried call: %v", err)
	}
	calls := s.Calls()
	if len(calls) != 3 || calls[2].Code != "Success" {
		t.Fatalf("calls %+v", calls)
	}
	if calls[0].Params.Get("SignatureNonce") == calls[1].Params.Get("SignatureNonce") {
		t.Error("retry reused the nonce")
	}
	s.ResetCalls()
	s.Inject(Fault{Kind: FaultThrottling})
	_, err := describe(c, nil)
	wantCode(t, err, "Throttling.User", 400)
	if n := s.CallCount(ActionDescribeInstances); n != 1 {
		t.Errorf("SDK retried throttling: %d calls", n)
	}
}

// TestDelayAbandoned lets the client time out on a long delay: the client
// gets a timeout and the server drops the answer, so Close is quick.
func TestDelayAbandoned(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(1)))
	c := newClient(t, s, defaultCred())
	s.Inject(Fault{Kind: FaultDelay, Delay: time.Minute})
	_, err := describe(c, func(r *ecsRequest) { r.SetReadTimeout(200 * time.Millisecond) })
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Fatalf("want a timeout *url.Error, got %T %v", err, err)
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}

// TestCloseAbortsDelay closes the server while an answer is delayed.
func TestCloseAbortsDelay(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(1)))
	c := newClient(t, s, defaultCred())
	s.Inject(Fault{Kind: FaultDelay, Delay: time.Minute})
	errc := make(chan error, 1)
	go func() {
		_, err := describe(c, nil)
		errc <- err
	}()
	for s.CallCount(ActionDescribeInstances) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	s.Close()
	if err := <-errc; err == nil {
		t.Error("delayed call succeeded after Close")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}

// waitNoLeaks polls until no goroutine beyond ignore is left, for at most
// limit.
func waitNoLeaks(t *testing.T, ignore goleak.Option, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := goleak.Find(ignore)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines left behind: %v", err)
			return
		}
	}
}
