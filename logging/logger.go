package logging

import (
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New builds the program's logger, writing to w in the format and at the
// level o selects. It fails only for an unknown o.Format.
//
// The logger has no sampling (joinhintd logs a handful of lines a minute),
// reports its own encoding errors to w, records stack traces only from
// DPanic up, and (except in the journal format, whose lines stay short)
// records the caller.
//
// Like every zap logger the result is safe for concurrent use, provided w is:
// an *os.File such as os.Stderr is; wrap anything else with zapcore.Lock.
// Each event reaches w in a single Write.
func New(w zapcore.WriteSyncer, o Options) (*zap.Logger, error) {
	format := o.EffectiveFormat()
	var enc zapcore.Encoder
	switch format {
	case FormatJournal:
		enc = NewJournalEncoder()
	case FormatConsole:
		enc = newConsoleEncoder(o.isTerminal())
	case FormatJSON:
		enc = newJSONEncoder()
	default:
		return nil, fmt.Errorf("invalid --log-format %q: want auto, journal, console or json", string(o.Format))
	}

	opts := []zap.Option{zap.ErrorOutput(w), zap.AddStacktrace(zapcore.DPanicLevel)}
	if format != FormatJournal {
		opts = append(opts, zap.AddCaller())
	}
	return zap.New(zapcore.NewCore(enc, w, o.Level), opts...), nil
}

// newJSONEncoder is zap's production JSON encoder with readable ISO 8601
// timestamps under "ts" instead of epoch floats.
func newJSONEncoder() zapcore.Encoder {
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	return zapcore.NewJSONEncoder(cfg)
}

// newConsoleEncoder is zap's development console encoder (ISO 8601 times,
// Go duration strings), coloured only when a terminal will show the colour.
func newConsoleEncoder(colour bool) zapcore.Encoder {
	cfg := zap.NewDevelopmentEncoderConfig()
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.EncodeLevel = zapcore.CapitalLevelEncoder
	if colour {
		cfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
	}
	return zapcore.NewConsoleEncoder(cfg)
}
