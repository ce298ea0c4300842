package tunnel

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestReadConnect(t *testing.T) {
	tests := []struct {
		name       string
		req        string
		wantTarget string
		wantStatus int // 0: no error
	}{
		{"kube-apiserver's", "CONNECT 172.28.30.12:10250 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "172.28.30.12:10250", 0},
		{"hostname", "CONNECT edge-1:10250 HTTP/1.1\r\nHost: edge-1:10250\r\nUser-Agent: x\r\n\r\n", "edge-1:10250", 0},
		{"IPv6", "CONNECT [fd00::12]:10250 HTTP/1.1\r\n\r\n", "[fd00::12]:10250", 0},
		{"bare newlines", "CONNECT 10.0.0.1:22 HTTP/1.0\n\n", "10.0.0.1:22", 0},
		{"GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "", http.StatusMethodNotAllowed},
		{"absolute-form GET", "GET http://10.0.0.1:10250/ HTTP/1.1\r\n\r\n", "", http.StatusMethodNotAllowed},
		{"no port", "CONNECT 10.0.0.1 HTTP/1.1\r\n\r\n", "", http.StatusBadRequest},
		{"port 0", "CONNECT 10.0.0.1:0 HTTP/1.1\r\n\r\n", "", http.StatusBadRequest},
		{"port not a number", "CONNECT 10.0.0.1:https HTTP/1.1\r\n\r\n", "", http.StatusBadRequest},
		{"empty host", "CONNECT :10250 HTTP/1.1\r\n\r\n", "", http.StatusBadRequest},
		{"not HTTP", "hello\r\n\r\n", "", http.StatusBadRequest},
		{"HTTP/2", "CONNECT 10.0.0.1:1 HTTP/2.0\r\n\r\n", "", http.StatusBadRequest},
		{"extra field", "CONNECT 10.0.0.1:1 HTTP/1.1 x\r\n\r\n", "", http.StatusBadRequest},
		{"header without colon", "CONNECT 10.0.0.1:1 HTTP/1.1\r\nbogus\r\n\r\n", "", http.StatusBadRequest},
		{"cut short", "CONNECT 10.0.0.1:1 HTTP/1.1\r\nHost: x\r\n", "", http.StatusBadRequest},
		{"line too long", "CONNECT " + strings.Repeat("a", 2*maxLine) + ":1 HTTP/1.1\r\n\r\n", "", http.StatusBadRequest},
		{"header too long", "CONNECT 10.0.0.1:1 HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", maxHeaderLines+1) + "\r\n", "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readConnect(newLineReader(strings.NewReader(tt.req)))
			var ce *connectError
			switch {
			case tt.wantStatus == 0 && (err != nil || got != tt.wantTarget):
				t.Fatalf("readConnect = %q, %v; want %q", got, err, tt.wantTarget)
			case tt.wantStatus != 0 && (!errors.As(err, &ce) || ce.status != tt.wantStatus):
				t.Fatalf("readConnect = %q, %v; want HTTP %d", got, err, tt.wantStatus)
			}
		})
	}
}

// TestEgressAnswers sends requests to a real server's socket.
func TestEgressAnswers(t *testing.T) {
	p := newTestPKI(t)
	closedPort := func() string { // a loopback port nobody listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	_, port, _ := net.SplitHostPort(closedPort)
	nodes := newFakeNodes(
		testNode("edge-1", []string{"127.0.0.1"}),
		testNode("cloud-1", []string{"127.0.0.3"}), // no agent: dialled directly
	)
	srv := startServer(t, p, nodes, "127.0.0.1:0", nil)
	startAgent(t, agentConfig(p, "edge-1", p.nodeCert(t, "edge-1"), srv.addr), AgentOptions{})
	waitFor(t, 5*time.Second, "agent edge-1", func() bool { return srv.agentHas("edge-1") })

	tests := []struct {
		name     string
		request  string
		status   int
		bodyPart string
	}{
		{"GET", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405, "only CONNECT"},
		{"garbage", "SSH-2.0-OpenSSH\r\n\r\n", 400, "malformed request line"},
		{"bad target", "CONNECT nowhere HTTP/1.1\r\n\r\n", 400, "not host:port"},
		{"unreachable, direct", "CONNECT 127.0.0.3:" + port + " HTTP/1.1\r\n\r\n", 502, "direct: dial tcp 127.0.0.3:" + port},
		{"unreachable, through the agent", "CONNECT 127.0.0.1:" + port + " HTTP/1.1\r\n\r\n", 502, "agent of node edge-1: refused: dial tcp 127.0.0.1:" + port},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("unix", srv.sock)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(15 * time.Second))
			if _, err := io.WriteString(c, tt.request); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.bodyPart) {
				t.Fatalf("got %s %q; want %d with %q", resp.Status, body, tt.status, tt.bodyPart)
			}
			if tt.status == 405 && resp.Header.Get("Allow") != "CONNECT" {
				t.Fatalf("405 without Allow: CONNECT: %v", resp.Header)
			}
		})
	}
	if !hasLine(srv.logs.String(), "relay 127.0.0.3:"+port+": direct: dial tcp") {
		t.Fatalf("no relay failure logged:\n%s", srv.logs)
	}

	t.Run("reachable, direct", func(t *testing.T) {
		// cloud-1 has no agent: the server dials its address itself
		ln, err := net.Listen("tcp", "127.0.0.3:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				countAfterEOF(c)
				c.Close()
			}
		}()
		c := mustConnect(t, srv.sock, ln.Addr().String())
		defer c.Close()
		_, _ = io.WriteString(c, "abc")
		_ = closeWrite(c)
		got, _ := io.ReadAll(c)
		if string(got) != "3" {
			t.Fatalf("got %q", got)
		}
		if a, _ := srv.agentStatus("edge-1"); a.Relayed != 0 {
			t.Fatalf("a direct target went through the agent: %+v", a)
		}
	})
}
