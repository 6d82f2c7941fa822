//go:build unix

package logging

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestStderrIsJournal(t *testing.T) {
	fi, err := os.Stderr.Stat()
	if err != nil {
		t.Skipf("stderr: %v", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no device and inode for stderr")
	}
	tests := []struct {
		name, env string
		want      bool
	}{
		{"unset", "", false},
		{"stderr's own device and inode", fmt.Sprintf("%d:%d", st.Dev, st.Ino), true},
		{"another stream", fmt.Sprintf("%d:%d", st.Dev, st.Ino+1), false},
		{"malformed", "not-a-stream", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("JOURNAL_STREAM", tt.env)
			if got := StderrIsJournal(); got != tt.want {
				t.Errorf("StderrIsJournal() = %v with JOURNAL_STREAM=%q, want %v", got, tt.env, tt.want)
			}
		})
	}
}
