package tunnel

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"
)

func TestCertNode(t *testing.T) {
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tests := []struct {
		name    string
		cn      string
		orgs    []string
		eku     []x509.ExtKeyUsage
		want    string
		wantErr string
	}{
		{"kubelet client", "system:node:edge-1", []string{"system:nodes"}, clientAuth, "edge-1", ""},
		{"more groups", "system:node:edge-1", []string{"x", "system:nodes"}, clientAuth, "edge-1", ""},
		{"not a node", "admin", []string{"system:masters"}, clientAuth, "", "is not a node's"},
		{"empty node name", "system:node:", []string{"system:nodes"}, clientAuth, "", "is not a node's"},
		{"not in system:nodes", "system:node:edge-1", nil, clientAuth, "", "not in group system:nodes"},
		{"no extended key usage", "system:node:edge-1", []string{"system:nodes"}, nil, "", "not for client authentication"},
		{"server usage only", "system:node:edge-1", []string{"system:nodes"}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, "", "not for client authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &x509.Certificate{Subject: pkix.Name{CommonName: tt.cn, Organization: tt.orgs}, ExtKeyUsage: tt.eku}
			got, err := certNode(c)
			if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("certNode = %q, %v; want %q, error containing %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCheckClaim(t *testing.T) {
	if err := checkClaim("edge-1", "edge-1"); err != nil {
		t.Fatal(err)
	}
	err := checkClaim("edge-1", "edge-2")
	if err == nil || err.Error() != "certificate is for node edge-1, claims node edge-2" {
		t.Fatalf("checkClaim: %v", err)
	}
}

// TestAgentIdentity runs agents with various certificates against a real
// server: only a cluster CA node certificate claiming its own node gets in.
func TestAgentIdentity(t *testing.T) {
	p := newTestPKI(t)
	srv := startServer(t, p, newFakeNodes(), "127.0.0.1:0", nil)
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tests := []struct {
		name   string
		signer *testCA
		cert   leaf
		claims string
		// wantErr is in the agent's lastError; empty: it must connect
		wantErr string
		// wantLog is in the server's log
		wantLog string
	}{
		{name: "own node", signer: p.ca, cert: nodeLeaf("node-a"), claims: "node-a"},
		{
			name: "claims another node", signer: p.ca, cert: nodeLeaf("node-a"), claims: "node-b",
			wantErr: "hello: refused: certificate is for node node-a, claims node node-b",
			wantLog: "certificate is for node node-a, claims node node-b",
		},
		{
			name: "another CA", signer: p.other, cert: nodeLeaf("node-a"), claims: "node-a",
			wantErr: "server refused the TLS session", wantLog: "TLS handshake",
		},
		{
			name: "not a node certificate", signer: p.ca, claims: "node-a",
			cert:    leaf{cn: "admin", orgs: []string{"system:masters"}, eku: clientAuth},
			wantErr: `refused: certificate "admin" is not a node's`, wantLog: `certificate "admin" is not a node's`,
		},
		{
			name: "not in system:nodes", signer: p.ca, claims: "node-a",
			cert:    leaf{cn: "system:node:node-a", eku: clientAuth},
			wantErr: "not in group system:nodes", wantLog: "not in group system:nodes",
		},
		{
			name: "server usage only", signer: p.ca, claims: "node-a",
			cert:    leaf{cn: "system:node:node-a", orgs: []string{"system:nodes"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
			wantErr: "server refused the TLS session", wantLog: "TLS handshake",
		},
		{
			name: "no extended key usage", signer: p.ca, claims: "node-a",
			cert:    leaf{cn: "system:node:node-a", orgs: []string{"system:nodes"}},
			wantErr: "not for client authentication", wantLog: "not for client authentication",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := tt.signer.writeClientPEM(t, t.TempDir(), "client", tt.cert)
			logStart := len(srv.logs.String())
			ag := startAgent(t, agentConfig(p, tt.claims, cert, srv.addr), AgentOptions{})
			defer ag.stop()
			if tt.wantErr == "" {
				waitFor(t, 5*time.Second, "the agent to connect", func() bool {
					l, _ := ag.link(srv.addr)
					return l.Connected && srv.agentHas(tt.claims)
				})
				return
			}
			waitFor(t, 5*time.Second, "earlier agents to go", func() bool { return len(srv.Status().Agents) == 0 })
			var l ServerLink
			waitFor(t, 5*time.Second, "the refusal to reach the agent's status", func() bool {
				l, _ = ag.link(srv.addr)
				return l.LastError != ""
			})
			if !strings.Contains(l.LastError, tt.wantErr) || l.Connected {
				t.Fatalf("agent status %+v; want lastError containing %q", l, tt.wantErr)
			}
			// The agent can see the TLS alert before the server has written its
			// log line: wait for this case's own refusal line.
			refusedHere := func() bool {
				logs := srv.logs.String()[logStart:]
				return hasLine(logs, "refused agent from 127.0.0.1:") && hasLine(logs, tt.wantLog)
			}
			if !waitUntil(5*time.Second, refusedHere) {
				t.Fatalf("server log lacks the refusal (%q):\n%s", tt.wantLog, srv.logs)
			}
			if got := srv.Status().Agents; len(got) > 0 {
				t.Fatalf("refused agent listed: %+v", got)
			}
		})
	}

	t.Run("refusals are not retried at once", func(t *testing.T) {
		before := strings.Count(srv.logs.String(), "refused agent from")
		ag := startAgent(t, agentConfig(p, "node-z", p.nodeCert(t, "node-y"), srv.addr), AgentOptions{})
		defer ag.stop()
		waitFor(t, 5*time.Second, "a refusal", func() bool { return strings.Count(srv.logs.String(), "refused agent from") > before })
		time.Sleep(800 * time.Millisecond) // the next try waits at least half the 2 s cap
		if n := strings.Count(srv.logs.String(), "refused agent from") - before; n != 1 {
			t.Fatalf("%d refusals within 0.8 s, want 1", n)
		}
		if n := strings.Count(ag.logs.String(), "claims node node-z"); n != 1 {
			t.Fatalf("agent logged the refusal %d times, want once:\n%s", n, ag.logs)
		}
	})
}
