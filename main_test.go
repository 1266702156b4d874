package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"swanling/config"
	"swanling/hw"
)

// fakeDaemon records what the run loop asks of it.
type fakeDaemon struct {
	mu        sync.Mutex
	reloads   []*config.Config
	reloadErr error
	status    Status
	running   chan struct{} // closed when Run starts
	stopped   bool
}

func newFakeDaemon() *fakeDaemon { return &fakeDaemon{running: make(chan struct{})} }

func (f *fakeDaemon) Run(ctx context.Context) error {
	close(f.running)
	<-ctx.Done()
	f.mu.Lock()
	f.stopped = true // the real daemon deletes its SAs here
	f.mu.Unlock()
	return nil
}

func (f *fakeDaemon) Reload(cfg *config.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reloadErr != nil {
		return f.reloadErr
	}
	f.reloads = append(f.reloads, cfg)
	return nil
}

func (f *fakeDaemon) Status() Status { return f.status }

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSignalLoop drives the loop the way the kernel would: a bad reload is
// refused with file:line and the old config stays; a good one reaches the
// daemon; SIGTERM stops it cleanly.
func TestSignalLoop(t *testing.T) {
	d := newFakeDaemon()
	var logBuf syncBuffer
	level := new(LevelVar)
	log := newTextLogger(&logBuf, level, true)

	var loadMu sync.Mutex
	next := []struct {
		cfg *config.Config
		err error
	}{
		{nil, &config.Error{File: "swanling.toml", Line: 14, Key: "tunnel.hq.esp", Reason: `unknown cipher "aes129gcm16"`}},
		{&config.Config{File: "swanling.toml", Log: config.Log{Level: "debug"}}, nil},
	}
	load := func() (*config.Config, error) {
		loadMu.Lock()
		defer loadMu.Unlock()
		n := next[0]
		next = next[1:]
		return n.cfg, n.err
	}
	r := &runner{d: d, log: log, level: level, load: load}
	sigs := make(chan os.Signal)
	done := make(chan error, 1)
	go func() { done <- r.loop(context.Background(), sigs) }()
	<-d.running

	sigs <- syscall.SIGHUP // bad file
	sigs <- syscall.SIGHUP // good file; the unbuffered send also orders the first reload before it
	sigs <- syscall.SIGTERM
	if err := <-done; err != nil {
		t.Fatalf("loop: %v", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.stopped {
		t.Error("daemon context was not cancelled")
	}
	if len(d.reloads) != 1 || d.reloads[0].Log.Level != "debug" {
		t.Fatalf("reloads = %+v, want exactly the good config", d.reloads)
	}
	out := logBuf.String()
	for _, want := range []string{"reload refused", "file=swanling.toml", "line=14", "key=tunnel.hq.esp", "aes129gcm16", "configuration reloaded", "shutting down"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if level.Level() != LevelDebug {
		t.Errorf("log level after reload = %v, want debug", level.Level())
	}
}

func TestSignalLoopReloadRejectedByDaemon(t *testing.T) {
	d := newFakeDaemon()
	d.reloadErr = errors.New("listen address change needs a restart")
	var logBuf syncBuffer
	level := new(LevelVar)
	r := &runner{d: d, log: newTextLogger(&logBuf, nil, true), level: level,
		load: func() (*config.Config, error) { return &config.Config{Log: config.Log{Level: "error"}}, nil }}
	sigs := make(chan os.Signal)
	done := make(chan error, 1)
	go func() { done <- r.loop(context.Background(), sigs) }()
	<-d.running
	sigs <- syscall.SIGHUP
	sigs <- syscall.SIGINT
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logBuf.String(), "needs a restart") {
		t.Errorf("log: %s", logBuf.String())
	}
	if level.Level() != LevelInfo {
		t.Errorf("level changed to %v although the reload failed", level.Level())
	}
}

// A daemon that fails on its own ends the loop with its error.
type failingDaemon struct{ fakeDaemon }

func (f *failingDaemon) Run(ctx context.Context) error { return errors.New("tun: permission denied") }

func TestSignalLoopDaemonError(t *testing.T) {
	r := &runner{d: &failingDaemon{}, log: newTextLogger(&syncBuffer{}, nil, true), level: new(LevelVar)}
	if err := r.loop(context.Background(), make(chan os.Signal)); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("loop = %v", err)
	}
}

func sampleStatus() Status {
	return Status{
		IKE: []IKEStatus{{Peer: "198.51.100.2", LocalID: "192.0.2.1", RemoteID: "198.51.100.2",
			Algorithms: "aes128gcm16-prfsha256-x25519", AgeSeconds: 3725, State: "established"}},
		Child: []ChildStatus{{Tunnel: "hq", Peer: "198.51.100.2", SPIIn: "c1a2b3c4", SPIOut: "0badf00d",
			Algorithms: "chacha20poly1305", AgeSeconds: 42, BytesIn: 1 << 40, BytesOut: 12345, PacketsIn: 7, PacketsOut: 9,
			Drops: map[string]uint64{"replay": 3, "auth": 1}}},
		Dataplane: &DataplaneStatus{Interface: "swl0", MTU: 1410, RxPackets: 5, TxPackets: 6, Policies: 2,
			Drops: map[string]uint64{"no_policy": 1}, SocketBufferBytes: 1 << 25, UDPGSO: true},
	}
}

func TestControlSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "control.sock")
	d := newFakeDaemon()
	d.status = sampleStatus()
	s, err := listenControl(path, d, newTextLogger(&syncBuffer{}, nil, true))
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want socket 0600", fi.Mode())
	}

	resp, err := queryControl(path, "status-json")
	if err != nil {
		t.Fatal(err)
	}
	var sock Status
	if err := json.Unmarshal(resp, &sock); err != nil || !reflect.DeepEqual(sock, d.status) {
		t.Errorf("status over the socket = %s (%v), want %+v", resp, err, d.status)
	}
	if _, err := queryControl(path, "reboot"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}

	// The CLI client: JSON and the table.
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb}
	if code := c.main([]string{"status", "-json", "-control", path}); code != 0 {
		t.Fatalf("status -json: %d %s", code, errb.String())
	}
	var got Status
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || !reflect.DeepEqual(got, d.status) {
		t.Errorf("status -json = %s (%v)", out.String(), err)
	}
	out.Reset()
	if code := c.main([]string{"status", "-control", path}); code != 0 {
		t.Fatalf("status: %d %s", code, errb.String())
	}
	for _, want := range []string{"IKE SAs: 1", "Child SAs: 1", "198.51.100.2", "established", "1h2m5s", "c1a2b3c4", "1099511627776", "chacha20poly1305",
		"auth=1,replay=3", "swl0 mtu 1410", "2 policies", "UDP GSO on", "Drops: no_policy=1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}

	// A second daemon must not steal a live socket.
	if _, err := listenControl(path, d, newTextLogger(io.Discard, nil, false)); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second listen: %v", err)
	}
	s.Close()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket left behind after Close: %v", err)
	}
	if code := c.main([]string{"status", "-control", path}); code != 1 {
		t.Errorf("status without daemon exited %d", code)
	}
}

func TestControlSocketStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	// A socket file nobody listens on, as a crashed daemon leaves it.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd)
	s, err := listenControl(path, newFakeDaemon(), newTextLogger(io.Discard, nil, false))
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	s.Close()

	// A regular file is never removed.
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := listenControl(path, newFakeDaemon(), newTextLogger(io.Discard, nil, false)); err == nil {
		t.Error("regular file replaced by the control socket")
	}
}

func TestControlBadRequest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	s, err := listenControl(path, newFakeDaemon(), newTextLogger(&syncBuffer{}, nil, true))
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// No newline within the request limit.
	conn.Write(bytes.Repeat([]byte("x"), maxControlRequest))
	resp, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(resp), "error: bad request") {
		t.Errorf("response %q", resp)
	}
}

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb}
	if code := c.main([]string{"version"}); code != 0 || out.String() != "swanling "+version+"\n" {
		t.Errorf("version: %d %q", code, out.String())
	}
	out.Reset()
	if code := c.main([]string{"version", "-v"}); code != 0 {
		t.Fatalf("version -v: %d %s", code, errb.String())
	}
	f := hw.Detect()
	for _, want := range []string{"go1.", "linux/", f.String(), strings.Join(f.CipherOrder(), ", ")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version -v lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"version", "extra"}, 2, "unexpected argument"},
		{[]string{"genkey"}, 2, "-o FILE is required"},
		{[]string{"genkey", "-t", "dsa", "-o", filepath.Join(dir, "k")}, 2, "unknown key type"},
		{[]string{"genkey", "-gw", "not a name", "-o", filepath.Join(dir, "k")}, 2, "neither an address"},
		{[]string{"check-config", "-c", filepath.Join(dir, "missing.toml")}, 1, "missing.toml"},
		{[]string{"run", "-c", filepath.Join(dir, "missing.toml")}, 1, "missing.toml"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		c := &cli{stdout: &out, stderr: &errb}
		code := c.main(tt.args)
		if code != tt.code || !strings.Contains(errb.String(), tt.err) {
			t.Errorf("%v: exit %d stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "k")); !os.IsNotExist(err) {
		t.Error("a failed genkey left a file")
	}
}

func TestGenkeyCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gw.pem")
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb}
	if code := c.main([]string{"genkey", "-t", "ecdsa-p256", "-o", path, "-gw", "192.0.2.1"}); code != 0 {
		t.Fatalf("genkey: %d %s", code, errb.String())
	}
	key, err := loadPrivateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := spkiBase64(key.Public())
	rd, _ := ipseckeyRDATA(10, mustGateway(t, "192.0.2.1"), key.Public())
	for _, want := range []string{spki, "IN IPSECKEY ( " + rd + " )", `IN TXT "X-IPsec-Server(10)=192.0.2.1 `} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	before, _ := os.ReadFile(path)
	errb.Reset()
	if code := c.main([]string{"genkey", "-o", path}); code != 1 || !strings.Contains(errb.String(), "not overwriting") {
		t.Errorf("overwrite: %d %q", code, errb.String())
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("key file changed")
	}
}

// check-config on the shipped examples: they must all load.
func TestCheckConfigExamples(t *testing.T) {
	toml, _ := filepath.Glob("examples/*.toml")
	uci, _ := filepath.Glob("examples/*.uci")
	files := append(toml, uci...)
	if len(files) == 0 {
		t.Fatal("no examples/*.toml or examples/*.uci")
	}
	for _, f := range files {
		var out, errb bytes.Buffer
		c := &cli{stdout: &out, stderr: &errb}
		if code := c.main([]string{"check-config", "-c", f}); code != 0 || out.String() != "ok: "+f+"\n" {
			t.Errorf("check-config %s: exit %d, %q %q", f, code, out.String(), errb.String())
		}
	}
}

// A broken config: exit 1 and the file:line error on stderr, nothing on stdout.
func TestCheckConfigError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "swanling.toml")
	if err := os.WriteFile(path, []byte("[listen]\nike_port = 500\nno_such_key = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb}
	code := c.main([]string{"check-config", "-c", path})
	if code != 1 || out.Len() != 0 || !strings.HasPrefix(errb.String(), "swanling.toml:3:") {
		t.Errorf("exit %d stdout %q stderr %q; want 1 and swanling.toml:3: ...", code, out.String(), errb.String())
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"debug": LevelDebug, "INFO": LevelInfo, "warn": LevelWarn,
		"warning": LevelWarn, "error": LevelError, "": LevelInfo} {
		if got := parseLevel(in); got != want {
			t.Errorf("parseLevel(%q) = %v", in, got)
		}
	}
}

// TestRunSignals runs the real binary as root in a network namespace of its
// own: status over the control socket, a bad config on SIGHUP refused with
// its line while the daemon keeps running, a good one applied, SIGTERM a
// clean exit that removes the socket.
func TestRunSignals(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespace, TUN device)")
	}
	ipTool, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("ip (iproute2) not installed")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "/usr/local/go/bin/go"
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "swanling")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ns := fmt.Sprintf("swl-cli-%d-%d", os.Getpid(), time.Now().UnixNano()%100000)
	if out, err := exec.Command(ipTool, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(ipTool, "netns", "del", ns).Run() })
	if out, err := exec.Command(ipTool, "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v\n%s", err, out)
	}

	cfg := filepath.Join(dir, "swanling.toml")
	good := "[log]\nlevel = \"debug\"\n[listen]\ninterface = \"swlcli0\"\n"
	if err := os.WriteFile(cfg, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "control.sock")
	var logs syncBuffer
	// ip netns exec execs the binary, so the PID is swanling's own.
	cmd := exec.Command(ipTool, "netns", "exec", ns, bin, "run", "-c", cfg, "-control", sock)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})

	// waitFor polls until cond holds or the daemon exits; it asserts nothing
	// about how long that takes beyond a generous cap.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; i < 600; i++ {
			if cond() {
				return
			}
			select {
			case err := <-exited:
				t.Fatalf("swanling exited (%v) while waiting for %s; log:\n%s", err, what, logs.String())
			case <-time.After(50 * time.Millisecond):
			}
		}
		t.Fatalf("timed out waiting for %s; log:\n%s", what, logs.String())
	}
	waitFor("the control socket", func() bool { _, err := queryControl(sock, "status"); return err == nil })
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket: %v %v", fi.Mode(), err)
	}

	// A bad file: refused with its line, the daemon keeps running.
	if err := os.WriteFile(cfg, []byte("[log]\nlevle = \"debug\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("the refused reload", func() bool { return strings.Contains(logs.String(), "reload refused") })
	if !strings.Contains(logs.String(), "line=2") || !strings.Contains(logs.String(), "swanling.toml:2:") {
		t.Errorf("refusal lacks file:line:\n%s", logs.String())
	}
	if _, err := queryControl(sock, "status"); err != nil {
		t.Fatalf("daemon not answering after a refused reload: %v", err)
	}

	// A good file is applied.
	if err := os.WriteFile(cfg, []byte(strings.Replace(good, "debug", "info", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("the reload", func() bool { return strings.Contains(logs.String(), "configuration reloaded") })

	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	exited <- nil // for the cleanup
	if !strings.Contains(logs.String(), "swanling stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs.String())
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("control socket left behind: %v", err)
	}
}

type fakeSyslog struct{ got []string }

func (f *fakeSyslog) Err(s string) error     { f.got = append(f.got, "err: "+s); return nil }
func (f *fakeSyslog) Warning(s string) error { f.got = append(f.got, "warning: "+s); return nil }
func (f *fakeSyslog) Info(s string) error    { f.got = append(f.got, "info: "+s); return nil }
func (f *fakeSyslog) Debug(s string) error   { f.got = append(f.got, "debug: "+s); return nil }

// The syslog handler maps slog levels to syslog priorities and leaves the
// timestamp to syslog.
func TestSyslogLevels(t *testing.T) {
	f := &fakeSyslog{}
	level := new(LevelVar)
	level.Set(LevelDebug)
	log := newTextLogger(&syslogWriter{w: f}, level, false)
	log.Debug("d", "k", 1)
	log.Info("i")
	log.Warn("w")
	log.Error("e", "err", "boom")
	want := []string{"debug: msg=d k=1", "info: msg=i", "warning: msg=w", "err: msg=e err=boom"}
	if !slices.Equal(f.got, want) {
		t.Errorf("syslog got %q, want %q", f.got, want)
	}
}

// applyLimits sets the config's memory limit and the default GOGC, and
// leaves both alone when the environment chose them.
func TestApplyLimits(t *testing.T) {
	oldGC := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(oldGC)
		debug.SetMemoryLimit(oldLimit)
	})
	log := newTextLogger(&syncBuffer{}, nil, true)
	cfg := &config.Config{Limits: config.Limits{MemoryLimit: 48 << 20}}

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	applyLimits(cfg, log)
	if got := debug.SetMemoryLimit(-1); got != 48<<20 {
		t.Errorf("memory limit %d, want %d", got, 48<<20)
	}
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GC percent %d, want %d", got, defaultGCPercent)
	}

	t.Setenv("GOGC", "200")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30)
	cfg.Limits.MemoryLimit = 16 << 20
	applyLimits(cfg, log)
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("GOMEMLIMIT overridden: %d", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC overridden: %d", got)
	}
}
