package logging

import (
	"time"

	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// fieldWriter is the journal format's zapcore.ObjectEncoder: it appends
// " key=value" pairs to buf, each key under prefix, the dotted path of the
// enclosing objects and namespaces ("" or "peer.").
//
// A fieldWriter is not safe for concurrent use.
type fieldWriter struct {
	buf    *buffer.Buffer
	prefix string
}

var _ zapcore.ObjectEncoder = (*fieldWriter)(nil)

// key appends " prefix+k=", after which the caller appends the value.
func (w *fieldWriter) key(k string) {
	w.buf.AppendByte(' ')
	w.buf.AppendString(w.prefix)
	appendKey(w.buf, k)
	w.buf.AppendByte('=')
}

// bare appends a pair whose value never needs quoting.
func (w *fieldWriter) bare(k, v string) {
	w.key(k)
	w.buf.AppendString(v)
}

func (w *fieldWriter) AddString(k, v string) {
	w.key(k)
	appendValue(w.buf, v)
}

func (w *fieldWriter) AddByteString(k string, v []byte) { w.AddString(k, string(v)) }
func (w *fieldWriter) AddBinary(k string, v []byte)     { w.AddString(k, formatBinary(v)) }
func (w *fieldWriter) AddBool(k string, v bool)         { w.bare(k, formatBool(v)) }

func (w *fieldWriter) AddComplex128(k string, v complex128) { w.bare(k, formatComplex(v, 128)) }
func (w *fieldWriter) AddComplex64(k string, v complex64) {
	w.bare(k, formatComplex(complex128(v), 64))
}
func (w *fieldWriter) AddFloat64(k string, v float64) { w.bare(k, formatFloat(v, 64)) }
func (w *fieldWriter) AddFloat32(k string, v float32) { w.bare(k, formatFloat(float64(v), 32)) }

func (w *fieldWriter) AddInt(k string, v int)     { w.AddInt64(k, int64(v)) }
func (w *fieldWriter) AddInt32(k string, v int32) { w.AddInt64(k, int64(v)) }
func (w *fieldWriter) AddInt16(k string, v int16) { w.AddInt64(k, int64(v)) }
func (w *fieldWriter) AddInt8(k string, v int8)   { w.AddInt64(k, int64(v)) }
func (w *fieldWriter) AddInt64(k string, v int64) {
	w.key(k)
	w.buf.AppendInt(v)
}

func (w *fieldWriter) AddUint(k string, v uint)     { w.AddUint64(k, uint64(v)) }
func (w *fieldWriter) AddUint32(k string, v uint32) { w.AddUint64(k, uint64(v)) }
func (w *fieldWriter) AddUint16(k string, v uint16) { w.AddUint64(k, uint64(v)) }
func (w *fieldWriter) AddUint8(k string, v uint8)   { w.AddUint64(k, uint64(v)) }
func (w *fieldWriter) AddUint64(k string, v uint64) {
	w.key(k)
	w.buf.AppendUint(v)
}
func (w *fieldWriter) AddUintptr(k string, v uintptr) { w.bare(k, formatUintptr(v)) }

func (w *fieldWriter) AddDuration(k string, v time.Duration) { w.bare(k, v.String()) }
func (w *fieldWriter) AddTime(k string, v time.Time)         { w.AddString(k, formatTime(v)) }

func (w *fieldWriter) AddReflected(k string, v any) error {
	s, err := formatReflected(v)
	if err != nil {
		return err
	}
	w.AddString(k, s)
	return nil
}

// OpenNamespace puts every later field of this writer under k.
func (w *fieldWriter) OpenNamespace(k string) {
	w.prefix = joinPath(w.prefix, k)
}

// AddObject flattens the object's fields to k.field=value.
func (w *fieldWriter) AddObject(k string, v zapcore.ObjectMarshaler) error {
	obj := fieldWriter{buf: w.buf, prefix: joinPath(w.prefix, k)}
	return v.MarshalLogObject(&obj)
}

// AddArray writes the array's elements; see arrayEncoder for the layout.
func (w *fieldWriter) AddArray(k string, v zapcore.ArrayMarshaler) error {
	arr := arrayEncoder{path: w.prefix + sanitizeKey(k)}
	err := v.MarshalLogArray(&arr)
	arr.writeTo(w.buf)
	return err
}

// joinPath returns the prefix for fields nested under k.
func joinPath(prefix, k string) string {
	return prefix + sanitizeKey(k) + "."
}
