package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if anything a command started outlives it: every
// daemon the tests run is stopped, and every goroutine it started (the
// refresh loop, the HTTP server, signal relays) must be gone by then.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
