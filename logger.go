package main

// A small leveled key-value logger with the output of log/slog's text
// handler ("time=... level=INFO msg=\"...\" key=value"). log/slog linked
// encoding/json and its own formatting, about 110 KB on the MIPS routers,
// for the one handler swanling uses.

import (
	"encoding"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Level orders messages; the values are slog's, so levels compare alike.
type Level int32

const (
	LevelDebug Level = -4
	LevelInfo  Level = 0
	LevelWarn  Level = 4
	LevelError Level = 8
)

func (l Level) String() string {
	switch {
	case l >= LevelError:
		return "ERROR"
	case l >= LevelWarn:
		return "WARN"
	case l >= LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

// LevelVar is a level that can change while loggers use it (SIGHUP).
type LevelVar struct{ v atomic.Int32 }

func (v *LevelVar) Level() Level   { return Level(v.v.Load()) }
func (v *LevelVar) Set(l Level)    { v.v.Store(int32(l)) }
func (v *LevelVar) String() string { return v.Level().String() }

// logSink is what the loggers derived by With share: one writer, written
// one whole record at a time.
type logSink struct {
	mu       sync.Mutex
	w        io.Writer
	level    *LevelVar
	withTime bool
}

// Logger writes records of a message and key-value pairs. A nil *Logger
// discards everything, so it is always safe to call.
type Logger struct {
	sink  *logSink
	attrs []byte // " k=v" pairs from With, already formatted
}

// newTextLogger logs to w at the level of level (info when nil), one line
// per record; withTime adds slog's time= field (syslog stamps its own).
func newTextLogger(w io.Writer, level *LevelVar, withTime bool) *Logger {
	if level == nil {
		level = new(LevelVar)
	}
	return &Logger{sink: &logSink{w: w, level: level, withTime: withTime}}
}

func (l *Logger) Debug(msg string, args ...any) { l.log(LevelDebug, msg, args) }
func (l *Logger) Info(msg string, args ...any)  { l.log(LevelInfo, msg, args) }
func (l *Logger) Warn(msg string, args ...any)  { l.log(LevelWarn, msg, args) }
func (l *Logger) Error(msg string, args ...any) { l.log(LevelError, msg, args) }

// Enabled reports whether a record at level would be written.
func (l *Logger) Enabled(level Level) bool {
	return l != nil && level >= l.sink.level.Level()
}

// With returns a logger that adds the key-value pairs to every record.
func (l *Logger) With(args ...any) *Logger {
	if l == nil {
		return nil
	}
	return &Logger{sink: l.sink, attrs: appendAttrs(append([]byte(nil), l.attrs...), args)}
}

func (l *Logger) log(level Level, msg string, args []any) {
	if !l.Enabled(level) {
		return
	}
	s := l.sink
	b := make([]byte, 0, 128)
	if s.withTime {
		b = append(b, "time="...)
		b = time.Now().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, ' ')
	}
	b = append(b, "level="...)
	b = append(b, level.String()...)
	b = append(b, " msg="...)
	b = appendLogString(b, msg)
	b = append(b, l.attrs...)
	b = appendAttrs(b, args)
	b = append(b, '\n')
	s.mu.Lock()
	s.w.Write(b)
	s.mu.Unlock()
}

// appendAttrs formats key-value pairs as " k=v". A key that is not a
// string, or a value without its key, is written as slog does:
// !BADKEY=value.
func appendAttrs(b []byte, args []any) []byte {
	for len(args) > 0 {
		key, ok := args[0].(string)
		var val any
		if !ok || len(args) == 1 {
			key, val, args = "!BADKEY", args[0], args[1:]
		} else {
			val, args = args[1], args[2:]
		}
		b = append(b, ' ')
		b = appendLogString(b, key)
		b = append(b, '=')
		b = appendLogValue(b, val)
	}
	return b
}

func appendLogValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendLogString(b, x)
	case nil:
		return append(b, "<nil>"...)
	case error:
		return appendLogString(b, x.Error())
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case float32:
		return strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case time.Duration:
		return append(b, x.String()...)
	case time.Time:
		return x.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	case []byte:
		return strconv.AppendQuote(b, string(x))
	case encoding.TextMarshaler:
		t, err := x.MarshalText()
		if err != nil {
			return append(b, "!ERROR:"+err.Error()...)
		}
		return appendLogString(b, string(t))
	}
	return appendLogString(b, fmt.Sprintf("%+v", v))
}

// appendLogString writes s bare, or quoted (Go syntax) when it is empty or
// holds a space, '=', '"', a control character or anything not printable,
// as slog's text handler does.
func appendLogString(b []byte, s string) []byte {
	quote := s == ""
	for i := 0; i < len(s) && !quote; {
		c := s[i]
		if c < utf8.RuneSelf {
			quote = c <= ' ' || c == '=' || c == '"' || c == 0x7f
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		quote = r == utf8.RuneError || !strconv.IsPrint(r)
		i += size
	}
	if quote {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// syslogConn sends records to the local syslog daemon the way log/syslog
// does on Linux ("<PRI>Jan _2 15:04:05 TAG[PID]: MSG" over /dev/log, a
// datagram socket or else a stream one, reconnecting once when a write
// fails). log/syslog dials through net.Dial, which links net's whole DNS
// resolver (about 200 KB on mipsle together with the other callers); a
// unix socket needs none of it.
type syslogConn struct {
	mu   sync.Mutex
	conn *net.UnixConn
	tag  string
}

// syslogPaths are where the syslog daemon listens, as log/syslog tries them.
var syslogPaths = []string{"/dev/log", "/var/run/syslog", "/var/run/log"}

// syslogFacility is LOG_DAEMON (RFC 5424, Section 6.2.1).
const syslogFacility = 3 << 3

func newSyslog(tag string) (*syslogConn, error) {
	s := &syslogConn{tag: tag}
	if err := s.connect(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *syslogConn) connect() error {
	var err error
	for _, path := range syslogPaths {
		for _, network := range []string{"unixgram", "unix"} {
			var c *net.UnixConn
			if c, err = net.DialUnix(network, nil, &net.UnixAddr{Name: path, Net: network}); err == nil {
				s.conn = c
				return nil
			}
		}
	}
	return errors.New("unix syslog delivery error: " + err.Error())
}

func (s *syslogConn) send(severity int, msg string) error {
	b := make([]byte, 0, len(msg)+48)
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(syslogFacility|severity), 10)
	b = append(b, '>')
	b = time.Now().AppendFormat(b, time.Stamp)
	b = append(b, ' ')
	b = append(b, s.tag...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(os.Getpid()), 10)
	b = append(b, "]: "...)
	b = append(b, msg...)
	if !strings.HasSuffix(msg, "\n") {
		b = append(b, '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		if _, err := s.conn.Write(b); err == nil {
			return nil
		}
		s.conn.Close()
		s.conn = nil
	}
	if err := s.connect(); err != nil {
		return err
	}
	_, err := s.conn.Write(b)
	return err
}

// Severities of RFC 5424, Section 6.2.1.
func (s *syslogConn) Err(m string) error     { return s.send(3, m) }
func (s *syslogConn) Warning(m string) error { return s.send(4, m) }
func (s *syslogConn) Info(m string) error    { return s.send(6, m) }
func (s *syslogConn) Debug(m string) error   { return s.send(7, m) }

func (s *syslogConn) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
