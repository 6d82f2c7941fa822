package logging

import (
	"os"

	"github.com/coreos/go-systemd/v22/journal"
)

// StderrIsJournal reports whether the process's stderr is connected to
// systemd's journal (JOURNAL_STREAM names stderr's device and inode). A
// malformed JOURNAL_STREAM counts as not connected: plain output is the safe
// fallback.
func StderrIsJournal() bool {
	ok, err := journal.StderrIsJournalStream()
	return err == nil && ok
}

// StderrIsTerminal reports whether the process's stderr is a character
// device, which in practice means a terminal. (/dev/null is one too; output
// sent there is not read, so its format does not matter.)
func StderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
