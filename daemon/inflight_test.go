package daemon

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestMaxInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	blocking := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
	})
	store := &Store{}
	h := NewHandler(ServerOptions{Store: store, MaxStale: time.Minute, Metrics: blocking, MaxInFlight: 1})
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/metrics", nil))
	}()
	<-entered
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/healthy", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || rec.Body.String() != "{\"error\": \"too many requests in flight\"}\n" {
		t.Errorf("over the limit: %d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}
	close(release)
	<-done
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/healthy", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("after the slot is free: %d", rec.Code)
	}
}
