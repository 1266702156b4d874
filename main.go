// Command swanling is an IKEv2 (RFC 7296) gateway with a userspace ESP
// (RFC 4303) data plane and opportunistic encryption from DNS (RFC 4322).
//
// main only wires things: it parses the command line, loads the
// configuration, sets up logging and resource limits, starts the daemon and
// its control socket, and turns signals into shutdown (SIGTERM, SIGINT) and
// reload (SIGHUP). The subcommands are a table so new ones drop in.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"swanling/config"
	"swanling/hw"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// defaultGCPercent is used when GOGC is not in the environment. The packet
// path does not allocate, so the live heap is small and steady (SA state,
// caches); halving Go's default headroom costs little CPU and keeps the
// resident size down on routers with 64-128 MB of RAM. The memory limit from
// the config (debug.SetMemoryLimit) is the hard backstop above it.
const defaultGCPercent = 50

// defaultControlSocket is where `run` listens and `status` asks. OpenWrt
// has no /run (its /var/run is a tmpfs link); creating /run there would
// write to flash.
func defaultControlSocket() string {
	if _, err := os.Stat("/etc/openwrt_release"); err == nil {
		return "/var/run/swanling/control.sock"
	}
	return "/run/swanling/control.sock"
}

// command is one subcommand. run gets the arguments after the name and
// returns the exit status.
type command struct {
	name    string
	args    string // usage after the name
	summary string
	run     func(c *cli, args []string) int
}

// cli carries the process's streams so tests can run commands in-process.
type cli struct {
	stdout, stderr io.Writer
}

func commands() []command {
	return []command{
		{"run", "[-c FILE] [-syslog] [-control SOCKET]", "run the gateway in the foreground", (*cli).cmdRun},
		{"check-config", "[-c FILE]", "load and validate the configuration", (*cli).cmdCheckConfig},
		{"genkey", "-t ed25519|ecdsa-p256|rsa-3072 -o FILE [-gw GATEWAY]", "write a new private key and print its public forms", (*cli).cmdGenkey},
		{"status", "[-json] [-control SOCKET]", "show the running daemon's SAs", (*cli).cmdStatus},
		{"dns-records", "[-c FILE] [-hosts LIST]", "print the IPSECKEY and TXT records to publish", (*cli).cmdDNSRecords},
		{"version", "[-v]", "print the version (-v: Go, CPU features, cipher order)", (*cli).cmdVersion},
		{"help", "", "show this help", (*cli).cmdHelp},
	}
}

func main() {
	c := &cli{stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(c.main(os.Args[1:]))
}

func (c *cli) main(args []string) int {
	if len(args) == 0 {
		c.usage(c.stderr)
		return 2
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "-help" {
		name = "help"
	}
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd.run(c, args[1:])
		}
	}
	fmt.Fprintf(c.stderr, "swanling: unknown command %q\n", args[0])
	c.usage(c.stderr)
	return 2
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: swanling COMMAND [flags]\n\ncommands:\n")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", cmd.name, cmd.summary)
		if cmd.args != "" {
			fmt.Fprintf(w, "  %-13s   swanling %s %s\n", "", cmd.name, cmd.args)
		}
	}
}

func (c *cli) cmdHelp(args []string) int {
	c.usage(c.stdout)
	return 0
}

// flags makes a FlagSet that reports to c.stderr and does not exit.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("swanling "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs
}

// parse parses flags and refuses stray arguments; ok=false means exit with code.
func (c *cli) parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

func configPath(p string) string {
	if p != "" {
		return p
	}
	return config.DefaultPath()
}

func (c *cli) cmdCheckConfig(args []string) int {
	fs := c.flags("check-config")
	file := fs.String("c", "", "configuration file (TOML or UCI; default "+config.DefaultPath()+")")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	path := configPath(*file)
	if _, err := config.Load(path); err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	fmt.Fprintf(c.stdout, "ok: %s\n", path)
	return 0
}

func (c *cli) cmdVersion(args []string) int {
	fs := c.flags("version")
	verbose := fs.Bool("v", false, "also print Go version, platform, CPU features and cipher order")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	fmt.Fprintf(c.stdout, "swanling %s\n", version)
	if !*verbose {
		return 0
	}
	f := hw.Detect()
	fmt.Fprintf(c.stdout, "go:           %s\n", runtime.Version())
	fmt.Fprintf(c.stdout, "platform:     %s/%s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(c.stdout, "cpu:          %s\n", f)
	fmt.Fprintf(c.stdout, "cipher order: %s\n", strings.Join(f.CipherOrder(), ", "))
	fmt.Fprintf(c.stdout, "workers:      %d\n", hw.Workers())
	return 0
}

func (c *cli) cmdGenkey(args []string) int {
	fs := c.flags("genkey")
	typ := fs.String("t", keyEd25519, "key type: "+strings.Join(keyTypes, ", "))
	out := fs.String("o", "", "private key file to create (PKCS#8 PEM, mode 0600; never overwritten)")
	gwFlag := fs.String("gw", "", "gateway address or @fqdn for the DNS records (optional)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(c.stderr, "swanling genkey: -o FILE is required")
		return 2
	}
	gw, err := parseGateway(*gwFlag)
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return 2
	}
	// Fail before the (slow, for RSA) generation; O_EXCL is the real guard.
	if _, err := os.Lstat(*out); err == nil {
		fmt.Fprintf(c.stderr, "swanling: %s exists; not overwriting a key\n", *out)
		return 1
	}
	key, err := generateKey(*typ, rand.Reader)
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return 2
	}
	if err := writeKeyFile(*out, key); err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	fmt.Fprintf(c.stdout, "# wrote %s private key to %s (PKCS#8 PEM, mode 0600)\n\n", *typ, *out)
	if err := printPublicKey(c.stdout, key.Public(), gw); err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	return 0
}

func (c *cli) cmdRun(args []string) int {
	fs := c.flags("run")
	file := fs.String("c", "", "configuration file (TOML or UCI; default "+config.DefaultPath()+")")
	useSyslog := fs.Bool("syslog", false, "log to syslog (daemon facility) instead of stderr")
	sock := fs.String("control", defaultControlSocket(), "control socket path (\"\" disables it)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	path := configPath(*file)
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	level := new(LevelVar)
	level.Set(parseLevel(cfg.Log.Level))
	logger, closeLog, err := newLogger(c.stderr, level, *useSyslog || cfg.Log.Syslog)
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	defer closeLog()
	applyLimits(cfg, logger)

	// Catch signals before the daemon touches the system: a SIGTERM during
	// setup then becomes a clean shutdown right after it, not a kill that
	// leaves a TUN device and routes behind.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	d, err := newDaemon(cfg, logger)
	if err != nil {
		logger.Error("start failed", "err", err)
		return 1
	}
	var ctl *controlServer
	if *sock != "" {
		ctl, err = listenControl(*sock, d, logger)
		if err != nil {
			logger.Error("control socket", "err", err)
			return 1
		}
		defer ctl.Close()
	}

	r := &runner{
		d:     d,
		log:   logger,
		level: level,
		load:  func() (*config.Config, error) { return config.Load(path) },
		ctl:   ctl,
	}
	logger.Info("swanling started", "version", version, "config", path, "pid", os.Getpid())
	if err := r.loop(context.Background(), sigs); err != nil {
		logger.Error("stopped with error", "err", err)
		return 1
	}
	return 0
}

// daemonAPI is what the run loop needs of *daemon; tests use a fake.
type daemonAPI interface {
	Run(ctx context.Context) error
	Reload(cfg *config.Config) error
	Status() Status
}

// runner is the signal loop of `swanling run`.
type runner struct {
	d     daemonAPI
	log   *Logger
	level *LevelVar
	load  func() (*config.Config, error)
	ctl   *controlServer
}

// loop runs the daemon until SIGTERM/SIGINT (clean shutdown: the daemon
// deletes its SAs before Run returns) or until the daemon fails. SIGHUP
// reloads the configuration. A second SIGTERM/SIGINT during shutdown gives
// up waiting.
func (r *runner) loop(parent context.Context, sigs <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.d.Run(ctx) }()
	if r.ctl != nil {
		go r.ctl.Serve()
	}
	var stopping bool
	var stopAt time.Time
	parentDone := parent.Done()
	for {
		select {
		case err := <-done:
			if stopping {
				// time.Since uses the monotonic reading: immune to clock steps.
				r.log.Info("swanling stopped", "shutdown", time.Since(stopAt).Round(time.Millisecond))
			}
			return err
		case <-parentDone:
			parentDone = nil // fires once
			if !stopping {
				stopping, stopAt = true, time.Now()
				cancel()
			}
		case s := <-sigs:
			switch s {
			case syscall.SIGHUP:
				r.reload()
			default:
				if stopping {
					return fmt.Errorf("swanling: second %v during shutdown; SAs may be left behind", s)
				}
				r.log.Info("shutting down", "signal", s.String())
				stopping, stopAt = true, time.Now()
				cancel()
			}
		}
	}
}

// reload loads and validates the configuration file again. A bad file is
// refused with its location and the running configuration stays in force.
func (r *runner) reload() {
	r.log.Info("SIGHUP: reloading configuration")
	cfg, err := r.load()
	if err != nil {
		attrs := []any{"err", err.Error()}
		var ce *config.Error
		if errors.As(err, &ce) {
			attrs = append(attrs, "file", ce.File, "line", ce.Line, "key", ce.Key)
		}
		r.log.Error("reload refused, keeping the running configuration", attrs...)
		return
	}
	if err := r.d.Reload(cfg); err != nil {
		r.log.Error("reload failed, keeping the running configuration", "err", err.Error())
		return
	}
	r.level.Set(parseLevel(cfg.Log.Level))
	applyLimits(cfg, r.log)
	r.log.Info("configuration reloaded", "file", cfg.File)
}

// applyLimits sets the Go runtime's memory limit from the config and the
// GC percentage unless the environment chose one.
func applyLimits(cfg *config.Config, log *Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if cfg.Limits.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.Limits.MemoryLimit)
		log.Debug("memory limit", "bytes", cfg.Limits.MemoryLimit)
	}
}

func parseLevel(s string) Level {
	switch strings.ToLower(s) {
	case "debug":
		return LevelDebug
	case "warn", "warning":
		return LevelWarn
	case "error":
		return LevelError
	}
	return LevelInfo
}

// newLogger returns a text logger on stderr, or on syslog. The syslog
// variant leaves out the timestamp (syslog adds one) and maps the level to
// the syslog priority.
func newLogger(stderr io.Writer, level *LevelVar, toSyslog bool) (*Logger, func(), error) {
	if !toSyslog {
		return newTextLogger(stderr, level, true), func() {}, nil
	}
	w, err := newSyslog("swanling")
	if err != nil {
		return nil, nil, fmt.Errorf("swanling: syslog: %w (is a syslog daemon listening on /dev/log?)", err)
	}
	return newTextLogger(&syslogWriter{w: w}, level, false), func() { w.Close() }, nil
}

// syslogSink is the part of *syslogConn that syslogWriter uses.
type syslogSink interface {
	Err(string) error
	Warning(string) error
	Info(string) error
	Debug(string) error
}

// syslogWriter receives one formatted record per Write from the text
// logger ("level=WARN msg=..."), picks the priority from the level and
// sends the rest.
type syslogWriter struct {
	w syslogSink
}

func (s *syslogWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	send := s.w.Info
	if rest, ok := strings.CutPrefix(line, "level="); ok {
		lvl, msg, _ := strings.Cut(rest, " ")
		line = msg
		switch {
		case strings.HasPrefix(lvl, "ERROR"):
			send = s.w.Err
		case strings.HasPrefix(lvl, "WARN"):
			send = s.w.Warning
		case strings.HasPrefix(lvl, "DEBUG"):
			send = s.w.Debug
		}
	}
	if err := send(line); err != nil {
		return 0, err
	}
	return len(p), nil
}
