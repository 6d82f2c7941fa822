package logging

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// journalLogger returns a logger writing journal lines to the returned buffer.
func journalLogger(t *testing.T, opts ...zap.Option) (*zap.Logger, *syncBuffer) {
	t.Helper()
	var out syncBuffer
	core := zapcore.NewCore(NewJournalEncoder(), &out, zapcore.DebugLevel)
	return zap.New(core, opts...), &out
}

// syncBuffer is a goroutine-safe zapcore.WriteSyncer for tests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Sync() error { return nil }

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func encodeLine(t *testing.T, enc zapcore.Encoder, ent zapcore.Entry, fields ...zapcore.Field) string {
	t.Helper()
	buf, err := enc.EncodeEntry(ent, fields)
	if err != nil {
		t.Fatalf("EncodeEntry: %v", err)
	}
	defer buf.Free()
	return buf.String()
}

func TestJournalPriorityPrefix(t *testing.T) {
	tests := []struct {
		level zapcore.Level
		want  string
	}{
		{zapcore.DebugLevel, "<7>page fetched\n"},
		{zapcore.InfoLevel, "<6>page fetched\n"},
		{zapcore.WarnLevel, "<4>page fetched\n"},
		{zapcore.ErrorLevel, "<3>page fetched\n"},
		{zapcore.DPanicLevel, "<3>page fetched\n"},
		{zapcore.PanicLevel, "<3>page fetched\n"},
		{zapcore.FatalLevel, "<3>page fetched\n"},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			ent := zapcore.Entry{Level: tt.level, Time: time.Now(), Message: "page fetched"}
			if got := encodeLine(t, NewJournalEncoder(), ent); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJournalHeader(t *testing.T) {
	tests := []struct {
		name, logger, msg string
		fields            []zapcore.Field
		want              string
	}{
		{name: "message only", msg: "started", want: "<6>started\n"},
		{name: "named", logger: "refresh", msg: "peer set changed", want: "<6>refresh: peer set changed\n"},
		{name: "nested name", logger: "daemon.http", msg: "listening", want: "<6>daemon.http: listening\n"},
		{name: "name without message", logger: "http", fields: []zapcore.Field{zap.Int("n", 1)}, want: "<6>http: n=1\n"},
		{name: "newline in message", msg: "two\nlines", want: "<6>two\\nlines\n"},
		{name: "carriage return and tab in name", logger: "a\rb\tc", msg: "m", want: "<6>a\\rb\\tc: m\n"},
		{name: "quotes in message kept", msg: `say "hi"`, want: "<6>say \"hi\"\n"},
		{name: "invalid utf-8 in message", msg: "bad\xffbyte", want: "<6>bad\\xffbyte\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ent := zapcore.Entry{Level: zapcore.InfoLevel, LoggerName: tt.logger, Message: tt.msg}
			if got := encodeLine(t, NewJournalEncoder(), ent, tt.fields...); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestJournalQuoting(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"plain", "Throttling.User", `v=Throttling.User`},
		{"ip", "172.16.1.11", `v=172.16.1.11`},
		{"url", "https://ecs.cn-hangzhou.aliyuncs.com/?a=b", `v="https://ecs.cn-hangzhou.aliyuncs.com/?a=b"`},
		{"empty", "", `v=""`},
		{"space", "vault 1", `v="vault 1"`},
		{"quote", `say "hi"`, `v="say \"hi\""`},
		{"equals", "a=b", `v="a=b"`},
		{"newline", "line1\nline2", `v="line1\nline2"`},
		{"carriage return", "a\rb", `v="a\rb"`},
		{"tab", "a\tb", `v="a\tb"`},
		{"nul", "a\x00b", `v="a\x00b"`},
		{"escape char", "\x1b[31mred", `v="\x1b[31mred"`},
		{"delete", "a\x7fb", `v="a\x7fb"`},
		{"invalid utf-8", "a\xffb", `v="a\xffb"`},
		{"line separator", "a\u2028b", `v="a\u2028b"`},
		{"unicode printable", "華東1-杭州", `v=華東1-杭州`},
		{"backslash alone", `C:\dir`, `v=C:\dir`},
		{"comma", "a,b", `v=a,b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ent := zapcore.Entry{Level: zapcore.InfoLevel, Message: "m"}
			want := "<6>m " + tt.want + "\n"
			if got := encodeLine(t, NewJournalEncoder(), ent, zap.String("v", tt.value)); got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestJournalKeys(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{"plain", "request_id", "request_id=x"},
		{"space", "request id", "request_id=x"},
		{"equals", "a=b", "a_b=x"},
		{"newline", "a\nb", "a_b=x"},
		{"quote", `a"b`, "a_b=x"},
		{"empty", "", "_=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ent := zapcore.Entry{Level: zapcore.InfoLevel, Message: "m"}
			want := "<6>m " + tt.want + "\n"
			if got := encodeLine(t, NewJournalEncoder(), ent, zap.String(tt.key, "x")); got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

type peer struct {
	id, addr string
	tags     []string
}

func (p peer) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("id", p.id)
	enc.AddString("addr", p.addr)
	if p.tags != nil {
		return enc.AddArray("tags", zap.Strings("", p.tags).Interface.(zapcore.ArrayMarshaler))
	}
	return nil
}

type stringer string

func (s stringer) String() string { return string(s) }

type panicStringer struct{}

func (panicStringer) String() string { panic("boom") }

// groupError is an error with an Errors method, as go.uber.org/multierr's.
type groupError []error

func (g groupError) Error() string   { return "2 errors" }
func (g groupError) Errors() []error { return g }

// verboseError formats differently under %+v, as github.com/pkg/errors do.
type verboseError struct{}

func (verboseError) Error() string { return "short" }
func (verboseError) Format(s fmt.State, verb rune) {
	if s.Flag('+') {
		fmt.Fprint(s, "short\nwith detail")
		return
	}
	fmt.Fprint(s, "short")
}

type failingArray struct{}

func (failingArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	enc.AppendString("partial")
	return errors.New("array broke")
}

type allTypesArray struct{}

func (allTypesArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	enc.AppendBool(true)
	enc.AppendByteString([]byte("bs"))
	enc.AppendComplex128(complex(1, 2))
	enc.AppendComplex64(complex(3, -4))
	enc.AppendFloat64(1.5)
	enc.AppendFloat32(0.25)
	enc.AppendInt(-1)
	enc.AppendInt64(-64)
	enc.AppendInt32(-32)
	enc.AppendInt16(-16)
	enc.AppendInt8(-8)
	enc.AppendString("s")
	enc.AppendUint(1)
	enc.AppendUint64(64)
	enc.AppendUint32(32)
	enc.AppendUint16(16)
	enc.AppendUint8(8)
	enc.AppendUintptr(0xff)
	enc.AppendDuration(1600 * time.Millisecond)
	enc.AppendTime(time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC))
	return enc.AppendReflected([]int{1, 2})
}

type mixedArray struct{}

func (mixedArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	enc.AppendString("first")
	if err := enc.AppendObject(peer{id: "i-1", addr: "10.0.0.1"}); err != nil {
		return err
	}
	return enc.AppendArray(zap.Ints("", []int{7, 8}).Interface.(zapcore.ArrayMarshaler))
}

func TestJournalFieldTypes(t *testing.T) {
	at := time.Date(2026, 12, 3, 19, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name  string
		field zapcore.Field
		want  string // the fields part of the line, without the leading space
	}{
		{"binary", zap.Binary("b", []byte{0, 1, 2, 0xff}), `b="AAEC/w=="`},
		{"bytestring", zap.ByteString("bs", []byte("a b")), `bs="a b"`},
		{"bool", zap.Bool("ok", true), `ok=true`},
		{"complex128", zap.Complex128("c", complex(1.5, -2)), `c=(1.5-2i)`},
		{"complex64", zap.Complex64("c", complex64(complex(1, 2))), `c=(1+2i)`},
		{"duration", zap.Duration("retry_in", 1600*time.Millisecond), `retry_in=1.6s`},
		{"duration zero", zap.Duration("d", 0), `d=0s`},
		{"float64", zap.Float64("f", 0.1), `f=0.1`},
		{"float64 large", zap.Float64("f", 1e21), `f=1e+21`},
		{"float64 NaN", zap.Float64("f", math.NaN()), `f=NaN`},
		{"float64 +Inf", zap.Float64("f", math.Inf(1)), `f=+Inf`},
		{"float64 -Inf", zap.Float64("f", math.Inf(-1)), `f=-Inf`},
		{"float32", zap.Float32("f", 0.1), `f=0.1`},
		{"int", zap.Int("n", -42), `n=-42`},
		{"int64", zap.Int64("n", math.MinInt64), `n=-9223372036854775808`},
		{"int32", zap.Int32("n", math.MaxInt32), `n=2147483647`},
		{"int16", zap.Int16("n", -16), `n=-16`},
		{"int8", zap.Int8("n", -8), `n=-8`},
		{"string", zap.String("s", "x"), `s=x`},
		{"time", zap.Time("at", at), `at=2026-12-03T19:00:00.123456789+08:00`},
		{"time utc", zap.Time("at", at.UTC()), `at=2026-12-03T11:00:00.123456789Z`},
		{"time full (outside UnixNano range)", zap.Time("at", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)), `at=3000-01-01T00:00:00Z`},
		{"uint", zap.Uint("u", 1), `u=1`},
		{"uint64", zap.Uint64("u", math.MaxUint64), `u=18446744073709551615`},
		{"uint32", zap.Uint32("u", 32), `u=32`},
		{"uint16", zap.Uint16("u", 16), `u=16`},
		{"uint8", zap.Uint8("u", 8), `u=8`},
		{"uintptr", zap.Uintptr("p", 0xc000012345), `p=0xc000012345`},
		{"reflect slice", zap.Reflect("r", []int{1, 2}), `r=[1,2]`},
		{"reflect struct", zap.Reflect("r", struct{ A, B string }{"x", "<y>"}), `r="{\"A\":\"x\",\"B\":\"<y>\"}"`},
		{"reflect nil", zap.Reflect("r", nil), `r=null`},
		{"reflect unencodable", zap.Reflect("r", make(chan int)), `rError="json: unsupported type: chan int"`},
		{"any falls to typed", zap.Any("n", 3), `n=3`},
		{"stringer", zap.Stringer("s", stringer("a b")), `s="a b"`},
		{"stringer nil", zap.Stringer("s", (*ptrStringer)(nil)), `s=<nil>`},
		{"stringer panics", zap.Stringer("s", panicStringer{}), `sError="PANIC=boom"`},
		{"error", zap.Error(errors.New("dial tcp: i/o timeout")), `error="dial tcp: i/o timeout"`},
		{"error nil is skipped", zap.Error(nil), ``},
		{"named error", zap.NamedError("cause", errors.New("x")), `cause=x`},
		{"error group", zap.Error(groupError{errors.New("a"), errors.New("b c")}), `error="2 errors" errorCauses.0.error=a errorCauses.1.error="b c"`},
		{"verbose error", zap.Error(verboseError{}), `error=short errorVerbose="short\nwith detail"`},
		{"errors", zap.Errors("errs", []error{errors.New("a"), errors.New("b")}), `errs.0.error=a errs.1.error=b`},
		{"skip", zap.Skip(), ``},
		{"object", zap.Object("peer", peer{id: "i-1", addr: "10.0.0.1"}), `peer.id=i-1 peer.addr=10.0.0.1`},
		{"object with array", zap.Object("peer", peer{id: "i-1", addr: "a", tags: []string{"x", "y"}}), `peer.id=i-1 peer.addr=a peer.tags=x,y`},
		{"inline", zap.Inline(peer{id: "i-1", addr: "10.0.0.1"}), `id=i-1 addr=10.0.0.1`},
		{"strings", zap.Strings("added", []string{"i-bp1", "i-bp2"}), `added=i-bp1,i-bp2`},
		{"strings one", zap.Strings("added", []string{"i-bp1"}), `added=i-bp1`},
		{"strings empty", zap.Strings("added", []string{}), `added=""`},
		{"strings one empty element", zap.Strings("added", []string{""}), `added="\"\""`},
		{"strings needing quotes", zap.Strings("names", []string{"a b", "c,d", "e"}), `names="\"a b\",\"c,d\",e"`},
		{"ints", zap.Ints("n", []int{1, 2, 3}), `n=1,2,3`},
		{"durations", zap.Durations("d", []time.Duration{time.Second, 2 * time.Millisecond}), `d=1s,2ms`},
		{"every array element type", zap.Array("a", allTypesArray{}), `a="true,bs,(1+2i),(3-4i),1.5,0.25,-1,-64,-32,-16,-8,s,1,64,32,16,8,0xff,1.6s,2026-12-03T19:00:00Z,\"[1,2]\""`},
		{"objects", zap.Objects("peers", []peer{{id: "i-1", addr: "a"}, {id: "i-2", addr: "b"}}), `peers.0.id=i-1 peers.0.addr=a peers.1.id=i-2 peers.1.addr=b`},
		{"mixed array flattened by index", zap.Array("m", mixedArray{}), `m.0=first m.1.id=i-1 m.1.addr=10.0.0.1 m.2=7,8`},
		{"array marshal error", zap.Array("a", failingArray{}), `a=partial aError="array broke"`},
		{"namespace", zap.Namespace("ns"), ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ent := zapcore.Entry{Level: zapcore.InfoLevel, Message: "m"}
			want := "<6>m\n"
			if tt.want != "" {
				want = "<6>m " + tt.want + "\n"
			}
			if got := encodeLine(t, NewJournalEncoder(), ent, tt.field); got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// ptrStringer is a pointer type whose String method dereferences its receiver.
type ptrStringer struct{ s string }

func (ip *ptrStringer) String() string { return ip.s }

func TestJournalNamespace(t *testing.T) {
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Message: "m"}
	got := encodeLine(t, NewJournalEncoder(), ent,
		zap.String("a", "1"),
		zap.Namespace("ns"),
		zap.String("b", "2"),
		zap.Object("o", peer{id: "i", addr: "x"}),
		zap.Namespace("deeper"),
		zap.Int("c", 3),
	)
	want := "<6>m a=1 ns.b=2 ns.o.id=i ns.o.addr=x ns.deeper.c=3\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestJournalWith(t *testing.T) {
	log, out := journalLogger(t)
	refresh := log.Named("refresh").With(zap.String("region", "cn-hangzhou"))
	refresh.Warn("refresh failed",
		zap.String("reason", "throttled"),
		zap.String("code", "Throttling.User"),
		zap.String("request_id", "7A4A3C1E-0000"),
		zap.Duration("retry_in", 1600*time.Millisecond),
	)
	// Siblings built from one parent must not see each other's fields.
	a := refresh.With(zap.Int("page", 1))
	b := refresh.With(zap.Int("page", 2))
	a.Debug("page fetched")
	b.Debug("page fetched")
	a.Debug("page fetched", zap.Int("instances", 10))
	// A namespace opened by With holds the call's fields, not the caller's.
	refresh.With(zap.Namespace("ecs")).Info("page fetched", zap.Int("page", 3))
	refresh.Named("aliyun").Error("stopped serving", zap.Error(errors.New("listen tcp: address in use")))

	want := strings.Join([]string{
		"<4>refresh: refresh failed region=cn-hangzhou reason=throttled code=Throttling.User request_id=7A4A3C1E-0000 retry_in=1.6s",
		"<7>refresh: page fetched region=cn-hangzhou page=1",
		"<7>refresh: page fetched region=cn-hangzhou page=2",
		"<7>refresh: page fetched region=cn-hangzhou page=1 instances=10",
		"<6>refresh: page fetched region=cn-hangzhou ecs.page=3",
		`<3>refresh.aliyun: stopped serving region=cn-hangzhou error="listen tcp: address in use"`,
	}, "\n") + "\n"
	if got := out.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestJournalWithEveryFieldType(t *testing.T) {
	// With goes through the encoder's own ObjectEncoder methods and Clone,
	// not through EncodeEntry's fields: check they render the same.
	fields := []zapcore.Field{
		zap.Binary("b", []byte("hi")), zap.ByteString("bs", []byte("x")), zap.Bool("t", true),
		zap.Complex128("c", 1i), zap.Complex64("c64", 1i), zap.Duration("d", time.Second),
		zap.Float64("f", 1.5), zap.Float32("f32", 2.5), zap.Int("i", 1), zap.Int64("i64", 2),
		zap.Int32("i32", 3), zap.Int16("i16", 4), zap.Int8("i8", 5), zap.String("s", "a b"),
		zap.Time("at", time.Unix(0, 0).UTC()), zap.Uint("u", 1), zap.Uint64("u64", 2),
		zap.Uint32("u32", 3), zap.Uint16("u16", 4), zap.Uint8("u8", 5), zap.Uintptr("p", 16),
		zap.Reflect("r", []string{"x"}), zap.Strings("arr", []string{"a", "b"}),
		zap.Object("o", peer{id: "i", addr: "x"}), zap.Stringer("st", stringer("y")),
		zap.Error(errors.New("e")),
	}
	direct := encodeLine(t, NewJournalEncoder(), zapcore.Entry{Message: "m"}, fields...)

	enc := NewJournalEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	viaWith := encodeLine(t, enc.Clone(), zapcore.Entry{Message: "m"})
	if viaWith != direct {
		t.Errorf("With rendering differs\nwith:   %q\ndirect: %q", viaWith, direct)
	}
	const want = `<6>m b="aGk=" bs=x t=true c=(0+1i) c64=(0+1i) d=1s f=1.5 f32=2.5 i=1 i64=2 i32=3 i16=4 i8=5 s="a b" at=1970-01-01T00:00:00Z u=1 u64=2 u32=3 u16=4 u8=5 p=0x10 r="[\"x\"]" arr=a,b o.id=i o.addr=x st=y error=e` + "\n"
	if direct != want {
		t.Errorf("got  %q\nwant %q", direct, want)
	}
}

func TestJournalCloneIsDeep(t *testing.T) {
	parent := NewJournalEncoder()
	parent.AddString("a", "1")
	child := parent.Clone()
	child.AddString("b", "2")
	child.OpenNamespace("ns")
	parent.AddString("c", "3")

	ent := zapcore.Entry{Message: "m"}
	if got, want := encodeLine(t, parent, ent, zap.Int("x", 0)), "<6>m a=1 c=3 x=0\n"; got != want {
		t.Errorf("parent: got %q, want %q", got, want)
	}
	if got, want := encodeLine(t, child, ent, zap.Int("x", 0)), "<6>m a=1 b=2 ns.x=0\n"; got != want {
		t.Errorf("child: got %q, want %q", got, want)
	}
	// Encoding must not disturb the encoder's own fields either.
	if got, want := encodeLine(t, parent, ent), "<6>m a=1 c=3\n"; got != want {
		t.Errorf("parent re-encoded: got %q, want %q", got, want)
	}
}

func TestJournalCallerAndStack(t *testing.T) {
	ent := zapcore.Entry{
		Level:      zapcore.ErrorLevel,
		LoggerName: "http",
		Message:    "stopped serving",
		Caller:     zapcore.NewEntryCaller(0, "/src/joinhintd/daemon/http.go", 42, true),
		Stack:      "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:7",
	}
	enc := NewJournalEncoder()
	enc.OpenNamespace("ns") // caller and stack stay outside any namespace
	got := encodeLine(t, enc, ent, zap.Int("n", 1))
	want := `<3>http: stopped serving ns.n=1 caller=daemon/http.go:42 stacktrace="goroutine 1 [running]:\nmain.main()\n\t/src/main.go:7"` + "\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestJournalConcurrentUse(t *testing.T) {
	log, out := journalLogger(t)
	base := log.Named("refresh").With(zap.String("region", "cn-hangzhou"))
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			l := base.With(zap.Int("worker", w))
			for i := range each {
				l.Info("page fetched", zap.Int("page", i), zap.Strings("ids", []string{"i-1", "i-2"}))
			}
		})
	}
	wg.Wait()

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != workers*each {
		t.Fatalf("%d lines, want %d", len(lines), workers*each)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "<6>refresh: page fetched region=cn-hangzhou worker=") || !strings.HasSuffix(l, " ids=i-1,i-2") {
			t.Fatalf("malformed line %q", l)
		}
	}
}
