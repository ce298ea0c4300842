package tunnel

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// relaySetup is a server whose direct dials fail and edge-1's agent
// connected to it, edge-1 owning 127.0.0.1: whatever reaches a loopback
// target went through the agent.
func relaySetup(t testing.TB) (*testServer, *testAgent) {
	t.Helper()
	p := newTestPKI(t)
	nodes := newFakeNodes(testNode("edge-1", []string{"127.0.0.1", "edge-1"}, "10.244.1.0/24"))
	srv := startServer(t, p, nodes, "127.0.0.1:0", failDial)
	ag := startAgent(t, agentConfig(p, "edge-1", p.nodeCert(t, "edge-1"), srv.addr), AgentOptions{})
	waitFor(t, 5*time.Second, "agent edge-1 on the server", func() bool { return srv.agentHas("edge-1") })
	return srv, ag
}

func TestRelayThroughAgent(t *testing.T) {
	srv, ag := relaySetup(t)

	t.Run("large payload both ways", func(t *testing.T) {
		target := startTCP(t, echo)
		c := mustConnect(t, srv.sock, target)
		defer c.Close()
		payload := make([]byte, 8<<20)
		_, _ = rand.Read(payload)
		werr := make(chan error, 1)
		go func() {
			_, err := c.Write(payload)
			if err == nil {
				err = closeWrite(c) // the echo ends when it reads EOF
			}
			werr <- err
		}()
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if err := <-werr; err != nil {
			t.Fatalf("write: %v", err)
		}
		if len(got) != len(payload) || sha256.Sum256(got) != sha256.Sum256(payload) {
			t.Fatalf("echo: got %d bytes (sha256 %x), sent %d (sha256 %x)", len(got), sha256.Sum256(got), len(payload), sha256.Sum256(payload))
		}
	})

	t.Run("half-close", func(t *testing.T) {
		target := startTCP(t, countAfterEOF)
		c := mustConnect(t, srv.sock, target)
		defer c.Close()
		if _, err := io.WriteString(c, "twelve bytes"); err != nil {
			t.Fatal(err)
		}
		if err := closeWrite(c); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		if err != nil || string(got) != "12" {
			t.Fatalf("after half-close: got %q, %v; want \"12\"", got, err)
		}
	})

	t.Run("HTTP like kube-apiserver", func(t *testing.T) {
		kubelet := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = fmt.Fprintf(w, "logs of %s", r.URL.Path)
		}))
		defer kubelet.Close()
		tr := &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			c, resp, err := connectVia(ctx, srv.sock, addr)
			if err == nil && c == nil {
				err = fmt.Errorf("CONNECT: %s", resp.Status)
			}
			return c, err
		}}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		for i := range 3 {
			resp, err := client.Get(fmt.Sprintf("%s/containerLogs/ns/pod-%d/c", kubelet.URL, i))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf("logs of /containerLogs/ns/pod-%d/c", i); string(b) != want {
				t.Fatalf("GET: %q, want %q", b, want)
			}
		}
	})

	// every relay above went through the agent (direct dials fail here)
	a, ok := srv.agentStatus("edge-1")
	if !ok || a.Relayed < 3 {
		t.Fatalf("server status of edge-1: %+v, %v; want ≥3 relays", a, ok)
	}
	waitFor(t, 5*time.Second, "relays to end", func() bool {
		a, _ := srv.agentStatus("edge-1")
		l, _ := ag.link(srv.addr)
		return a.Streams == 0 && l.Streams == 0
	})
	if l, _ := ag.link(srv.addr); !l.Connected || l.Relayed != a.Relayed {
		t.Fatalf("agent status %+v; want connected with %d relays", l, a.Relayed)
	}
}

// TestStatusJSON checks the /status shapes field by field.
func TestStatusJSON(t *testing.T) {
	srv, ag := relaySetup(t)
	c := mustConnect(t, srv.sock, startTCP(t, echo)) // one open relay
	defer c.Close()
	waitFor(t, 5*time.Second, "the relay to count", func() bool { a, _ := srv.agentStatus("edge-1"); return a.Streams == 1 })

	get := func(h http.Handler, path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	sh := healthHandler(func() any { return srv.Status() })
	if code, body := get(sh, "/healthz"); code != 200 || body != "ok" {
		t.Fatalf("server /healthz: %d %q", code, body)
	}
	_, body := get(sh, "/status")
	var s struct {
		Node   string `json:"node"`
		Agents []struct {
			Node    string `json:"node"`
			Remote  string `json:"remote"`
			Since   string `json:"since"`
			Streams *int64 `json:"streams"`
			Relayed *int64 `json:"relayed"`
		} `json:"agents"`
		NodesKnown *int  `json:"nodesKnown"`
		Synced     *bool `json:"synced"`
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if s.Node != "master-1" || len(s.Agents) != 1 || s.NodesKnown == nil || *s.NodesKnown != 1 || s.Synced == nil || !*s.Synced {
		t.Fatalf("server /status: %s", body)
	}
	sa := s.Agents[0]
	if _, err := time.Parse(time.RFC3339, sa.Since); err != nil || sa.Node != "edge-1" || sa.Remote == "" ||
		sa.Streams == nil || *sa.Streams != 1 || sa.Relayed == nil || *sa.Relayed != 1 {
		t.Fatalf("server /status agent: %s", body)
	}

	ah := healthHandler(func() any { return ag.Status() })
	_, body = get(ah, "/status")
	var as struct {
		Node    string `json:"node"`
		Servers []struct {
			Address   string  `json:"address"`
			Connected bool    `json:"connected"`
			Since     string  `json:"since"`
			LastError *string `json:"lastError"`
			Streams   *int64  `json:"streams"`
			Relayed   *int64  `json:"relayed"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &as); err != nil {
		t.Fatal(err)
	}
	if as.Node != "edge-1" || len(as.Servers) != 1 {
		t.Fatalf("agent /status: %s", body)
	}
	ss := as.Servers[0]
	if _, err := time.Parse(time.RFC3339, ss.Since); err != nil || ss.Address != srv.addr || !ss.Connected ||
		ss.LastError == nil || ss.Streams == nil || *ss.Streams != 1 || ss.Relayed == nil || *ss.Relayed != 1 {
		t.Fatalf("agent /status server: %s", body)
	}
}

func TestSpliceClosesBothOnContextEnd(t *testing.T) {
	a1, a2 := net.Pipe()
	b1, b2 := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- splice(ctx, &bufferPool{}, a2, b1) }()
	// bytes pass while ctx lives
	go func() { _, _ = a1.Write([]byte("x")) }()
	buf := make([]byte, 1)
	if _, err := io.ReadFull(b2, buf); err != nil || buf[0] != 'x' {
		t.Fatalf("read through splice: %q, %v", buf, err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("splice did not end with its context")
	}
	if _, err := a1.Write([]byte("y")); err == nil {
		t.Fatal("a side still open after splice ended")
	}
}

func TestBufConnKeepsReadAhead(t *testing.T) {
	// the bytes a header parser read ahead must come first in the relay
	a1, a2 := net.Pipe()
	go func() {
		_, _ = io.WriteString(a1, "CONNECT 127.0.0.1:1\nearly bytes")
		a1.Close()
	}()
	br := newLineReader(a2)
	if _, err := readLine(br); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(&bufConn{Conn: a2, r: br})
	if !bytes.Equal(got, []byte("early bytes")) {
		t.Fatalf("got %q", got)
	}
}
