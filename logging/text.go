package logging

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap/buffer"
)

// needsQuote reports whether s must be quoted to stay one unambiguous value
// on one line: empty, or holding a space, '"', '=', a control or other
// non-printable character, or invalid UTF-8.
func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		switch {
		case r == ' ', r == '"', r == '=':
			return true
		case r == utf8.RuneError, !unicode.IsPrint(r):
			// RuneError also stands for invalid UTF-8, which a reader could
			// not decode; a real U+FFFD is quoted harmlessly.
			return true
		}
	}
	return false
}

// appendValue appends s, Go-quoted if needsQuote says so.
func appendValue(buf *buffer.Buffer, s string) {
	if needsQuote(s) {
		buf.AppendString(strconv.Quote(s))
		return
	}
	buf.AppendString(s)
}

// appendPair appends " key=value"; key is already sanitised and prefixed.
func appendPair(buf *buffer.Buffer, key, value string) {
	buf.AppendByte(' ')
	buf.AppendString(key)
	buf.AppendByte('=')
	appendValue(buf, value)
}

// appendText appends a logger name or message as is, unless it holds a
// character that could break the line: then with Go escapes, unquoted.
func appendText(buf *buffer.Buffer, s string) {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			q := strconv.Quote(s)
			buf.AppendString(q[1 : len(q)-1])
			return
		}
	}
	buf.AppendString(s)
}

// sanitizeKey replaces each character that would need quoting with '_', so
// keys never need quotes; an empty key becomes "_".
func sanitizeKey(k string) string {
	if k != "" && !needsQuote(k) {
		return k
	}
	if k == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || r == ' ' || r == '"' || r == '=' || !unicode.IsPrint(r) {
			return '_'
		}
		return r
	}, k)
}

func appendKey(buf *buffer.Buffer, k string) {
	buf.AppendString(sanitizeKey(k))
}

func formatBool(v bool) string { return strconv.FormatBool(v) }

// formatFloat writes NaN, +Inf and -Inf as Go does; they need no quotes.
func formatFloat(v float64, bits int) string {
	return strconv.FormatFloat(v, 'g', -1, bits)
}

func formatComplex(v complex128, bits int) string {
	return strconv.FormatComplex(v, 'g', -1, bits)
}

func formatUintptr(v uintptr) string {
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

func formatTime(t time.Time) string {
	return t.Format(time.RFC3339Nano)
}

func formatBinary(v []byte) string {
	return base64.StdEncoding.EncodeToString(v)
}

// formatReflected renders v as compact JSON, without HTML escaping, which is
// what zap's JSON encoder would have written for it.
func formatReflected(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
