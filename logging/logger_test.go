package logging

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func yes() bool { return true }
func no() bool  { return false }

var iso8601 = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{4})$`)

// logOne builds a logger with o, logs one warning and returns the output.
func logOne(t *testing.T, o Options) string {
	t.Helper()
	var out syncBuffer
	log, err := New(&out, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	log.Named("refresh").Warn("refresh failed",
		zap.String("reason", "throttled"),
		zap.Duration("retry_in", 1600*time.Millisecond))
	if err := log.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return out.String()
}

func TestNewJournal(t *testing.T) {
	got := logOne(t, Options{Format: FormatAuto, IsJournal: yes, IsTerminal: no})
	want := "<4>refresh: refresh failed reason=throttled retry_in=1.6s\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNewJSON(t *testing.T) {
	got := logOne(t, Options{Format: FormatAuto, IsJournal: no, IsTerminal: no})
	if strings.Count(got, "\n") != 1 {
		t.Fatalf("want one line, got %q", got)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(got), &rec); err != nil {
		t.Fatalf("not JSON: %v: %q", err, got)
	}
	for key, want := range map[string]any{
		"level":    "warn",
		"logger":   "refresh",
		"msg":      "refresh failed",
		"reason":   "throttled",
		"retry_in": 1.6,
	} {
		if rec[key] != want {
			t.Errorf("%s = %#v, want %#v", key, rec[key], want)
		}
	}
	if ts, _ := rec["ts"].(string); !iso8601.MatchString(ts) {
		t.Errorf("ts = %#v, want an ISO 8601 string", rec["ts"])
	}
	if c, _ := rec["caller"].(string); !strings.HasPrefix(c, "logging/logger_test.go:") {
		t.Errorf("caller = %#v, want this file", rec["caller"])
	}
}

func TestNewConsole(t *testing.T) {
	tests := []struct {
		name       string
		o          Options
		wantColour bool
	}{
		{name: "auto on a terminal", o: Options{Format: FormatAuto, IsJournal: no, IsTerminal: yes}, wantColour: true},
		{name: "explicit console on a terminal", o: Options{Format: FormatConsole, IsJournal: no, IsTerminal: yes}, wantColour: true},
		{name: "explicit console into a pipe", o: Options{Format: FormatConsole, IsJournal: no, IsTerminal: no}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := logOne(t, tt.o)
			cols := strings.Split(strings.TrimSuffix(got, "\n"), "\t")
			if len(cols) != 6 {
				t.Fatalf("want 6 tab-separated columns (time level name caller msg fields), got %q", got)
			}
			if !iso8601.MatchString(cols[0]) {
				t.Errorf("time %q is not ISO 8601", cols[0])
			}
			if hasColour := strings.Contains(cols[1], "\x1b["); hasColour != tt.wantColour {
				t.Errorf("level %q: colour %v, want %v", cols[1], hasColour, tt.wantColour)
			}
			if !strings.Contains(cols[1], "WARN") {
				t.Errorf("level %q, want WARN", cols[1])
			}
			if cols[2] != "refresh" || cols[4] != "refresh failed" {
				t.Errorf("name, msg = %q, %q", cols[2], cols[4])
			}
			if cols[5] != `{"reason": "throttled", "retry_in": "1.6s"}` {
				t.Errorf("fields = %q", cols[5])
			}
		})
	}
}

func TestNewLevel(t *testing.T) {
	tests := []struct {
		level zapcore.Level
		want  string
	}{
		{zapcore.DebugLevel, "<7>d\n<6>i\n<4>w\n<3>e\n"},
		{zapcore.InfoLevel, "<6>i\n<4>w\n<3>e\n"},
		{zapcore.WarnLevel, "<4>w\n<3>e\n"},
		{zapcore.ErrorLevel, "<3>e\n"},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			var out syncBuffer
			log, err := New(&out, Options{Format: FormatJournal, Level: tt.level})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			log.Debug("d")
			log.Info("i")
			log.Warn("w")
			log.Error("e")
			if got := out.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewZeroOptionsIsInfo(t *testing.T) {
	var out syncBuffer
	log, err := New(&out, Options{Format: FormatJournal})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	log.Debug("hidden")
	log.Info("shown")
	if got, want := out.String(), "<6>shown\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNewBadFormat(t *testing.T) {
	_, err := New(&syncBuffer{}, Options{Format: "xml"})
	want := `invalid --log-format "xml": want auto, journal, console or json`
	if err == nil || err.Error() != want {
		t.Fatalf("New error = %v, want %q", err, want)
	}
}

func TestNewStacktraceOnlyFromDPanic(t *testing.T) {
	var out syncBuffer
	log, err := New(&out, Options{Format: FormatJournal})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	log.Error("e", zap.Error(errors.New("x")))
	if got := out.String(); strings.Contains(got, "stacktrace=") {
		t.Errorf("error line carries a stack trace: %q", got)
	}
	log.DPanic("dp") // a production logger does not panic here
	got := out.String()
	if !strings.Contains(got, "<3>dp stacktrace=\"") || strings.Count(got, "\n") != 2 {
		t.Errorf("DPanic: want a quoted stack trace on the same line, got %q", got)
	}
}
