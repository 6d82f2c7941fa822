package ecstest

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: every server and
// client a test starts must be closed. The helper child process of
// TestSDKRamRoleThroughMetadata is exempt: the SDK's metadata client keeps
// idle connections in transports nobody can close.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}
