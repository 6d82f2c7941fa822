package daemon

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// TestLoadOverLoopback is a short, bounded load test: 32 clients make 100
// requests each over real loopback connections while the snapshot changes
// underneath. Every answer must be 200 and whole: its body agrees with its
// revision header (no torn read).
func TestLoadOverLoopback(t *testing.T) {
	snaps := snapshotSeries(t, 20)
	store := &Store{}
	store.Publish(snaps[0])
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ln, newTestHandler(t, store, newTestClock(testT1)), 5*time.Second, zap.NewNop())
	}()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	defer client.CloseIdleConnections()
	// remote answers like h would, but over the wire.
	remote := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get(base + r.URL.String())
		if err != nil {
			w.WriteHeader(599)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})

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
	for range 32 {
		readers.Go(func() {
			for i := range 100 {
				if _, err := checkConsistent(remote, i%3, func(rev uint64) int { return int(rev)%7 + 1 }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	publisher.Wait()
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
