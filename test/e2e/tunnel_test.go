//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// tunnelStatus is what an edge-tunnel server says on its local /status.
type tunnelStatus struct {
	Node   string `json:"node"`
	Agents []struct {
		Node    string    `json:"node"`
		Remote  string    `json:"remote"`
		Since   time.Time `json:"since"`
		Relayed int64     `json:"relayed"`
	} `json:"agents"`
}

func (s *suite) tunnelStatus(t *testing.T, master string) tunnelStatus {
	t.Helper()
	var st tunnelStatus
	out := s.mustSSH(t, master, `curl -fsS http://127.0.0.1:10263/status`)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%s: edge-tunnel server /status: %v\n%s", master, err, out)
	}
	return st
}

// agentOn reports whether master's server holds an agent of node, since when, and how many streams it relayed.
func (s *suite) agentOn(t *testing.T, master, node string) (since time.Time, relayed int64, ok bool) {
	t.Helper()
	for _, a := range s.tunnelStatus(t, master).Agents {
		if a.Node == node {
			return a.Since, a.Relayed, true
		}
	}
	return time.Time{}, 0, false
}

func (s *suite) waitAgent(t *testing.T, master, node string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, _, ok := s.agentOn(t, master, node); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edge-tunnel server on %s holds no agent of node %s after %s: %+v", master, node, within, s.tunnelStatus(t, master))
		}
		time.Sleep(time.Second)
	}
}

// noDialTag marks the rules that keep a master from opening connections to a node.
const noDialTag = "edgeops-e2e-no-dial"

// blockDial makes master unable to open any TCP connection to host, as NAT
// in front of an edge node would; the host's own connections to the master
// (edge-proxy, the tunnel agent) keep working.
func (s *suite) blockDial(t *testing.T, master, host string) {
	t.Helper()
	s.mustSSH(t, master, fmt.Sprintf("iptables -I OUTPUT -d %s -p tcp --syn -m comment --comment %s -j REJECT --reject-with tcp-reset", host, noDialTag))
	if code := strings.TrimSpace(s.mustSSH(t, master, fmt.Sprintf("curl -sk -o /dev/null -w '%%{http_code}' --max-time 5 https://%s:10250/healthz || true", host))); code != "000" {
		t.Fatalf("%s still reaches the kubelet of %s (HTTP %s): the block does not hold", master, host, code)
	}
}

func (s *suite) unblockDial(t *testing.T, master, host string) {
	t.Helper()
	s.mustSSH(t, master, fmt.Sprintf("while iptables -D OUTPUT -d %s -p tcp --syn -m comment --comment %s -j REJECT --reject-with tcp-reset 2>/dev/null; do :; done", host, noDialTag))
}

// kubectlErr runs kubectl with a kubeconfig and returns its output and error.
func (s *suite) kubectlErr(kubeconfig string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.kubectl, append([]string{"--kubeconfig", kubeconfig, "--request-timeout=30s"}, args...)...).CombinedOutput()
	return string(out), err
}

// reachNode proves the cloud's four ways into a node through kubeconfig's
// API server: a pod's logs, exec in it, port-forward to it, the node proxy.
func (s *suite) reachNode(t *testing.T, kubeconfig, ns, pod, node string, execCmd []string, execWant string, forwardPort int) {
	t.Helper()
	if out, err := s.kubectlErr(kubeconfig, "-n", ns, "logs", pod, "--tail=5"); err != nil || strings.TrimSpace(out) == "" {
		t.Errorf("kubectl logs %s/%s: %v\n%s", ns, pod, err, out)
	}
	if out, err := s.kubectlErr(kubeconfig, append([]string{"-n", ns, "exec", pod, "--"}, execCmd...)...); err != nil || !strings.Contains(out, execWant) {
		t.Errorf("kubectl exec %s/%s -- %v: %v\n%s", ns, pod, execCmd, err, out)
	}
	if out, err := s.kubectlErr(kubeconfig, "get", "--raw", "/api/v1/nodes/"+node+"/proxy/healthz"); err != nil || strings.TrimSpace(out) != "ok" {
		t.Errorf("node proxy /api/v1/nodes/%s/proxy/healthz: %v\n%s", node, err, out)
	}
	if forwardPort > 0 {
		if body, err := s.portForwardGet(kubeconfig, ns, pod, forwardPort, "/health"); err != nil || strings.TrimSpace(body) != "OK" {
			t.Errorf("kubectl port-forward %s/%s :%d, GET /health: %v %q", ns, pod, forwardPort, err, body)
		}
	}
}

var forwardingFrom = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+)`)

// portForwardGet runs kubectl port-forward to a pod's port and GETs path through it.
func (s *suite) portForwardGet(kubeconfig, ns, pod string, port int, path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.kubectl, "--kubeconfig", kubeconfig, "-n", ns, "port-forward", "pod/"+pod, fmt.Sprintf(":%d", port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	local := ""
	for local == "" && sc.Scan() {
		if m := forwardingFrom.FindStringSubmatch(sc.Text()); m != nil {
			local = m[1]
		}
	}
	if local == "" {
		return "", fmt.Errorf("port-forward printed no local port")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+local+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// tunnelReach: with the master unable to dial the edge node, the cloud
// still reaches the node's kubelet and pods through the node's agent.
func (a *autonomy) tunnelReach(t *testing.T) {
	s, master := a.s, a.s.hosts[0]
	s.waitAgent(t, master, a.nodeName, time.Minute)
	_, before, _ := s.agentOn(t, master, a.nodeName)
	s.blockDial(t, master, a.edge)
	a.blocked = true
	s.reachNode(t, s.kubeconfig, "default", a.appPod(t), a.nodeName, []string{"/coredns", "-version"}, "CoreDNS", 8080)
	if _, after, _ := s.agentOn(t, master, a.nodeName); after <= before {
		t.Errorf("the agent of %s relayed %d streams before and %d after: the traffic did not go through the tunnel", a.nodeName, before, after)
	}
}

func (a *autonomy) appPod(t *testing.T) string {
	t.Helper()
	var names []string
	for _, p := range a.s.pods(t, "-l", "app=autonomy").Items {
		names = append(names, p.Metadata.Name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no app pod")
	}
	return names[0]
}

// tunnelCutHeal: the edge node is cut from the masters (the master still
// may not dial it) and healed; the agent is back within 10 s and logs work.
func (a *autonomy) tunnelCutHeal(t *testing.T) {
	s, master := a.s, a.s.hosts[0]
	defer func() { s.unblockDial(t, master, a.edge); a.blocked = false }()
	s.lab(t, "cut", a.edge)
	cut := time.Now()
	var gone time.Duration
	for time.Since(cut) < 45*time.Second {
		if _, _, ok := s.agentOn(t, master, a.nodeName); !ok {
			gone = time.Since(cut)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if gone == 0 {
		s.lab(t, "heal", a.edge)
		t.Fatalf("the server on %s still lists the agent of %s 45 s into the cut: dead connections are not noticed", master, a.nodeName)
	}
	s.lab(t, "heal", a.edge)
	healed := time.Now()
	var back time.Duration
	for time.Since(healed) < 30*time.Second {
		if since, _, ok := s.agentOn(t, master, a.nodeName); ok && since.After(healed.Add(-time.Second)) {
			back = time.Since(healed)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if back == 0 {
		t.Fatalf("the agent of %s is not back 30 s after the heal: %+v", a.nodeName, s.tunnelStatus(t, master))
	}
	if back > 10*time.Second {
		t.Errorf("the agent came back %s after the heal; the bound is 10 s", back.Round(100*time.Millisecond))
	}
	var logsAt time.Duration
	for time.Since(healed) < 45*time.Second {
		if out, err := s.kubectlErr(s.kubeconfig, "logs", a.appPod(t), "--tail=1"); err == nil && strings.TrimSpace(out) != "" {
			logsAt = time.Since(healed)
			break
		}
		time.Sleep(time.Second)
	}
	if logsAt == 0 {
		t.Errorf("kubectl logs does not work 45 s after the heal")
	}
	t.Logf("TIMING tunnel cut: the server dropped the agent %s into the cut; after the heal the agent was back in %s and kubectl logs worked after %s",
		gone.Round(100*time.Millisecond), back.Round(100*time.Millisecond), logsAt.Round(100*time.Millisecond))
}

// tunnelFigures measures, side by side in alternating rounds, what the
// tunnel costs: the wall time of 'kubectl exec … /coredns -version' and the
// rate of a 32 MiB stream from the kubelet through the node proxy, with the
// agent running (tunnel) and stopped (the server dials the node directly).
// Figures only: nothing here is a timed assertion.
func (a *autonomy) tunnelFigures(t *testing.T) {
	s, master := a.s, a.s.hosts[0]
	const mib = 32
	s.mustSSH(t, a.edge, fmt.Sprintf("head -c %dM /dev/urandom > /var/log/edgeops-bench.bin", mib))
	defer s.mustSSH(t, a.edge, "rm -f /var/log/edgeops-bench.bin; systemctl start edge-tunnel-agent.service")
	pod := a.appPod(t)
	execs := map[string][]time.Duration{}
	rates := map[string][]float64{}
	for round := 0; round < 2; round++ {
		for _, mode := range []string{"tunnel", "direct"} {
			if mode == "direct" {
				s.mustSSH(t, a.edge, "systemctl stop edge-tunnel-agent.service")
				for _, _, ok := s.agentOn(t, master, a.nodeName); ok; _, _, ok = s.agentOn(t, master, a.nodeName) {
					time.Sleep(200 * time.Millisecond)
				}
			} else {
				s.mustSSH(t, a.edge, "systemctl start edge-tunnel-agent.service")
				s.waitAgent(t, master, a.nodeName, 30*time.Second)
			}
			for i := 0; i < 5; i++ {
				start := time.Now()
				if out, err := s.kubectlErr(s.kubeconfig, "exec", pod, "--", "/coredns", "-version"); err != nil {
					t.Fatalf("%s: kubectl exec: %v\n%s", mode, err, out)
				}
				execs[mode] = append(execs[mode], time.Since(start))
			}
			start := time.Now()
			out, err := s.kubectlErr(s.kubeconfig, "get", "--raw", "/api/v1/nodes/"+a.nodeName+"/proxy/logs/edgeops-bench.bin")
			if err != nil || len(out) != mib<<20 {
				t.Fatalf("%s: node proxy stream: %v, %d bytes of %d", mode, err, len(out), mib<<20)
			}
			rates[mode] = append(rates[mode], mib/time.Since(start).Seconds())
		}
	}
	te, de := medianDuration(execs["tunnel"]), medianDuration(execs["direct"])
	tr, dr := medianFloat(rates["tunnel"]), medianFloat(rates["direct"])
	t.Logf("BENCH tunnel vs direct (median of %d execs, %d streams each): kubectl exec %s vs %s (+%s, %.2fx); node-proxy stream of %d MiB %.1f vs %.1f MiB/s (%.2fx)",
		len(execs["tunnel"]), len(rates["tunnel"]), te.Round(time.Millisecond), de.Round(time.Millisecond), (te - de).Round(time.Millisecond),
		float64(te)/float64(de), mib, tr, dr, tr/dr)
}

func medianDuration(d []time.Duration) time.Duration {
	c := append([]time.Duration{}, d...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[len(c)/2]
}

func medianFloat(f []float64) float64 {
	c := append([]float64{}, f...)
	sort.Float64s(c)
	return c[len(c)/2]
}

// tunnelEveryMaster: with every master unable to dial the edge node, each
// master's API server reaches it through its own server (the agent holds a
// connection to every master).
func (s *suite) tunnelEveryMaster(t *testing.T, masters []string, edge, edgeNode string) {
	for _, m := range masters {
		s.waitAgent(t, m, edgeNode, time.Minute)
	}
	for _, m := range masters {
		s.blockDial(t, m, edge)
	}
	defer func() {
		for _, m := range masters {
			s.unblockDial(t, m, edge)
		}
	}()
	var pod string
	for _, p := range s.pods(t, "-n", "kube-system", "--field-selector", "spec.nodeName="+edgeNode).Items {
		if strings.HasPrefix(p.Metadata.Name, "kube-proxy-edge-") {
			pod = p.Metadata.Name
		}
	}
	if pod == "" {
		t.Fatalf("no kube-proxy-edge pod on %s", edgeNode)
	}
	for _, m := range masters {
		_, before, _ := s.agentOn(t, m, edgeNode)
		s.reachNode(t, serverOverride(t, s, m), "kube-system", pod, edgeNode, []string{"/usr/local/bin/kube-proxy", "--version"}, "Kubernetes", 0)
		if _, after, _ := s.agentOn(t, m, edgeNode); after <= before {
			t.Errorf("master %s: its server relayed nothing for %s (%d before, %d after): its API server did not go through its own server", m, edgeNode, before, after)
		}
	}
}
