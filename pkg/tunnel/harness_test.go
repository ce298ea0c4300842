package tunnel

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/edgeops/edgeops/pkg/contract"
)

// fakeNodes is a NodeSource with nodes the test sets.
type fakeNodes struct {
	mu    sync.Mutex
	nodes []*corev1.Node
	gen   atomic.Uint64
}

func newFakeNodes(nodes ...*corev1.Node) *fakeNodes {
	f := &fakeNodes{}
	f.set(nodes...)
	return f
}

func (f *fakeNodes) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *fakeNodes) Synced() bool                  { return true }
func (f *fakeNodes) Generation() uint64            { return f.gen.Load() }

func (f *fakeNodes) Nodes() []*corev1.Node {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nodes
}

func (f *fakeNodes) set(nodes ...*corev1.Node) {
	f.mu.Lock()
	f.nodes = nodes
	f.mu.Unlock()
	f.gen.Add(1)
}

// testNode is a Node with addresses (IPs are InternalIP, names Hostname)
// and pod CIDRs.
func testNode(name string, addrs []string, cidrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDRs: cidrs}}
	for _, a := range addrs {
		typ := corev1.NodeHostName
		if _, err := netip.ParseAddr(a); err == nil {
			typ = corev1.NodeInternalIP
		}
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: typ, Address: a})
	}
	return n
}

// logBuffer collects a component's log lines; they are shown if the test
// fails (or EDGE_TUNNEL_TEST_LOGS is set).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestLogger(t testing.TB, name string) (*log.Logger, *logBuffer) {
	b := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("EDGE_TUNNEL_TEST_LOGS") != "" {
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return log.New(b, "", log.Lmicroseconds), b
}

// testServer is a running Server: egress socket and agents' listener.
type testServer struct {
	*Server
	sock string
	addr string // agents' address
	logs *logBuffer
	stop func()
}

// startServer runs a server with the agents' listener on addr (host:0
// for any port). stop closes its listeners and sessions.
func startServer(t testing.TB, p *testPKI, nodes NodeSource, addr string, dialDirect DialFunc) *testServer {
	t.Helper()
	lg, logs := newTestLogger(t, "server "+addr)
	dir := t.TempDir()
	cfg := contract.EdgeTunnelServerConfig{
		NodeName:        "master-1",
		SocketPath:      filepath.Join(dir, "run", "egress.sock"),
		ServingCertFile: p.serverCertFile,
		ServingKeyFile:  p.serverKeyFile,
		ClusterCAFile:   p.caFile,
	}
	s, err := NewServer(cfg, ServerOptions{Logger: lg, Nodes: nodes, DialDirect: dialDirect})
	if err != nil {
		t.Fatal(err)
	}
	egress, err := ListenEgress(cfg.SocketPath)
	if err != nil {
		t.Fatal(err)
	}
	agents, err := listenRetry(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, serve := range []func() error{
		func() error { return s.ServeEgress(ctx, egress) },
		func() error { return s.ServeAgents(ctx, agents) },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serve(); err != nil {
				t.Errorf("serve: %v", err)
			}
		}()
	}
	ts := &testServer{Server: s, sock: cfg.SocketPath, addr: agents.Addr().String(), logs: logs}
	var once sync.Once
	ts.stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(ts.stop)
	return ts
}

// listenRetry listens on addr; a port just freed by a stopped server may
// take a moment to be free again.
func listenRetry(addr string) (net.Listener, error) {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

// agentHas says whether the server has node's agent connected.
func (ts *testServer) agentHas(node string) bool { return ts.agents.connected(node) }

func (ts *testServer) agentStatus(node string) (ConnectedAgent, bool) {
	for _, a := range ts.Status().Agents {
		if a.Node == node {
			return a, true
		}
	}
	return ConnectedAgent{}, false
}

// testAgent is a running Agent.
type testAgent struct {
	*Agent
	logs *logBuffer
	stop func()
}

func startAgent(t testing.TB, cfg contract.EdgeTunnelAgentConfig, opts AgentOptions) *testAgent {
	t.Helper()
	lg, logs := newTestLogger(t, "agent "+cfg.NodeName)
	opts.Logger = lg
	if cfg.ServersFile == "" {
		cfg.ServersFile = filepath.Join(t.TempDir(), "no-servers.json")
	}
	a, err := NewAgent(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Run(ctx); err != nil {
			t.Errorf("agent: %v", err)
		}
	}()
	var once sync.Once
	ta := &testAgent{Agent: a, logs: logs}
	ta.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(ta.stop)
	return ta
}

// agentConfig is an agent of node with cert, dialling servers.
func agentConfig(p *testPKI, node, cert string, servers ...string) contract.EdgeTunnelAgentConfig {
	return contract.EdgeTunnelAgentConfig{NodeName: node, Servers: servers, ClusterCAFile: p.caFile, ClientCertFile: cert}
}

func (ta *testAgent) link(addr string) (ServerLink, bool) {
	for _, l := range ta.Status().Servers {
		if l.Address == addr {
			return l, true
		}
	}
	return ServerLink{}, false
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !waitUntil(d, cond) {
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
}

// waitUntil polls cond until it holds (true) or d passes (false).
func waitUntil(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// connectVia sends a CONNECT for target on the egress socket, as
// kube-apiserver does, and returns the answer; on 200 the connection.
func connectVia(ctx context.Context, sock, target string) (net.Conn, *http.Response, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, nil, err
	}
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		c.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		c.Close()
		return nil, resp, nil
	}
	return &bufConn{Conn: c, r: br}, resp, nil
}

// mustConnect is connectVia that expects a 200.
func mustConnect(t testing.TB, sock, target string) net.Conn {
	t.Helper()
	c, resp, err := connectVia(context.Background(), sock, target)
	if err != nil {
		t.Fatalf("CONNECT %s: %v", target, err)
	}
	if c == nil {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("CONNECT %s: %s: %s", target, resp.Status, body)
	}
	return c
}

// startTCP runs handle for every connection to a loopback listener.
func startTCP(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// echo sends back everything, then half-closes.
func echo(c net.Conn) {
	_, _ = io.Copy(c, c)
	_ = c.(*net.TCPConn).CloseWrite()
}

// countAfterEOF reads to EOF and only then answers with the byte count:
// it proves a half-close went through and the way back stayed open.
func countAfterEOF(c net.Conn) {
	n, _ := io.Copy(io.Discard, c)
	_, _ = fmt.Fprintf(c, "%d", n)
}

// failDial is a direct dialer that must not be used.
func failDial(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("direct dial not allowed in this test")
}

func hasLine(logs, substr string) bool {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, substr) {
			return true
		}
	}
	return false
}
