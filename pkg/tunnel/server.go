package tunnel

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/edgeops/edgeops/pkg/contract"
)

const (
	// directDialTimeout bounds a direct dial of a CONNECT target.
	directDialTimeout = 10 * time.Second
	// syncWarnAfter is when a node list still missing is worth a warning.
	syncWarnAfter = 30 * time.Second
)

// DialFunc dials a network address (net.Dialer.DialContext's shape).
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ServerOptions tune a Server; zero values take the defaults.
type ServerOptions struct {
	Logger *log.Logger
	// Nodes is where routes come from; nil watches Nodes with cfg.Kubeconfig.
	Nodes NodeSource
	// DialDirect dials the targets no agent carries; nil is a net.Dialer.
	DialDirect DialFunc
}

// Server is one edge-tunnel server: it relays the egress socket's
// CONNECTs, directly or through the agents it accepts.
type Server struct {
	cfg        contract.EdgeTunnelServerConfig
	log        *log.Logger
	nodes      NodeSource
	routes     *router
	agents     *registry
	dialDirect DialFunc
	servingKP  *reloadingKeyPair
	clientCAs  *reloadingCAPool
	bufs       bufferPool
}

// NewServer checks the serving certificate and the cluster CA and builds
// a Server (it listens nowhere yet; see RunServer).
func NewServer(cfg contract.EdgeTunnelServerConfig, opts ServerOptions) (*Server, error) {
	ApplyServerDefaults(&cfg)
	if cfg.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("nodeName is empty and the host name unknown: %w", err)
		}
		cfg.NodeName = strings.ToLower(h)
	}
	s := &Server{
		cfg:        cfg,
		log:        opts.Logger,
		nodes:      opts.Nodes,
		agents:     newRegistry(),
		dialDirect: opts.DialDirect,
		servingKP:  newReloadingKeyPair(cfg.ServingCertFile, cfg.ServingKeyFile),
		clientCAs:  newReloadingCAPool(cfg.ClusterCAFile),
	}
	if s.log == nil {
		s.log = log.New(os.Stderr, "", 0)
	}
	if s.dialDirect == nil {
		s.dialDirect = (&net.Dialer{}).DialContext
	}
	if _, err := s.servingKP.get(); err != nil {
		return nil, err
	}
	if _, err := s.clientCAs.get(); err != nil {
		return nil, fmt.Errorf("cluster CA: %w", err)
	}
	if s.nodes == nil {
		src, err := NewInformerNodeSource(cfg.Kubeconfig, s.log)
		if err != nil {
			return nil, err
		}
		s.nodes = src
	}
	s.routes = newRouter(s.nodes)
	return s, nil
}

// tlsConfig is the agents' listener config: only client certificates of
// the cluster CA; the serving pair and the CA are re-read when they change.
func (s *Server) tlsConfig() *tls.Config {
	base := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequireAndVerifyClientCert,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.servingKP.get()
		},
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			pool, err := s.clientCAs.get()
			if err != nil {
				return nil, fmt.Errorf("cluster CA: %w", err)
			}
			c := base.Clone()
			c.ClientCAs = pool
			return c, nil
		},
	}
}

// RunServer listens on the config's socket and addresses, watches Nodes
// and serves until ctx ends.
func RunServer(ctx context.Context, cfg contract.EdgeTunnelServerConfig, opts ServerOptions) error {
	s, err := NewServer(cfg, opts)
	if err != nil {
		return err
	}
	cfg = s.cfg
	egress, err := ListenEgress(cfg.SocketPath)
	if err != nil {
		return err
	}
	agents, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = egress.Close()
		return fmt.Errorf("agents listener: %w", err)
	}
	health, err := net.Listen("tcp", cfg.HealthListen)
	if err != nil {
		_ = egress.Close()
		_ = agents.Close()
		return fmt.Errorf("health listener: %w", err)
	}
	s.log.Printf("edge-tunnel server on %s: egress socket %s, agents on %s, health on %s",
		cfg.NodeName, cfg.SocketPath, agents.Addr(), health.Addr())

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.nodes.Run(ctx) })
	g.Go(func() error { s.logWhenSynced(ctx); return nil })
	g.Go(func() error { return s.ServeEgress(ctx, egress) })
	g.Go(func() error { return s.ServeAgents(ctx, agents) })
	g.Go(func() error { return s.ServeHealth(ctx, health) })
	return g.Wait()
}

// ServeEgress relays the CONNECTs arriving on ln until ctx ends.
func (s *Server) ServeEgress(ctx context.Context, ln net.Listener) error {
	if err := serveConns(ctx, ln, s.handleEgress); err != nil {
		return fmt.Errorf("egress socket: %w", err)
	}
	return nil
}

// ServeAgents accepts agents on ln (TCP; TLS is added here) until ctx
// ends, then closes every agent's session.
func (s *Server) ServeAgents(ctx context.Context, ln net.Listener) error {
	tlsCfg := s.tlsConfig()
	err := serveConns(ctx, ln, func(ctx context.Context, c net.Conn) { s.handleAgent(ctx, c, tlsCfg) })
	s.agents.closeAll("server stopping")
	if err != nil {
		return fmt.Errorf("agents listener: %w", err)
	}
	return nil
}

// ServeHealth serves /healthz and /status on ln until ctx ends.
func (s *Server) ServeHealth(ctx context.Context, ln net.Listener) error {
	if err := serveHTTP(ctx, ln, healthHandler(func() any { return s.Status() })); err != nil {
		return fmt.Errorf("health listener: %w", err)
	}
	return nil
}

// logWhenSynced says when the node list has arrived, and warns once if it
// takes long: until then every CONNECT is dialled directly. (client-go
// retries an unreachable API server quietly.)
func (s *Server) logWhenSynced(ctx context.Context) {
	start := time.Now()
	warned := false
	for !s.nodes.Synced() {
		if !sleep(ctx, 500*time.Millisecond) {
			return
		}
		if !warned && time.Since(start) > syncWarnAfter {
			s.log.Printf("nodes: not synced after %s (API server down, or %s wrong?); CONNECTs are dialled directly until then",
				syncWarnAfter, s.cfg.Kubeconfig)
			warned = true
		}
	}
	s.log.Printf("nodes: synced after %s, %d known", roundDuration(time.Since(start)), len(s.nodes.Nodes()))
}
