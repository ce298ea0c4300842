package tunnel

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
)

// relayOnce checks that a CONNECT to a loopback target works and went
// through edge-1's agent.
func relayOnce(t *testing.T, srv *testServer) {
	t.Helper()
	before, _ := srv.agentStatus("edge-1")
	c := mustConnect(t, srv.sock, startTCP(t, countAfterEOF))
	defer c.Close()
	_, _ = io.WriteString(c, "hello")
	_ = closeWrite(c)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(c); string(got) != "5" {
		t.Fatalf("relay: got %q, %v", got, err)
	}
	if after, _ := srv.agentStatus("edge-1"); after.Relayed != before.Relayed+1 {
		t.Fatalf("relay did not go through the agent: %+v → %+v", before, after)
	}
}

func TestAgentReconnects(t *testing.T) {
	p := newTestPKI(t)
	nodes := newFakeNodes(testNode("edge-1", []string{"127.0.0.1"}))
	srv := startServer(t, p, nodes, "127.0.0.1:0", failDial)
	addr := srv.addr
	ag := startAgent(t, agentConfig(p, "edge-1", p.nodeCert(t, "edge-1"), addr), AgentOptions{})
	waitFor(t, 5*time.Second, "the agent", func() bool { return srv.agentHas("edge-1") })
	relayOnce(t, srv)

	for round := range 2 {
		srv.stop() // listener and sessions closed
		waitFor(t, 5*time.Second, "the agent to see the server go", func() bool {
			l, _ := ag.link(addr)
			return !l.Connected && l.LastError != ""
		})
		time.Sleep(time.Duration(round) * 3 * time.Second) // the second time, let the backoff reach its cap
		srv = startServer(t, p, nodes, addr, failDial)
		start := time.Now()
		waitFor(t, 5*time.Second, "the agent to come back", func() bool { return srv.agentHas("edge-1") })
		t.Logf("round %d: agent back %s after the server", round, time.Since(start).Round(time.Millisecond))
		relayOnce(t, srv)
		if l, _ := ag.link(addr); !l.Connected {
			t.Fatalf("agent status after reconnect: %+v", l)
		}
	}
}

func TestAgentFollowsServersFile(t *testing.T) {
	p := newTestPKI(t)
	nodes := newFakeNodes(testNode("edge-1", []string{"127.0.0.1"}))
	// two masters on the same port, as in a cluster: 127.0.0.1 and 127.0.0.2
	var a, b *testServer
	for a == nil {
		a = startServer(t, p, nodes, "127.0.0.1:0", failDial)
		_, port, _ := net.SplitHostPort(a.addr)
		if ln, err := net.Listen("tcp", "127.0.0.2:"+port); err == nil {
			ln.Close()
			b = startServer(t, p, nodes, "127.0.0.2:"+port, failDial)
		} else {
			a.stop()
			a = nil
		}
	}
	_, portStr, _ := net.SplitHostPort(a.addr)
	port, _ := strconv.Atoi(portStr)
	file := filepath.Join(t.TempDir(), "servers.json")
	writeServers := func(content string) { writeFile(t, file, []byte(content)) }

	cfg := agentConfig(p, "edge-1", p.nodeCert(t, "edge-1"), a.addr)
	cfg.ServersFile = file
	ag := startAgent(t, cfg, AgentOptions{ServersFileInterval: 50 * time.Millisecond, TunnelPort: port})
	only := func(want, other *testServer) func() bool {
		return func() bool {
			st := ag.Status().Servers
			return want.agentHas("edge-1") && !other.agentHas("edge-1") && len(st) == 1 && st[0].Address == want.addr && st[0].Connected
		}
	}
	waitFor(t, 5*time.Second, "the configured server (no servers file yet)", only(a, b))

	writeServers(`{"servers": ["https://127.0.0.2:6443"]}`)
	waitFor(t, 5*time.Second, "the agent to move to the file's server", only(b, a))
	relayOnce(t, b)

	writeServers(`{"servers": [`)
	waitFor(t, 5*time.Second, "the configured server again (unparseable file)", only(a, b))
	time.Sleep(200 * time.Millisecond) // several re-reads of the bad file
	if n := countLines(ag.logs.String(), "servers file"); n != 1 {
		t.Fatalf("bad servers file logged %d times, want once:\n%s", n, ag.logs)
	}

	writeServers(fmt.Sprintf(`{"servers": ["https://127.0.0.1:6443", "https://127.0.0.2:6443", "https://127.0.0.2:%d"]}`, 6444))
	waitFor(t, 5*time.Second, "sessions with both masters", func() bool {
		st := ag.Status().Servers
		return a.agentHas("edge-1") && b.agentHas("edge-1") && len(st) == 2 && st[0].Connected && st[1].Connected
	})
}

func countLines(logs, substr string) int {
	n := 0
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// TestFallbackToDirect: an agent whose session cannot carry a stream is
// passed over for a direct dial.
func TestFallbackToDirect(t *testing.T) {
	p := newTestPKI(t)
	nodes := newFakeNodes(testNode("edge-1", []string{"127.0.0.1"}))
	srv := startServer(t, p, nodes, "127.0.0.1:0", nil)

	// a broken agent: it says hello, then drops every stream unanswered
	sess := rawAgent(t, p, srv.addr, "edge-1")
	go func() {
		for {
			st, err := sess.Accept()
			if err != nil {
				return
			}
			st.Close()
		}
	}()
	waitFor(t, 5*time.Second, "the broken agent", func() bool { return srv.agentHas("edge-1") })

	c := mustConnect(t, srv.sock, startTCP(t, countAfterEOF))
	defer c.Close()
	_, _ = io.WriteString(c, "abcd")
	_ = closeWrite(c)
	if got, _ := io.ReadAll(c); string(got) != "4" {
		t.Fatalf("got %q", got)
	}
	if !hasLine(srv.logs.String(), "agent of node edge-1: stream answer: EOF; dialling directly") {
		t.Fatalf("fallback not logged:\n%s", srv.logs)
	}
}

// rawAgent is an agent of node made by hand: TLS, hello, a yamux client.
func rawAgent(t *testing.T, p *testPKI, addr, node string) *yamux.Session {
	t.Helper()
	cert, err := loadClientCert(p.nodeCert(t, node))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := loadCAPool(p.caFile)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", Certificates: []tls.Certificate{*cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	_, _ = io.WriteString(tc, hello{Node: node}.String())
	br := newLineReader(tc)
	if line, err := readLine(br); err != nil || line != "OK" {
		t.Fatalf("hello: %q %v", line, err)
	}
	ycfg := yamux.DefaultConfig()
	ycfg.LogOutput = io.Discard
	sess, err := yamux.Client(&bufConn{Conn: tc, r: br}, ycfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// TestNewerSessionReplacesOlder: a node's second session closes its first.
func TestNewerSessionReplacesOlder(t *testing.T) {
	p := newTestPKI(t)
	srv := startServer(t, p, newFakeNodes(testNode("edge-1", []string{"127.0.0.1"})), "127.0.0.1:0", failDial)
	old := rawAgent(t, p, srv.addr, "edge-1")
	waitFor(t, 5*time.Second, "the first session", func() bool { return srv.agentHas("edge-1") })
	first, _ := srv.agentStatus("edge-1")

	ag := startAgent(t, agentConfig(p, "edge-1", p.nodeCert(t, "edge-1"), srv.addr), AgentOptions{})
	select {
	case <-old.CloseChan():
	case <-time.After(5 * time.Second):
		t.Fatal("the older session was not closed")
	}
	waitFor(t, 5*time.Second, "the newer session to be the node's", func() bool {
		a, ok := srv.agentStatus("edge-1")
		l, _ := ag.link(srv.addr)
		return ok && a.Remote != first.Remote && l.Connected
	})
	// The server logs the old session's end from its own goroutine, which
	// may finish after the client saw the close: wait for the line.
	waitFor(t, 5*time.Second, "the replacement to be logged", func() bool {
		return hasLine(srv.logs.String(), "agent edge-1 ("+first.Remote+") disconnected after") &&
			hasLine(srv.logs.String(), "replaced by a newer session from 127.0.0.1:")
	})
	relayOnce(t, srv)
}
