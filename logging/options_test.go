package logging

import (
	"testing"

	"go.uber.org/zap/zapcore"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr string
	}{
		{in: "auto", want: FormatAuto},
		{in: "journal", want: FormatJournal},
		{in: "console", want: FormatConsole},
		{in: "json", want: FormatJSON},
		{in: "JSON", want: FormatJSON},
		{in: "", wantErr: `invalid --log-format "": want auto, journal, console or json`},
		{in: "logfmt", wantErr: `invalid --log-format "logfmt": want auto, journal, console or json`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseFormat(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    zapcore.Level
		wantErr string
	}{
		{in: "debug", want: zapcore.DebugLevel},
		{in: "info", want: zapcore.InfoLevel},
		{in: "warn", want: zapcore.WarnLevel},
		{in: "error", want: zapcore.ErrorLevel},
		{in: "Warn", want: zapcore.WarnLevel},
		{in: "loud", wantErr: `invalid --log-level "loud": want debug, info, warn or error`},
		{in: "warning", wantErr: `invalid --log-level "warning": want debug, info, warn or error`},
		{in: "fatal", wantErr: `invalid --log-level "fatal": want debug, info, warn or error`},
		{in: "", wantErr: `invalid --log-level "": want debug, info, warn or error`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseLevel(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEffectiveFormat(t *testing.T) {
	tests := []struct {
		name               string
		format             Format
		journal, terminal  bool
		want               Format
		probesNotConsulted bool
	}{
		{name: "auto journal wins over terminal", format: FormatAuto, journal: true, terminal: true, want: FormatJournal},
		{name: "auto journal", format: FormatAuto, journal: true, want: FormatJournal},
		{name: "auto terminal", format: FormatAuto, terminal: true, want: FormatConsole},
		{name: "auto pipe or file", format: FormatAuto, want: FormatJSON},
		{name: "zero value is auto", format: "", terminal: true, want: FormatConsole},
		{name: "explicit journal on a terminal", format: FormatJournal, terminal: true, want: FormatJournal, probesNotConsulted: true},
		{name: "explicit json in the journal", format: FormatJSON, journal: true, want: FormatJSON, probesNotConsulted: true},
		{name: "explicit console in a pipe", format: FormatConsole, want: FormatConsole, probesNotConsulted: true},
		{name: "unknown passes through", format: "xml", want: "xml", probesNotConsulted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			consulted := false
			o := Options{
				Format:     tt.format,
				IsJournal:  func() bool { consulted = true; return tt.journal },
				IsTerminal: func() bool { consulted = true; return tt.terminal },
			}
			if got := o.EffectiveFormat(); got != tt.want {
				t.Errorf("EffectiveFormat() = %q, want %q", got, tt.want)
			}
			if tt.probesNotConsulted && consulted {
				t.Error("an explicit format consulted the output probes")
			}
		})
	}
}
