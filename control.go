package main

// The control socket: JSON over a unix stream socket, one request per
// connection. The client writes {"cmd":"status"} and reads one
// controlResponse. The socket is mode 0600 in a 0700 directory, so only
// root (the daemon's user) can ask.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// controlTimeout bounds one request; a stuck client cannot pin a goroutine.
const controlTimeout = 5 * time.Second

// maxControlRequest bounds what the server reads from a client.
const maxControlRequest = 4096

type controlRequest struct {
	Cmd string `json:"cmd"`
}

type controlResponse struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Status *Status `json:"status,omitempty"`
}

// statusSource is the part of the daemon the control socket uses.
type statusSource interface {
	Status() Status
}

type controlServer struct {
	ln   *net.UnixListener
	path string
	src  statusSource
	log  *slog.Logger
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// listenControl creates the socket. A stale socket file left by a crashed
// daemon is removed; a live one (something answers) is an error, so a second
// daemon cannot steal the first one's socket.
func listenControl(path string, src statusSource, log *slog.Logger) (*controlServer, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("swanling: control socket: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("swanling: control socket: %s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
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
	var req controlRequest
	dec := json.NewDecoder(io.LimitReader(c, maxControlRequest))
	resp := controlResponse{}
	if err := dec.Decode(&req); err != nil {
		resp.Error = "bad request: " + err.Error()
	} else {
		resp = s.dispatch(req)
	}
	if err := json.NewEncoder(c).Encode(&resp); err != nil {
		s.log.Debug("control socket write", "err", err)
	}
}

func (s *controlServer) dispatch(req controlRequest) controlResponse {
	switch req.Cmd {
	case "status":
		st := s.src.Status()
		return controlResponse{OK: true, Status: &st}
	}
	return controlResponse{Error: fmt.Sprintf("unknown command %q", req.Cmd)}
}

// queryControl sends one request to the daemon and returns its answer.
func queryControl(path, cmd string) (*controlResponse, error) {
	c, err := net.DialTimeout("unix", path, controlTimeout)
	if err != nil {
		return nil, fmt.Errorf("swanling: cannot reach the daemon at %s: %w", path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(controlTimeout))
	if err := json.NewEncoder(c).Encode(controlRequest{Cmd: cmd}); err != nil {
		return nil, fmt.Errorf("swanling: control socket: %w", err)
	}
	var resp controlResponse
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return nil, fmt.Errorf("swanling: control socket: bad answer: %w", err)
	}
	if !resp.OK {
		return nil, fmt.Errorf("swanling: daemon: %s", resp.Error)
	}
	return &resp, nil
}

func (c *cli) cmdStatus(args []string) int {
	fs := c.flags("status")
	asJSON := fs.Bool("json", false, "print the daemon's status as JSON")
	sock := fs.String("control", defaultControlSocket(), "control socket path")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	resp, err := queryControl(*sock, "status")
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	st := Status{}
	if resp.Status != nil {
		st = *resp.Status
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			fmt.Fprintln(c.stderr, err)
			return 1
		}
		return 0
	}
	writeStatus(c.stdout, st)
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
		fmt.Fprintln(tw, "PEER\tLOCAL ID\tREMOTE ID\tSTATE\tALGORITHMS\tAGE")
		for _, s := range ike {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", dash(s.Peer), dash(s.LocalID), dash(s.RemoteID),
				dash(s.State), dash(s.Algorithms), age(s.AgeSeconds))
		}
	}
	fmt.Fprintf(tw, "\nChild SAs: %d\n", len(child))
	if len(child) > 0 {
		fmt.Fprintln(tw, "TUNNEL\tPEER\tSPI IN\tSPI OUT\tALGORITHMS\tAGE\tBYTES IN\tBYTES OUT\tPKTS IN\tPKTS OUT\tDROPS")
		for _, s := range child {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", dash(s.Tunnel), dash(s.Peer),
				dash(s.SPIIn), dash(s.SPIOut), dash(s.Algorithms), age(s.AgeSeconds),
				s.BytesIn, s.BytesOut, s.PacketsIn, s.PacketsOut, drops(s.Drops))
		}
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
