package logging

import (
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// NewJournalEncoder returns a zapcore.Encoder for systemd's journal. Each
// event becomes one line:
//
//	<4>refresh: refresh failed reason=throttled code=Throttling.User retry_in=1.6s
//
// that is: the sd-daemon priority prefix (<3> error and above, <4> warn, <6>
// info, <7> debug) that journald turns into the entry's PRIORITY, so
// journalctl -p works; no timestamp, since the journal records its own; the
// logger name and a colon; the message; then the logger's With fields and the
// event's fields as key=value pairs.
//
// Values are written bare when that is unambiguous and as a Go-quoted string
// (strconv.Quote) when empty or holding a space, '"', '=', a control or
// non-printable character or invalid UTF-8, so one event never spans lines.
// Keys have those characters replaced by '_'. Types are written as:
//
//   - durations as Go duration strings (1.6s), times as RFC 3339 with
//     nanoseconds, floats and complex numbers as Go's 'g' format, uintptrs in
//     hex, binary as standard base64, errors (zap.Error) under the key error;
//   - nested objects and namespaces flattened: key.sub=value;
//   - arrays of scalars comma-joined (added=i-1,i-2; an element holding a
//     comma or needing quotes is Go-quoted first; an empty array is "");
//     arrays holding objects or arrays flattened by index: key.0.sub=value;
//   - anything else (zap.Reflect, zap.Any of other types) as compact JSON.
//
// The caller and a stack trace, when the logger adds them, follow as
// caller= and stacktrace= (quoted, so on the same line).
//
// Like zap's own encoders, Clone and EncodeEntry are safe for concurrent use
// and the Add methods are not; a zapcore.Core uses the encoder that way.
func NewJournalEncoder() zapcore.Encoder {
	pool := buffer.NewPool()
	return &journalEncoder{fieldWriter: fieldWriter{buf: pool.Get()}, pool: pool}
}

// journalEncoder renders With fields into its embedded fieldWriter, whose
// methods make it a zapcore.ObjectEncoder. EncodeEntry copies those rendered
// fields into each line and never writes to them.
type journalEncoder struct {
	fieldWriter
	pool buffer.Pool
}

var _ zapcore.Encoder = (*journalEncoder)(nil)

func (e *journalEncoder) Clone() zapcore.Encoder {
	c := &journalEncoder{fieldWriter: fieldWriter{buf: e.pool.Get(), prefix: e.prefix}, pool: e.pool}
	c.buf.Write(e.buf.Bytes())
	return c
}

func (e *journalEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	line := e.pool.Get()
	line.AppendString(priority(ent.Level))
	if ent.LoggerName != "" {
		appendText(line, ent.LoggerName)
		line.AppendByte(':')
		if ent.Message != "" {
			line.AppendByte(' ')
		}
	}
	appendText(line, ent.Message)

	line.Write(e.buf.Bytes())
	w := fieldWriter{buf: line, prefix: e.prefix}
	for _, f := range fields {
		f.AddTo(&w)
	}

	// Outside any namespace the event's fields opened.
	meta := fieldWriter{buf: line}
	if ent.Caller.Defined {
		meta.AddString("caller", ent.Caller.TrimmedPath())
	}
	if ent.Stack != "" {
		meta.AddString("stacktrace", ent.Stack)
	}
	line.AppendByte('\n')
	return line, nil
}

// priority returns the sd-daemon(3) prefix for a level.
func priority(l zapcore.Level) string {
	switch {
	case l >= zapcore.ErrorLevel:
		return "<3>"
	case l == zapcore.WarnLevel:
		return "<4>"
	case l == zapcore.InfoLevel:
		return "<6>"
	default:
		return "<7>"
	}
}
