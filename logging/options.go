package logging

import (
	"fmt"
	"strings"

	"go.uber.org/zap/zapcore"
)

// Format is a value of the --log-format flag.
type Format string

// The log formats. The zero Format means FormatAuto.
const (
	FormatAuto    Format = "auto"    // journal, console or json, from where stderr leads
	FormatJournal Format = "journal" // sd-daemon priority prefix and key=value fields
	FormatConsole Format = "console" // zap's development console encoder
	FormatJSON    Format = "json"    // zap's production JSON encoder
)

// ParseFormat parses a --log-format value (case-insensitive).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatAuto, FormatJournal, FormatConsole, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("invalid --log-format %q: want auto, journal, console or json", s)
}

// ParseLevel parses a --log-level value (case-insensitive).
func ParseLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info":
		return zapcore.InfoLevel, nil
	case "warn":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	return zapcore.InfoLevel, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", s)
}

// Options configure New. The zero value logs at info level in the auto
// format, probing the process's stderr.
type Options struct {
	// Format is the output format; "" means FormatAuto.
	Format Format
	// Level is the minimum level logged; the zero value is info.
	Level zapcore.Level
	// IsJournal reports whether the output is systemd's journal; it decides
	// FormatAuto. nil means StderrIsJournal.
	IsJournal func() bool
	// IsTerminal reports whether the output is a terminal; it decides
	// FormatAuto and whether console output is coloured. nil means
	// StderrIsTerminal.
	IsTerminal func() bool
}

// EffectiveFormat returns the format New uses: o.Format, or for FormatAuto
// journal when the output is the journal, else console on a terminal, else
// json. It returns an unknown Format unchanged, for New to reject.
func (o Options) EffectiveFormat() Format {
	if o.Format != "" && o.Format != FormatAuto {
		return o.Format
	}
	switch {
	case o.isJournal():
		return FormatJournal
	case o.isTerminal():
		return FormatConsole
	default:
		return FormatJSON
	}
}

func (o Options) isJournal() bool {
	if o.IsJournal == nil {
		return StderrIsJournal()
	}
	return o.IsJournal()
}

func (o Options) isTerminal() bool {
	if o.IsTerminal == nil {
		return StderrIsTerminal()
	}
	return o.IsTerminal()
}
