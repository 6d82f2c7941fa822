package logging

import (
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// FuzzJournalOneLine checks the journal format's promise: whatever the name,
// message, key and value, an event is exactly one line, and the value reads
// back unchanged.
func FuzzJournalOneLine(f *testing.F) {
	for _, seed := range [][4]string{
		{"refresh", "refresh failed", "code", "Throttling.User"},
		{"", "", "", ""},
		{"a\nb", "x\r\ny", "k\n", "v\nw"},
		{"n", "m", "k", "\"quoted\" = \\ \t\x00\xff\u2028"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, name, msg, key, value string) {
		ent := zapcore.Entry{Level: zapcore.WarnLevel, LoggerName: name, Message: msg}
		buf, err := NewJournalEncoder().EncodeEntry(ent, []zapcore.Field{zap.String(key, value)})
		if err != nil {
			t.Fatal(err)
		}
		line := buf.String()
		buf.Free()
		if !strings.HasPrefix(line, "<4>") || strings.Index(line, "\n") != len(line)-1 {
			t.Fatalf("not one <4> line: %q", line)
		}
		if strings.ContainsAny(line[:len(line)-1], "\r\x00\x85\u2028\u2029") {
			t.Fatalf("line holds a breaking character: %q", line)
		}
		// The same event without the field gives the head the field follows.
		head, err := NewJournalEncoder().EncodeEntry(ent, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := strings.TrimSuffix(head.String(), "\n") + " " + sanitizeKey(key) + "="
		head.Free()
		raw, ok := strings.CutPrefix(line[:len(line)-1], start)
		if !ok {
			t.Fatalf("line %q does not start with %q", line, start)
		}
		got := raw
		if strings.HasPrefix(raw, `"`) {
			if got, err = strconv.Unquote(raw); err != nil {
				t.Fatalf("value %q does not unquote: %v", raw, err)
			}
		}
		if got != value {
			t.Fatalf("value read back %q, want %q (line %q)", got, value, line)
		}
	})
}
