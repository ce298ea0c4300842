//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/phases"
)

// checkStatus runs `edgeops status` on the running cluster of inv, whose
// every host is a member: all well (exit 0, every field filled); an edge
// node's edge-proxy stopped (exit 3, that host and component named), then
// started (0 again); a host killed (unreachable, exit 3), then booted (0
// again, once its services are back).
func checkStatus(t *testing.T, s *suite, inv string) {
	r := s.run(t, "status", "-i", inv, "--output", "json")
	if r.code != 0 {
		t.Fatalf("status on a healthy cluster: exit %d\n%s\n%s", r.code, tail(r.stdout, 20), r.stderr)
	}
	health := statusEvents(t, r.stdout)
	t.Logf("TIMING status (%d hosts) took %s", len(health), r.wall.Round(100*time.Millisecond))
	var edges []string
	for _, h := range health {
		checkWellHost(t, h)
		if h.Role == "edge" {
			edges = append(edges, h.Host)
		}
	}
	if len(edges) < 2 {
		t.Fatalf("status saw %d edge host(s), the e2e lab has at least 2: %+v", len(edges), health)
	}
	if rt := s.run(t, "status", "-i", inv); rt.code != 0 || !strings.Contains(rt.stdout, "host(s) are well") {
		t.Errorf("status (text): exit %d\n%s\n%s", rt.code, rt.stdout, rt.stderr)
	}

	// A stopped edge-proxy: exit 3, the host and the component named.
	proxyHost := edges[0]
	s.mustSSH(t, proxyHost, "systemctl stop edge-proxy")
	restarted := false
	defer func() {
		if !restarted {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s.ssh(ctx, proxyHost, "systemctl start edge-proxy")
		}
	}()
	r = s.run(t, "status", "-i", inv)
	if r.code != 3 || !strings.Contains(r.stderr, proxyHost+" (edge-proxy: edge-proxy.service is inactive") ||
		!strings.Contains(r.stdout, proxyHost+" edge-proxy: ") || !strings.Contains(r.stdout, "systemctl restart edge-proxy.service") {
		t.Errorf("status with edge-proxy stopped on %s: exit %d, want 3 naming the host and edge-proxy with a fix\nstdout:\n%s\nstderr:\n%s", proxyHost, r.code, r.stdout, r.stderr)
	}
	s.mustSSH(t, proxyHost, "systemctl start edge-proxy")
	restarted = true
	waitStatusWell(t, s, inv, 2*time.Minute)

	// A killed host: unreachable, exit 3; the others stay well.
	victim := edges[len(edges)-1]
	s.lab(t, "kill", victim)
	r = s.run(t, "status", "-i", inv, "--output", "json")
	if r.code != 3 {
		t.Errorf("status with %s killed: exit %d, want 3\n%s", victim, r.code, tail(r.stdout, 10))
	}
	for _, h := range statusEvents(t, r.stdout) {
		switch {
		case h.Host == victim && (h.Reachable || h.OK || len(h.Problems) != 1 || h.Problems[0].Component != "ssh"):
			t.Errorf("killed host %s: %+v, want unreachable with one ssh problem", victim, h)
		case h.Host != victim && !h.OK:
			t.Errorf("host %s is not well while only %s is down: %+v", h.Host, victim, h.Problems)
		}
	}
	if last := tail(r.stdout, 1); !strings.Contains(last, `"exitCode":3`) || !strings.Contains(last, victim+" (ssh: unreachable") {
		t.Errorf("the final error does not name %s as unreachable: %s", victim, last)
	}
	s.lab(t, "start", victim)
	waitStatusWell(t, s, inv, 5*time.Minute)
}

// checkWellHost checks every field of a well member's status.
func checkWellHost(t *testing.T, h phases.Health) {
	t.Helper()
	if !h.OK || !h.Reachable || h.Cluster != phases.MemberYes || h.Node != phases.NodeReady || h.Name == "" || h.CAHash == "" ||
		!strings.HasPrefix(h.KubeletVersion, "v1.") || !strings.HasPrefix(h.ContainerdVersion, "v") || h.Lock != nil || len(h.Problems) != 0 {
		t.Errorf("host %s is not reported well with every field: %+v", h.Host, h)
	}
	var names []string
	for _, c := range h.Components {
		names = append(names, c.Name)
		if !c.OK || c.State != "active" {
			t.Errorf("host %s: component %+v not well", h.Host, c)
		}
	}
	want := []string{"kubelet", "containerd"}
	switch h.Role {
	case "edge":
		want = append(want, "edge-proxy", "edge-tunnel-agent")
	case "master":
		want = append(want, "edge-tunnel-server")
	}
	if !slices.Equal(names, want) {
		t.Errorf("host %s (%s): components %v, want %v", h.Host, h.Role, names, want)
	}
}

// waitStatusWell runs status until it exits 0 (services come back on their
// own after a restart or a boot).
func waitStatusWell(t *testing.T, s *suite, inv string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := s.run(t, "status", "-i", inv)
		if r.code == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status not well after %s: exit %d\n%s\n%s", within, r.code, tail(r.stdout, 20), r.stderr)
		}
		time.Sleep(5 * time.Second)
	}
}

// statusEvents reads status's per-host JSON events (every line must be an event).
func statusEvents(t *testing.T, stdout string) []phases.Health {
	t.Helper()
	events(t, stdout)
	var out []phases.Health
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct {
			Event  string         `json:"event"`
			Health *phases.Health `json:"health"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		if e.Event == "status" && e.Health != nil {
			out = append(out, *e.Health)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no status event in:\n%s", tail(stdout, 20))
	}
	return out
}
