package tunnel

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/edgeops/edgeops/pkg/contract"
)

// AgentOptions tune an Agent; zero values take the defaults.
type AgentOptions struct {
	Logger *log.Logger
	// ServersFileInterval is how often ServersFile is re-read (default 10 s).
	ServersFileInterval time.Duration
	// TunnelPort is the port of the servers ServersFile names
	// (default contract.EdgeTunnelPort).
	TunnelPort int
	// BackoffMin and BackoffMax space reconnects (default 500 ms and 2 s).
	BackoffMin, BackoffMax time.Duration
	// DialTarget dials the targets of relayed streams; nil is a net.Dialer.
	DialTarget DialFunc
}

func (o *AgentOptions) defaults() {
	if o.Logger == nil {
		o.Logger = log.New(os.Stderr, "", 0)
	}
	d := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	d(&o.ServersFileInterval, 10*time.Second)
	d(&o.BackoffMin, 500*time.Millisecond)
	d(&o.BackoffMax, 2*time.Second)
	if o.TunnelPort == 0 {
		o.TunnelPort = contract.EdgeTunnelPort
	}
	if o.DialTarget == nil {
		o.DialTarget = (&net.Dialer{}).DialContext
	}
}

// Agent is one edge-tunnel agent: it keeps a session with every server
// and carries their streams to its node.
type Agent struct {
	cfg  contract.EdgeTunnelAgentConfig
	opts AgentOptions
	log  *log.Logger

	bufs bufferPool

	mu    sync.Mutex
	links map[string]*link // by server address
}

// NewAgent builds an Agent. An empty NodeName is taken from the client
// certificate.
func NewAgent(cfg contract.EdgeTunnelAgentConfig, opts AgentOptions) (*Agent, error) {
	ApplyAgentDefaults(&cfg)
	if err := validateAgentConfig(cfg); err != nil {
		return nil, err
	}
	opts.defaults()
	if cfg.NodeName == "" {
		c, err := loadClientCert(cfg.ClientCertFile)
		if err != nil {
			return nil, fmt.Errorf("nodeName is empty: %w", err)
		}
		if cfg.NodeName, err = certNode(c.Leaf); err != nil {
			return nil, fmt.Errorf("nodeName is empty: %s: %w", cfg.ClientCertFile, err)
		}
	}
	return &Agent{cfg: cfg, opts: opts, log: opts.Logger, links: map[string]*link{}}, nil
}

// RunAgent runs an agent and its health listener until ctx ends.
func RunAgent(ctx context.Context, cfg contract.EdgeTunnelAgentConfig, opts AgentOptions) error {
	a, err := NewAgent(cfg, opts)
	if err != nil {
		return err
	}
	health, err := net.Listen("tcp", a.cfg.HealthListen)
	if err != nil {
		return fmt.Errorf("health listener: %w", err)
	}
	a.log.Printf("edge-tunnel agent for node %s: health on %s", a.cfg.NodeName, health.Addr())
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.Run(ctx) })
	g.Go(func() error { return a.ServeHealth(ctx, health) })
	return g.Wait()
}

// ServeHealth serves /healthz and /status on ln until ctx ends.
func (a *Agent) ServeHealth(ctx context.Context, ln net.Listener) error {
	if err := serveHTTP(ctx, ln, healthHandler(func() any { return a.Status() })); err != nil {
		return fmt.Errorf("health listener: %w", err)
	}
	return nil
}

// Run keeps a session with every server until ctx ends, following the
// servers file as it changes.
func (a *Agent) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(a.opts.ServersFileInterval)
	defer t.Stop()
	var lastFileErr, lastSet string // each is logged when it changes
	for {
		servers, from, err := a.servers()
		if msg := errString(err); msg != lastFileErr {
			if err != nil {
				a.log.Printf("agent: %v; using the configured servers", err)
			}
			lastFileErr = msg
		}
		if set := strings.Join(servers, " "); set != lastSet {
			if len(servers) == 0 {
				a.log.Printf("agent: no server: the config names none and %s names none", a.cfg.ServersFile)
			} else {
				a.log.Printf("agent: servers %v (from %s)", servers, from)
			}
			lastSet = set
		}
		a.follow(ctx, servers, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// servers is the set to keep sessions with: the masters the servers file
// names, or the config's servers when it names none.
func (a *Agent) servers() (servers []string, from string, err error) {
	fromFile, err := readServersFile(a.cfg.ServersFile, a.opts.TunnelPort)
	if len(fromFile) > 0 {
		return fromFile, a.cfg.ServersFile, nil
	}
	return sortedUnique(a.cfg.Servers), "config", err
}

// errServerDropped ends the session with a server no longer listed.
var errServerDropped = errors.New("server no longer listed")

// follow starts a loop per new server and stops those of servers gone.
func (a *Agent) follow(ctx context.Context, servers []string, wg *sync.WaitGroup) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for addr, l := range a.links {
		if !slices.Contains(servers, addr) {
			l.cancel()
			delete(a.links, addr)
		}
	}
	for _, addr := range servers {
		if _, ok := a.links[addr]; ok {
			continue
		}
		lctx, cancel := context.WithCancelCause(ctx)
		l := &link{addr: addr, cancel: func() { cancel(errServerDropped) }}
		a.links[addr] = l
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.runLink(lctx, l)
		}()
	}
}

// Status reports every server's session, sorted by address.
func (a *Agent) Status() AgentStatus {
	a.mu.Lock()
	links := make([]*link, 0, len(a.links))
	for _, l := range a.links {
		links = append(links, l)
	}
	a.mu.Unlock()
	slices.SortFunc(links, func(x, y *link) int { return strings.Compare(x.addr, y.addr) })
	st := AgentStatus{Node: a.cfg.NodeName, Servers: []ServerLink{}}
	for _, l := range links {
		st.Servers = append(st.Servers, l.status())
	}
	return st
}
