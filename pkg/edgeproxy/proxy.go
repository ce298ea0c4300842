package edgeproxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/edgeops/edgeops/pkg/contract"
)

// Options tune a Proxy; zero durations take the defaults.
type Options struct {
	Logger          *log.Logger
	HealthInterval  time.Duration // default 2 s
	HealthTimeout   time.Duration // default 2 s
	RefreshInterval time.Duration // default 30 s
	CertRecheck     time.Duration // how often cert files are checked for changes, default 3 s
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = log.New(os.Stderr, "", 0)
	}
	d := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	d(&o.HealthInterval, 2*time.Second)
	d(&o.HealthTimeout, 2*time.Second)
	d(&o.RefreshInterval, 30*time.Second)
	d(&o.CertRecheck, 3*time.Second)
}

// Proxy is one edge-proxy instance.
type Proxy struct {
	cfg  contract.EdgeProxyConfig
	opts Options
	log  *log.Logger

	clusterCA  *x509.CertPool
	nodeCert   *keyPairFile
	servingKP  *keyPairFile
	ups        *upstreams
	cache      *store
	tokens     *tokenIdentities
	nodeTr     *http.Transport // upstream with the node's certificate
	plainTr    *http.Transport // upstream without a client certificate
	nodeClient *http.Client
	// healthClient opens a fresh connection per check so a dead
	// connection never hides a recovered server.
	healthClient *http.Client

	startOnce sync.Once
}

// New builds a Proxy from a config with defaults applied (ApplyDefaults).
func New(cfg contract.EdgeProxyConfig, opts Options) (*Proxy, error) {
	ApplyDefaults(&cfg)
	opts.defaults()
	p := &Proxy{cfg: cfg, opts: opts, log: opts.Logger}
	ca, err := loadCertPool(cfg.ClusterCAFile)
	if err != nil {
		return nil, fmt.Errorf("cluster CA: %w", err)
	}
	p.clusterCA = ca
	p.nodeCert = newKeyPairFile(cfg.ClientCertFile, cfg.ClientCertFile, opts.CertRecheck)
	p.servingKP = newKeyPairFile(cfg.ServingCertFile, cfg.ServingKeyFile, opts.CertRecheck)
	if _, _, err := p.servingKP.get(); err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	if p.cfg.NodeName == "" {
		if _, leaf, err := p.nodeCert.get(); err == nil {
			p.cfg.NodeName = strings.TrimPrefix(leaf.Subject.CommonName, "system:node:")
		}
	}
	if p.cfg.NodeName == "" {
		return nil, errors.New("nodeName is empty and the node's client certificate names none")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	servers := append([]string(nil), cfg.Servers...)
	if persisted, err := loadServers(p.serversPath()); err == nil {
		servers = append(persisted, servers...)
	} else if !errors.Is(err, os.ErrNotExist) {
		p.log.Printf("upstream: ignoring %s: %v", p.serversPath(), err)
	}
	p.ups = newUpstreams(servers, p.log)
	if len(p.ups.servers()) == 0 {
		return nil, errors.New("no API server: config servers and servers.json are empty")
	}
	p.tokens = loadTokenIdentities(filepath.Join(cfg.DataDir, "token-identities.json"), p.log)
	if p.cache, err = newStore(cacheDir(cfg.DataDir), cfg.CacheMaxBytes, p.log); err != nil {
		return nil, err
	}
	p.nodeTr = newUpstreamTransport(ca, p.clientCertificate)
	p.plainTr = newUpstreamTransport(ca, nil)
	p.nodeClient = &http.Client{Transport: p.nodeTr}
	htr := newUpstreamTransport(ca, p.clientCertificate)
	htr.DisableKeepAlives = true
	p.healthClient = &http.Client{Transport: htr}
	return p, nil
}

// clientCertificate gives the node's current certificate (none if it
// cannot be read: the request then goes anonymous, never as someone else).
func (p *Proxy) clientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c, _, err := p.nodeCert.get()
	if err != nil {
		return &tls.Certificate{}, nil
	}
	return c, nil
}

// ServerTLSConfig is the TLS config of the local API listener.
func (p *Proxy) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			c, _, err := p.servingKP.get()
			return c, err
		},
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  p.clusterCA,
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// Start runs the first health check and starts the background loops
// (health checks, server list refresh) until ctx ends.
func (p *Proxy) Start(ctx context.Context) {
	p.startOnce.Do(func() {
		p.checkAll(ctx)
		if x := p.ups.pick(); x == nil {
			p.log.Printf("upstream: offline at start: no API server of %v answers", p.ups.servers())
		}
		go p.healthLoop(ctx)
		go p.refreshLoop(ctx)
	})
}

// Serve serves the API on ln (TLS is added here) until ctx ends.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           p,
		TLSConfig:         p.ServerTLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		// the kubelet multiplexes a watch per ConfigMap/Secret of its pods on one connection
		HTTP2:       &http.HTTP2Config{MaxConcurrentStreams: 1000},
		ErrorLog:    log.New(logFilter{p.log}, "", 0),
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	return serveUntil(ctx, srv, func() error { return srv.ServeTLS(ln, "", "") })
}

// ServeHealth serves /healthz and /status (plain HTTP) on ln until ctx ends.
func (p *Proxy) ServeHealth(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: p.HealthHandler(), ReadHeaderTimeout: 5 * time.Second}
	return serveUntil(ctx, srv, func() error { return srv.Serve(ln) })
}

func serveUntil(ctx context.Context, srv *http.Server, serve func() error) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			_ = srv.Close()
		case <-done:
		}
	}()
	if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Run loads the config's files, listens on Listen and HealthListen and
// serves until ctx ends.
func Run(ctx context.Context, cfg contract.EdgeProxyConfig, opts Options) error {
	p, err := New(cfg, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", p.cfg.Listen, err)
	}
	hln, err := net.Listen("tcp", p.cfg.HealthListen)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen %s: %w", p.cfg.HealthListen, err)
	}
	p.log.Printf("edge-proxy: node %s, serving %s (health %s), servers %v, data %s",
		p.cfg.NodeName, p.cfg.Listen, p.cfg.HealthListen, p.ups.servers(), p.cfg.DataDir)
	p.Start(ctx)
	errc := make(chan error, 2)
	go func() { errc <- p.ServeHealth(ctx, hln) }()
	go func() { errc <- p.Serve(ctx, ln) }()
	err = <-errc
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return <-errc
}

// logFilter drops the noise of TLS handshakes from probes.
type logFilter struct{ l *log.Logger }

func (f logFilter) Write(b []byte) (int, error) {
	if strings.Contains(string(b), "TLS handshake error") && strings.Contains(string(b), "EOF") {
		return len(b), nil
	}
	f.l.Printf("http: %s", strings.TrimSpace(string(b)))
	return len(b), nil
}
