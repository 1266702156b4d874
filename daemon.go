package main

import (
	"context"
	"errors"
	"log/slog"

	"swanling/config"
)

// daemon owns the running data plane and key manager. main.go (commands,
// signals, control socket) drives it through these four methods only.
type daemon struct {
	cfg *config.Config
	log *slog.Logger
}

func newDaemon(cfg *config.Config, log *slog.Logger) (*daemon, error) {
	return &daemon{cfg: cfg, log: log}, nil
}

// Run runs until ctx is cancelled, then deletes every SA and returns.
func (d *daemon) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Reload applies a new, already validated configuration without touching the
// SAs of tunnels it leaves unchanged.
func (d *daemon) Reload(cfg *config.Config) error {
	return errors.New("swanling: reload not implemented yet")
}

// Status is what `swanling status` prints; it is encoded as JSON on the
// control socket.
type Status struct {
	IKE   []IKEStatus   `json:"ike_sas"`
	Child []ChildStatus `json:"child_sas"`
}

// IKEStatus describes one IKE SA.
type IKEStatus struct {
	Peer       string `json:"peer"`
	LocalID    string `json:"local_id"`
	RemoteID   string `json:"remote_id"`
	Algorithms string `json:"algorithms"`
	AgeSeconds int64  `json:"age_seconds"`
	State      string `json:"state"`
}

// ChildStatus describes one Child SA.
type ChildStatus struct {
	Tunnel     string `json:"tunnel"`
	Peer       string `json:"peer"`
	SPIIn      string `json:"spi_in"`
	SPIOut     string `json:"spi_out"`
	Algorithms string `json:"algorithms"`
	AgeSeconds int64  `json:"age_seconds"`
	BytesIn    uint64 `json:"bytes_in"`
	BytesOut   uint64 `json:"bytes_out"`
	PacketsIn  uint64 `json:"packets_in"`
	PacketsOut uint64 `json:"packets_out"`
}

// Status returns a snapshot for the control socket.
func (d *daemon) Status() Status { return Status{} }
