package ike

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// asyncNode forwards through the exported, goroutine-safe API.
type asyncNode struct {
	mu        sync.Mutex
	peer      *Engine
	installed map[uint32]ChildSA
}

func (n *asyncNode) SendIKE(msg []byte, local, remote netip.AddrPort, marker bool) {
	n.mu.Lock()
	p := n.peer
	n.mu.Unlock()
	// The receiver sees it arrive at remote from local.
	go p.HandleDatagram(msg, remote, local)
}
func (n *asyncNode) SendKeepalive(local, remote netip.AddrPort) {}
func (n *asyncNode) InstallChild(c ChildSA) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.installed[c.SPIIn] = c
	return nil
}
func (n *asyncNode) RemoveChild(c ChildSA) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.installed, c.SPIIn)
}
func (n *asyncNode) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.installed)
}

// TestRunLoop drives two engines through Run, HandleDatagram, Initiate,
// Status and Terminate on real goroutines (the race detector's view of the
// event loop), then shuts one down.
func TestRunLoop(t *testing.T) {
	pa, pb := pskPeers("", "")
	na := &asyncNode{installed: map[uint32]ChildSA{}}
	nb := &asyncNode{installed: map[uint32]ChildSA{}}
	ea, err := New(Config{Peers: []Peer{pa}, Output: na})
	if err != nil {
		t.Fatal(err)
	}
	eb, err := New(Config{Peers: []Peer{pb}, Output: nb})
	if err != nil {
		t.Fatal(err)
	}
	na.peer, nb.peer = eb, ea
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA := make(chan error, 1)
	go func() { doneA <- ea.Run(ctxA) }()
	go eb.Run(ctxB)

	if err := ea.Initiate("ab"); err != nil {
		t.Fatal(err)
	}
	// Wait for the handshake; the limit only guards against a hang.
	waitUntil(t, func() bool { return na.count() == 1 && nb.count() == 1 })
	st := ea.Status()
	if len(st) != 1 || st[0].State != "established" || len(st[0].Children) != 1 {
		t.Fatalf("status %+v", st)
	}
	// A second Initiate is a no-op while the SA exists.
	if err := ea.Initiate("ab"); err != nil || len(ea.Status()) != 1 {
		t.Fatal("second Initiate made another SA")
	}
	if err := eb.Terminate("ba"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return na.count() == 0 && nb.count() == 0 })
	if err := ea.Initiate("ab"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return na.count() == 1 && nb.count() == 1 })
	// Shutdown deletes every SA, on both sides.
	stopA()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return nb.count() == 0 && len(eb.Status()) == 0 })
	if na.count() != 0 {
		t.Fatal("shutdown left Child SAs installed")
	}
	if err := ea.Initiate("ab"); err != ErrClosed {
		t.Fatalf("Initiate after stop: %v", err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}
