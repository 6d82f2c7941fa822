package logging

import (
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// arrayEncoder is the journal format's zapcore.ArrayEncoder. It collects the
// elements and writes them once complete, because the layout depends on all
// of them:
//
//   - scalars only: one pair, path=a,b,c, each element Go-quoted if it holds
//     a comma or needs quoting anyway, and the joined value quoted by the
//     usual rule;
//   - any object or array element: one or more pairs per element, keyed by
//     index: path.0=a, path.1.sub=b, path.2=c,d.
//
// An arrayEncoder is not safe for concurrent use.
type arrayEncoder struct {
	path  string // full, sanitised key of the array
	elems []arrayElem
}

// arrayElem is either a scalar's text, unquoted, or (nested) the rendered
// " key=value" pairs of an object or array element.
type arrayElem struct {
	text   string
	nested bool
}

var _ zapcore.ArrayEncoder = (*arrayEncoder)(nil)

func (a *arrayEncoder) writeTo(buf *buffer.Buffer) {
	if !a.hasNested() {
		var joined strings.Builder
		for i, el := range a.elems {
			if i > 0 {
				joined.WriteByte(',')
			}
			if needsQuote(el.text) || strings.ContainsRune(el.text, ',') {
				joined.WriteString(strconv.Quote(el.text))
			} else {
				joined.WriteString(el.text)
			}
		}
		appendPair(buf, a.path, joined.String())
		return
	}
	for i, el := range a.elems {
		if el.nested {
			buf.AppendString(el.text)
		} else {
			appendPair(buf, a.elemPath(i), el.text)
		}
	}
}

func (a *arrayEncoder) hasNested() bool {
	for _, el := range a.elems {
		if el.nested {
			return true
		}
	}
	return false
}

func (a *arrayEncoder) elemPath(i int) string {
	return a.path + "." + strconv.Itoa(i)
}

func (a *arrayEncoder) scalar(s string) {
	a.elems = append(a.elems, arrayElem{text: s})
}

func (a *arrayEncoder) AppendObject(v zapcore.ObjectMarshaler) error {
	var buf buffer.Buffer
	obj := fieldWriter{buf: &buf, prefix: a.elemPath(len(a.elems)) + "."}
	err := v.MarshalLogObject(&obj)
	a.elems = append(a.elems, arrayElem{text: buf.String(), nested: true})
	return err
}

func (a *arrayEncoder) AppendArray(v zapcore.ArrayMarshaler) error {
	inner := arrayEncoder{path: a.elemPath(len(a.elems))}
	err := v.MarshalLogArray(&inner)
	var buf buffer.Buffer
	inner.writeTo(&buf)
	a.elems = append(a.elems, arrayElem{text: buf.String(), nested: true})
	return err
}

func (a *arrayEncoder) AppendReflected(v any) error {
	s, err := formatReflected(v)
	if err != nil {
		return err
	}
	a.scalar(s)
	return nil
}

func (a *arrayEncoder) AppendBool(v bool)              { a.scalar(formatBool(v)) }
func (a *arrayEncoder) AppendByteString(v []byte)      { a.scalar(string(v)) }
func (a *arrayEncoder) AppendComplex128(v complex128)  { a.scalar(formatComplex(v, 128)) }
func (a *arrayEncoder) AppendComplex64(v complex64)    { a.scalar(formatComplex(complex128(v), 64)) }
func (a *arrayEncoder) AppendFloat64(v float64)        { a.scalar(formatFloat(v, 64)) }
func (a *arrayEncoder) AppendFloat32(v float32)        { a.scalar(formatFloat(float64(v), 32)) }
func (a *arrayEncoder) AppendInt(v int)                { a.AppendInt64(int64(v)) }
func (a *arrayEncoder) AppendInt64(v int64)            { a.scalar(strconv.FormatInt(v, 10)) }
func (a *arrayEncoder) AppendInt32(v int32)            { a.AppendInt64(int64(v)) }
func (a *arrayEncoder) AppendInt16(v int16)            { a.AppendInt64(int64(v)) }
func (a *arrayEncoder) AppendInt8(v int8)              { a.AppendInt64(int64(v)) }
func (a *arrayEncoder) AppendString(v string)          { a.scalar(v) }
func (a *arrayEncoder) AppendUint(v uint)              { a.AppendUint64(uint64(v)) }
func (a *arrayEncoder) AppendUint64(v uint64)          { a.scalar(strconv.FormatUint(v, 10)) }
func (a *arrayEncoder) AppendUint32(v uint32)          { a.AppendUint64(uint64(v)) }
func (a *arrayEncoder) AppendUint16(v uint16)          { a.AppendUint64(uint64(v)) }
func (a *arrayEncoder) AppendUint8(v uint8)            { a.AppendUint64(uint64(v)) }
func (a *arrayEncoder) AppendUintptr(v uintptr)        { a.scalar(formatUintptr(v)) }
func (a *arrayEncoder) AppendDuration(v time.Duration) { a.scalar(v.String()) }
func (a *arrayEncoder) AppendTime(v time.Time)         { a.scalar(formatTime(v)) }
