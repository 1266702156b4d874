package main

// The control socket: one request per connection over a unix stream
// socket. The client writes one line, "status" or "status-json"; the daemon
// answers "ok" or "error: REASON" on the first line and, after "ok", the
// rendered answer until it closes the connection, which the client copies
// to its output. The daemon does the rendering, so neither side needs a
// general encoder: encoding/json alone cost about 100 KB on the MIPS
// routers. The socket is mode 0600 in a 0700 directory, so only root (the
// daemon's user) can ask.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// controlTimeout bounds one request; a stuck client cannot pin a goroutine.
const controlTimeout = 5 * time.Second

// maxControlRequest bounds what the server reads from a client.
const maxControlRequest = 4096

// statusSource is the part of the daemon the control socket uses.
type statusSource interface {
	Status() Status
}

type controlServer struct {
	ln   *net.UnixListener
	path string
	src  statusSource
	log  *Logger
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// listenControl creates the socket. A stale socket file left by a crashed
// daemon is removed; a live one (something answers) is an error, so a second
// daemon cannot steal the first one's socket.
func listenControl(path string, src statusSource, log *Logger) (*controlServer, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("swanling: control socket: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("swanling: control socket: %s exists and is not a socket", path)
		}
		if c, err := dialControl(path); err == nil {
			c.Close()
			return nil, fmt.Errorf("swanling: control socket: %s is in use (another swanling running?)", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("swanling: control socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("swanling: control socket: %w", err)
	}
	// Connecting needs write permission on the socket file.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("swanling: control socket: %w", err)
	}
	return &controlServer{ln: ln, path: path, src: src, log: log}, nil
}

// Serve accepts connections until Close.
func (s *controlServer) Serve() {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("control socket accept", "err", err)
			time.Sleep(100 * time.Millisecond) // e.g. EMFILE: do not spin
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
		}()
	}
}

// Close stops accepting, waits for requests in flight and removes the file.
func (s *controlServer) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.ln.SetUnlinkOnClose(true)
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *controlServer) handle(c *net.UnixConn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(controlTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, maxControlRequest)).ReadString('\n')
	var body bytes.Buffer
	if err != nil {
		body.WriteString("error: bad request: no command line within " + strconv.Itoa(maxControlRequest) + " bytes\n")
	} else if err := s.dispatch(&body, strings.TrimSuffix(line, "\n")); err != nil {
		body.Reset()
		body.WriteString("error: " + err.Error() + "\n")
	}
	if _, err := c.Write(body.Bytes()); err != nil {
		s.log.Debug("control socket write", "err", err)
	}
}

// dispatch writes the answer to one command, "ok" line first.
func (s *controlServer) dispatch(w *bytes.Buffer, cmd string) error {
	switch cmd {
	case "status":
		w.WriteString("ok\n")
		writeStatus(w, s.src.Status())
		return nil
	case "status-json":
		w.WriteString("ok\n")
		w.Write(appendStatusJSON(nil, s.src.Status()))
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// dialControl connects to the control socket. A unix connect does not
// block (the listener's backlog takes it or it fails), so it needs no
// timeout; and net.DialUnix, unlike net.Dial, does not link net's DNS
// resolver into the binary.
func dialControl(path string) (*net.UnixConn, error) {
	return net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
}

// queryControl sends one command to the daemon and returns its answer.
func queryControl(path, cmd string) ([]byte, error) {
	c, err := dialControl(path)
	if err != nil {
		return nil, fmt.Errorf("swanling: cannot reach the daemon at %s: %w", path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(controlTimeout))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return nil, fmt.Errorf("swanling: control socket: %w", err)
	}
	answer, err := io.ReadAll(c)
	if err != nil {
		return nil, fmt.Errorf("swanling: control socket: %w", err)
	}
	first, body, ok := bytes.Cut(answer, []byte("\n"))
	switch {
	case !ok:
		return nil, errors.New("swanling: control socket: bad answer: no status line")
	case bytes.HasPrefix(first, []byte("error: ")):
		return nil, fmt.Errorf("swanling: daemon: %s", first[len("error: "):])
	case string(first) != "ok":
		return nil, fmt.Errorf("swanling: control socket: bad answer %q", first)
	}
	return body, nil
}

func (c *cli) cmdStatus(args []string) int {
	fs := c.flags("status")
	asJSON := fs.Bool("json", false, "print the daemon's status as JSON")
	sock := fs.String("control", defaultControlSocket(), "control socket path")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	cmd := "status"
	if *asJSON {
		cmd = "status-json"
	}
	out, err := queryControl(*sock, cmd)
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	if _, err := c.stdout.Write(out); err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	return 0
}

// writeStatus prints the status as two aligned tables.
func writeStatus(w io.Writer, st Status) {
	ike := append([]IKEStatus(nil), st.IKE...)
	sort.SliceStable(ike, func(i, j int) bool { return ike[i].Peer < ike[j].Peer })
	child := append([]ChildStatus(nil), st.Child...)
	sort.SliceStable(child, func(i, j int) bool {
		if child[i].Tunnel != child[j].Tunnel {
			return child[i].Tunnel < child[j].Tunnel
		}
		return child[i].Peer < child[j].Peer
	})

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if dp := st.Dataplane; dp != nil {
		gso := "off"
		if dp.UDPGSO {
			gso = "on"
		}
		fmt.Fprintf(tw, "Data plane: %s mtu %d, %d policies, %d held packets, ESP rx %d tx %d packets, UDP GSO %s, socket buffers %d bytes\n",
			dash(dp.Interface), dp.MTU, dp.Policies, dp.Held, dp.RxPackets, dp.TxPackets, gso, dp.SocketBufferBytes)
		if len(dp.Drops) > 0 {
			fmt.Fprintf(tw, "Drops: %s\n", drops(dp.Drops))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "IKE SAs: %d\n", len(ike))
	if len(ike) > 0 {
		fmt.Fprintln(tw, "PEER\tLOCAL ID\tREMOTE ID\tSTATE\tALGORITHMS\tAGE\tGEN\tREKEY IN")
		for _, s := range ike {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", dash(s.Peer), dash(s.LocalID), dash(s.RemoteID),
				dash(s.State), dash(s.Algorithms), age(s.AgeSeconds), s.Generation, age(s.RekeyInSeconds))
		}
	}
	fmt.Fprintf(tw, "\nChild SAs: %d\n", len(child))
	if len(child) > 0 {
		fmt.Fprintln(tw, "TUNNEL\tPEER\tSPI IN\tSPI OUT\tALGORITHMS\tAGE\tGEN\tREKEY IN\tBYTES IN\tBYTES OUT\tPKTS IN\tPKTS OUT\tDROPS")
		for _, s := range child {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\n", dash(s.Tunnel), dash(s.Peer),
				dash(s.SPIIn), dash(s.SPIOut), dash(s.Algorithms), age(s.AgeSeconds), s.Generation, age(s.RekeyInSeconds),
				s.BytesIn, s.BytesOut, s.PacketsIn, s.PacketsOut, drops(s.Drops))
		}
	}
	if st.OE != nil {
		writeOEStatus(tw, st.OE)
	}
	tw.Flush()
}

// drops formats counters as "a=1,b=2" in key order, "-" when empty.
func drops(m map[string]uint64) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.FormatUint(m[k], 10))
	}
	return b.String()
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// age formats seconds as 1h02m03s-style text.
func age(sec int64) string {
	if sec < 0 {
		return "-"
	}
	if sec < 60 {
		return strconv.FormatInt(sec, 10) + "s"
	}
	return (time.Duration(sec) * time.Second).String()
}

// jsonWriter writes indented JSON (RFC 8259) the way encoding/json's
// Encoder with SetIndent("", "  ") does, so `status -json` keeps its exact
// bytes without the reflection encoder in the binary.
type jsonWriter struct {
	b []byte
	n []int // elements written so far at each open array or object
}

func (w *jsonWriter) newline() {
	w.b = append(w.b, '\n')
	for range w.n {
		w.b = append(w.b, "  "...)
	}
}

// elem starts an array element or an object member.
func (w *jsonWriter) elem() {
	if last := len(w.n) - 1; last >= 0 {
		if w.n[last] > 0 {
			w.b = append(w.b, ',')
		}
		w.n[last]++
		w.newline()
	}
}

func (w *jsonWriter) open(c byte) {
	w.b = append(w.b, c)
	w.n = append(w.n, 0)
}

func (w *jsonWriter) close(c byte) {
	last := len(w.n) - 1
	had := w.n[last] > 0
	w.n = w.n[:last]
	if had {
		w.newline()
	}
	w.b = append(w.b, c)
}

func (w *jsonWriter) key(k string) {
	w.elem()
	w.str(k)
	w.b = append(w.b, ": "...)
}

func (w *jsonWriter) null()             { w.b = append(w.b, "null"...) }
func (w *jsonWriter) int(v int64)       { w.b = strconv.AppendInt(w.b, v, 10) }
func (w *jsonWriter) uint(v uint64)     { w.b = strconv.AppendUint(w.b, v, 10) }
func (w *jsonWriter) bool(v bool)       { w.b = strconv.AppendBool(w.b, v) }
func (w *jsonWriter) field(k, v string) { w.key(k); w.str(v) }

// str writes a JSON string. RFC 8259, Section 7: '"', '\\' and the control
// characters U+0000 to U+001F must be escaped. Like encoding/json it also
// escapes <, > and & (HTML safety), U+2028 and U+2029 (JavaScript), and
// writes invalid UTF-8 as U+FFFD, so the output is always valid UTF-8.
func (w *jsonWriter) str(s string) {
	const hex = "0123456789abcdef"
	w.b = append(w.b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '"' || c == '\\':
				w.b = append(w.b, '\\', c)
			case c == '\n':
				w.b = append(w.b, '\\', 'n')
			case c == '\r':
				w.b = append(w.b, '\\', 'r')
			case c == '\t':
				w.b = append(w.b, '\\', 't')
			case c == '\b':
				w.b = append(w.b, '\\', 'b')
			case c == '\f':
				w.b = append(w.b, '\\', 'f')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				w.b = append(w.b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				w.b = append(w.b, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			w.b = append(w.b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			w.b = append(w.b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			w.b = append(w.b, s[i:i+size]...)
		}
		i += size
	}
	w.b = append(w.b, '"')
}

// counters writes a map of counters as an object with sorted keys.
func (w *jsonWriter) counters(m map[string]uint64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.open('{')
	for _, k := range keys {
		w.key(k)
		w.uint(m[k])
	}
	w.close('}')
}

// appendStatusJSON appends st as indented JSON and a newline, with the
// field names and omitempty rules of the json tags on Status and its parts.
// A test compares it byte for byte with encoding/json on a Status whose
// every field is set, so a field added there without a line here fails.
func appendStatusJSON(b []byte, st Status) []byte {
	w := &jsonWriter{b: b}
	w.open('{')
	w.key("ike_sas")
	if st.IKE == nil {
		w.null()
	} else {
		w.open('[')
		for _, s := range st.IKE {
			w.elem()
			w.open('{')
			w.field("peer", s.Peer)
			w.field("local_id", s.LocalID)
			w.field("remote_id", s.RemoteID)
			w.field("algorithms", s.Algorithms)
			w.key("age_seconds")
			w.int(s.AgeSeconds)
			w.field("state", s.State)
			w.key("generation")
			w.int(int64(s.Generation))
			w.key("rekey_in_seconds")
			w.int(s.RekeyInSeconds)
			w.close('}')
		}
		w.close(']')
	}
	w.key("child_sas")
	if st.Child == nil {
		w.null()
	} else {
		w.open('[')
		for _, s := range st.Child {
			w.elem()
			w.open('{')
			w.field("tunnel", s.Tunnel)
			w.field("peer", s.Peer)
			w.field("spi_in", s.SPIIn)
			w.field("spi_out", s.SPIOut)
			w.field("algorithms", s.Algorithms)
			w.key("age_seconds")
			w.int(s.AgeSeconds)
			w.key("bytes_in")
			w.uint(s.BytesIn)
			w.key("bytes_out")
			w.uint(s.BytesOut)
			w.key("packets_in")
			w.uint(s.PacketsIn)
			w.key("packets_out")
			w.uint(s.PacketsOut)
			if len(s.Drops) > 0 {
				w.key("drops")
				w.counters(s.Drops)
			}
			w.key("generation")
			w.int(int64(s.Generation))
			w.key("rekey_in_seconds")
			w.int(s.RekeyInSeconds)
			w.close('}')
		}
		w.close(']')
	}
	if dp := st.Dataplane; dp != nil {
		w.key("dataplane")
		w.open('{')
		w.field("interface", dp.Interface)
		w.key("mtu")
		w.int(int64(dp.MTU))
		w.key("rx_packets")
		w.uint(dp.RxPackets)
		w.key("tx_packets")
		w.uint(dp.TxPackets)
		w.key("policies")
		w.int(int64(dp.Policies))
		w.key("held")
		w.int(int64(dp.Held))
		if len(dp.Drops) > 0 {
			w.key("drops")
			w.counters(dp.Drops)
		}
		w.key("socket_buffer_bytes")
		w.int(int64(dp.SocketBufferBytes))
		w.key("udp_gso")
		w.bool(dp.UDPGSO)
		w.key("udp_gso_sends")
		w.uint(dp.UDPGSOSends)
		w.key("tun_offload")
		w.bool(dp.TUNOffload)
		w.key("tun_segmented")
		w.uint(dp.TUNSegmented)
		w.key("tun_coalesced")
		w.uint(dp.TUNCoalesced)
		w.close('}')
	}
	if st.OE != nil {
		w.key("oe")
		appendOEStatusJSON(w, st.OE)
	}
	w.close('}')
	return append(w.b, '\n')
}
