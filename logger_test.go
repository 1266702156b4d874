package main

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The logger writes what slog's text handler writes, field for field
// (the time aside, which slog's ReplaceAttr drops here).
func TestLoggerMatchesSlog(t *testing.T) {
	var ours, theirs bytes.Buffer
	level := new(LevelVar)
	level.Set(LevelDebug)
	l := newTextLogger(&ours, level, false).With("sub", "ike", "peer addr", netip.MustParseAddr("2001:db8::1"))
	s := slog.New(slog.NewTextHandler(&theirs, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(g []string, a slog.Attr) slog.Attr {
		if len(g) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})).With("sub", "ike", "peer addr", netip.MustParseAddr("2001:db8::1"))
	type rec struct {
		msg  string
		args []any
	}
	var nilErr error
	recs := []rec{
		{"plain", nil},
		{"with space", []any{"k", "v w", "empty", "", "eq", "a=b", "q", `say "hi"`, "nl", "a\nb", "bs", `c:\x`}},
		{"numbers", []any{"i", -3, "u8", uint8(7), "u64", uint64(1) << 63, "f", 1.5, "b", true, "d", 1500 * time.Millisecond}},
		{"errors", []any{"err", errors.New("tun: permission denied"), "nil", nilErr, "bytes", []byte("ab c")}},
		{"odd", []any{"k", 1, "dangling"}},
		{"unicode é", []any{"k", "é\u00a0x", "bad", "\xff", "tab", "a\tb"}},
		{"struct", []any{"s", struct{ A, B int }{1, 2}, "ptr", (*int)(nil)}},
	}
	for _, r := range recs {
		l.Info(r.msg, r.args...)
		s.Info(r.msg, r.args...)
		l.Debug(r.msg, r.args...)
		s.Debug(r.msg, r.args...)
	}
	if ours.String() != theirs.String() {
		t.Errorf("ours:\n%s\nslog:\n%s", ours.String(), theirs.String())
	}
}

func TestLoggerLevelsAndTime(t *testing.T) {
	var b bytes.Buffer
	level := new(LevelVar)
	l := newTextLogger(&b, level, true)
	l.Debug("hidden")
	l.Info("shown", "n", 1)
	level.Set(LevelError)
	l.Warn("hidden too")
	l.Error("bad")
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], " level=INFO msg=shown n=1") || !strings.HasSuffix(lines[1], " level=ERROR msg=bad") {
		t.Fatalf("got %q", lines)
	}
	ts, _, _ := strings.Cut(strings.TrimPrefix(lines[0], "time="), " ")
	if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", ts); err != nil {
		t.Errorf("time %q: %v", ts, err)
	}
	// Unlike slog, a DEL is quoted too: a log line stays printable.
	b.Reset()
	l.Error("x", "ctl", "\x7f")
	if !strings.HasSuffix(b.String(), ` ctl="\x7f"`+"\n") {
		t.Errorf("DEL: %q", b.String())
	}
	var nilLog *Logger
	nilLog.With("a", 1).Error("discarded") // must not panic
}

// The syslog client sends log/syslog's local format to the socket, and
// reconnects after the daemon restarts.
func TestSyslogConn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	listen := func() *net.UnixConn {
		ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	ln := listen()
	old := syslogPaths
	syslogPaths = []string{filepath.Join(t.TempDir(), "none"), path}
	t.Cleanup(func() { syslogPaths = old })
	s, err := newSyslog("swanling")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	read := func(ln *net.UnixConn) string {
		buf := make([]byte, 512)
		ln.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	suffix := " swanling[" + strconv.Itoa(os.Getpid()) + "]: msg=hello k=1\n"
	if err := s.Warning("msg=hello k=1"); err != nil {
		t.Fatal(err)
	}
	got := read(ln)
	// <28> is LOG_DAEMON|LOG_WARNING; then time.Stamp.
	if !strings.HasPrefix(got, "<28>") || !strings.HasSuffix(got, suffix) {
		t.Errorf("got %q", got)
	} else if _, err := time.Parse(time.Stamp, strings.TrimSuffix(strings.TrimPrefix(got, "<28>"), suffix)); err != nil {
		t.Errorf("timestamp in %q: %v", got, err)
	}
	// The daemon restarts: the next write reconnects.
	ln.Close()
	os.Remove(path)
	ln = listen()
	defer ln.Close()
	if err := s.Err("msg=hello k=1"); err != nil {
		t.Fatal(err)
	}
	if got := read(ln); !strings.HasPrefix(got, "<27>") || !strings.HasSuffix(got, suffix) {
		t.Errorf("after restart got %q", got)
	}
}
