package vip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Handler serves /healthz ("ok") and /status (Status as JSON).
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(m.Status())
	})
	return mux
}

// Run is "edge-vip run": the Manager of cfg with its status server on
// cfg.HealthListen, until ctx ends.
func Run(ctx context.Context, cfg Config, opts Options) error {
	m, err := NewManager(cfg, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HealthListen)
	if err != nil {
		return fmt.Errorf("status listener: %w", err)
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	err = m.Run(ctx)
	_ = srv.Close()
	if serr := <-served; err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = fmt.Errorf("status server: %w", serr)
	}
	return err
}
