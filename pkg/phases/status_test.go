package phases

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/edgeproxy"
	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/tunnel"
	"github.com/edgeops/edgeops/pkg/vip"
)

// httpLine is a statusScript line carrying a raw HTTP answer.
func httpLine(unit string, code int, body any) string {
	b, _ := json.Marshal(body)
	raw := fmt.Sprintf("HTTP/1.0 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", code, "X", len(b), b)
	return "http." + unit + "=" + base64.StdEncoding.EncodeToString([]byte(raw)) + "\n"
}

// unitLines is `systemctl show` output through statusScript's sed.
func unitLines(states map[string]string) string {
	var b strings.Builder
	for i, u := range probedUnits() {
		if i > 0 {
			b.WriteString("unit:\n")
		}
		load, active, sub := "loaded", "active", "running"
		switch states[u] {
		case "":
		case "missing":
			load, active, sub = "not-found", "inactive", "dead"
		default:
			active, sub = states[u], "dead"
		}
		fmt.Fprintf(&b, "unit:Id=%s.service\nunit:LoadState=%s\nunit:ActiveState=%s\nunit:SubState=%s\n", u, load, active, sub)
	}
	return b.String()
}

func TestParseProbe(t *testing.T) {
	out := unitLines(map[string]string{unitTunnelServer: "inactive", unitVIP: "missing"}) +
		"kubeletversion=Kubernetes v1.37.2\ncontainerdversion=containerd github.com/containerd/containerd v2.1.4 \n" +
		"lockowner=edgeops/box/42/aa\nlockage=7\nlockborn=1796470111\nagentbusy=1\n" +
		httpLine(unitEdgeProxy, 200, edgeproxy.Status{Online: true, Current: "https://m:6443"}) +
		"http." + unitTunnelAgent + "=\n"
	p, err := parseProbe(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Units[unitKubelet]; got != (unitState{"loaded", "active", "running"}) {
		t.Errorf("kubelet unit = %+v", got)
	}
	if got := p.Units[unitVIP]; got.Load != "not-found" {
		t.Errorf("edge-vip unit = %+v, want not-found", got)
	}
	if got := p.Units[unitTunnelServer]; got.Active != "inactive" {
		t.Errorf("edge-tunnel-server unit = %+v, want inactive", got)
	}
	if p.KubeletVersion != "v1.37.2" || p.ContainerdVersion != "v2.1.4" {
		t.Errorf("versions = %q %q", p.KubeletVersion, p.ContainerdVersion)
	}
	if p.LockOwner != "edgeops/box/42/aa" || p.LockAge != 7*time.Second || p.LockSince.Unix() != 1796470111 || !p.AgentBusy {
		t.Errorf("lock = %q %s %s busy=%v", p.LockOwner, p.LockAge, p.LockSince, p.AgentBusy)
	}
	if a := p.HTTP[unitEdgeProxy]; a.Code != 200 || !strings.Contains(string(a.Body), `"online":true`) {
		t.Errorf("edge-proxy answer = %+v", a)
	}
	if a := p.HTTP[unitTunnelAgent]; a.Code != 0 || a.Err == "" {
		t.Errorf("edge-tunnel agent answer = %+v, want no answer", a)
	}
	if _, err := parseProbe("kubeletversion=Kubernetes v1.37.2\n"); err == nil {
		t.Error("output without units: want an error")
	}
	if _, err := parseProbe(unitLines(nil) + "lockage=soon\n"); err == nil {
		t.Error("a lock age that is no number: want an error")
	}
}

func TestParseHTTPAnswer(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name     string
		b64      string
		wantCode int
		wantErr  string
		wantBody string
	}{
		{"ok", enc("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}"), 200, "", "{}"},
		{"ok without length (HTTP/1.0 closes)", enc("HTTP/1.0 200 OK\r\n\r\n{\"a\":1}\n"), 200, "", "{\"a\":1}\n"},
		{"server error", enc("HTTP/1.0 503 Service Unavailable\r\n\r\nnot ready\nmore"), 503, "HTTP 503: not ready", ""},
		{"nothing", "", 0, "no answer", ""},
		{"not base64", "%%%", 0, "unreadable", ""},
		{"not HTTP", enc("SSH-2.0-OpenSSH\r\n"), 0, "not an HTTP answer", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := parseHTTPAnswer(tt.b64)
			if a.Code != tt.wantCode || !strings.Contains(a.Err, tt.wantErr) || (tt.wantErr == "" && a.Err != "") || string(a.Body) != tt.wantBody {
				t.Errorf("parseHTTPAnswer = %+v (body %q), want code %d, error %q, body %q", a, a.Body, tt.wantCode, tt.wantErr, tt.wantBody)
			}
		})
	}
}

// TestJudgeStatus feeds the components' own /status types, so a renamed
// field there breaks this test rather than status.
func TestJudgeStatus(t *testing.T) {
	tests := []struct {
		name        string
		unit        string
		status      any
		wantDetail  string
		wantProblem string
	}{
		{"proxy online", unitEdgeProxy, edgeproxy.Status{Servers: []string{"https://m:6443"}, Current: "https://m:6443", Online: true}, "via https://m:6443", ""},
		{"proxy offline", unitEdgeProxy, edgeproxy.Status{Servers: []string{"https://m:6443"}}, "offline", "reaches no API server (of https://m:6443)"},
		{"agent connected", unitTunnelAgent, tunnel.AgentStatus{Servers: []tunnel.ServerLink{{Address: "m1:10262", Connected: true}, {Address: "m2:10262", Connected: true}}}, "2/2 masters", ""},
		{"agent half connected", unitTunnelAgent, tunnel.AgentStatus{Servers: []tunnel.ServerLink{{Address: "m1:10262", Connected: true}, {Address: "m2:10262", LastError: "connection refused"}}}, "1/2 masters", "not connected to m2:10262 (connection refused)"},
		{"agent without masters", unitTunnelAgent, tunnel.AgentStatus{}, "0/0 masters", "knows no master"},
		{"server synced", unitTunnelServer, tunnel.ServerStatus{Agents: []tunnel.ConnectedAgent{{Node: "e1"}, {Node: "e2"}}, Synced: true}, "2 agents", ""},
		{"server not synced", unitTunnelServer, tunnel.ServerStatus{}, "0 agents", "has not synced"},
		{"vip held here", unitVIP, vip.Status{Address: "10.0.0.100", Leader: true, Holder: "m1", Holding: true}, "holds 10.0.0.100", ""},
		{"vip held elsewhere", unitVIP, vip.Status{Address: "10.0.0.100", Holder: "m2"}, "held by m2", ""},
		{"vip without holder", unitVIP, vip.Status{Address: "10.0.0.100"}, "no holder", "no master holds the VIP 10.0.0.100"},
		{"vip leads without the address", unitVIP, vip.Status{Address: "10.0.0.100", Leader: true, Holder: "m1"}, "leads, address missing", "is not on its interface"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(tt.status)
			detail, p, err := judgeStatus(tt.unit, body)
			if err != nil {
				t.Fatal(err)
			}
			if detail != tt.wantDetail {
				t.Errorf("detail = %q, want %q", detail, tt.wantDetail)
			}
			switch {
			case tt.wantProblem == "" && p != nil:
				t.Errorf("problem = %+v, want none", p)
			case tt.wantProblem != "" && (p == nil || !strings.Contains(p.Message, tt.wantProblem) || p.Fix == ""):
				t.Errorf("problem = %+v, want one saying %q with a fix", p, tt.wantProblem)
			}
		})
	}
	if _, _, err := judgeStatus(unitEdgeProxy, []byte("<html>")); err == nil {
		t.Error("a body that is no JSON: want an error")
	}
}

// healthyProbe is a probe of a host whose every unit runs and whose edge
// components answer well.
func healthyProbe() probe {
	p, err := parseProbe(unitLines(nil) + "kubeletversion=Kubernetes v1.37.2\ncontainerdversion=containerd x v2.1.4\n" +
		httpLine(unitEdgeProxy, 200, edgeproxy.Status{Current: "https://10.0.0.1:6443", Online: true}) +
		httpLine(unitTunnelAgent, 200, tunnel.AgentStatus{Servers: []tunnel.ServerLink{{Address: "10.0.0.1:10262", Connected: true}}}) +
		httpLine(unitTunnelServer, 200, tunnel.ServerStatus{Synced: true}) +
		httpLine(unitVIP, 200, vip.Status{Address: "10.0.0.100", Holder: "m1", Holding: true}))
	if err != nil {
		panic(err)
	}
	return p
}

func TestAssess(t *testing.T) {
	member := Facts{Hostname: "n2", KubeletConf: true, KubeadmFiles: true, CAHash: "ca1", KubeletCAHash: "ca1"}
	leaderFacts := Facts{Hostname: "n1", AdminConf: true, KubeletConf: true, KubeadmFiles: true, EtcdMember: true, CAHash: "ca1", KubeletCAHash: "ca1"}
	cluster := clusterView{reached: true, installed: true, caHashes: map[string]bool{"ca1": true}, nodes: map[string]nodeStatus{
		"n1": {Name: "n1", Ready: true, IP: "10.0.0.1", KubeletVersion: "v1.37.2", RuntimeVersion: "containerd://2.1.4"},
		"n2": {Name: "n2", Ready: true, IP: "10.0.0.2", KubeletVersion: "v1.37.2", RuntimeVersion: "containerd://2.1.4"},
		"n3": {Name: "n3", IP: "10.0.0.3", ReadyMessage: "Kubelet stopped posting node status.", KubeletVersion: "v1.37.2"},
	}}
	with := func(change func(*probe)) probe {
		p := healthyProbe()
		change(&p)
		return p
	}
	deadOwner := fmt.Sprintf("edgeops/%s/%d/aa", mustHostname(t), 1<<22+12345) // a pid above pid_max's default
	tests := []struct {
		name          string
		addr          string // default 10.0.0.9
		role          inventory.Role
		leader        bool
		facts         Facts
		err           error
		probe         probe
		cluster       clusterView
		noEdge, vip   bool
		wantOK        bool
		wantCluster   string
		wantNode      string
		wantProblems  []string // components named by the problems, in order
		wantComponent []string
		check         func(*testing.T, Health)
	}{
		{name: "healthy edge", role: edge, facts: member, probe: healthyProbe(), cluster: cluster, wantOK: true, wantCluster: MemberYes, wantNode: NodeReady,
			wantComponent: []string{"kubelet", "containerd", "edge-proxy", "edge-tunnel-agent"},
			check: func(t *testing.T, h Health) {
				if h.KubeletVersion != "v1.37.2" || h.ContainerdVersion != "v2.1.4" || h.Lock != nil {
					t.Errorf("versions %q %q, lock %+v", h.KubeletVersion, h.ContainerdVersion, h.Lock)
				}
			}},
		{name: "healthy leader with a VIP", role: master, leader: true, facts: leaderFacts, probe: healthyProbe(), cluster: cluster, vip: true, wantOK: true, wantCluster: MemberYes, wantNode: NodeReady,
			wantComponent: []string{"kubelet", "containerd", "edge-tunnel-server", "edge-vip"}},
		{name: "worker: no edge components", role: worker, facts: member, probe: healthyProbe(), cluster: cluster, wantOK: true, wantCluster: MemberYes, wantNode: NodeReady,
			wantComponent: []string{"kubelet", "containerd"}},
		{name: "enableEdge false: edge components not expected", role: edge, facts: member, cluster: cluster, noEdge: true, wantOK: true, wantCluster: MemberYes, wantNode: NodeReady,
			probe: with(func(p *probe) {
				p.Units[unitEdgeProxy] = unitState{"not-found", "inactive", "dead"}
				delete(p.HTTP, unitEdgeProxy)
			}),
			wantComponent: []string{"kubelet", "containerd"}},
		{name: "edge-proxy stopped", role: edge, facts: member, cluster: cluster, wantCluster: MemberYes, wantNode: NodeReady,
			probe:        with(func(p *probe) { p.Units[unitEdgeProxy] = unitState{"loaded", "inactive", "dead"} }),
			wantProblems: []string{"edge-proxy"},
			check: func(t *testing.T, h Health) {
				if c := h.Components[2]; c.State != "inactive (dead)" || c.OK || !strings.Contains(h.Problems[0].Fix, "systemctl restart edge-proxy.service") {
					t.Errorf("edge-proxy = %+v, problem %+v", c, h.Problems[0])
				}
			}},
		{name: "edge-proxy active but silent", role: edge, facts: member, cluster: cluster, wantCluster: MemberYes, wantNode: NodeReady,
			probe:        with(func(p *probe) { p.HTTP[unitEdgeProxy] = httpAnswer{Err: "nothing listens on 127.0.0.1:10267"} }),
			wantProblems: []string{"edge-proxy"}},
		{name: "edge-proxy offline, tunnel agent cut", role: edge, facts: member, cluster: cluster, wantCluster: MemberYes, wantNode: NodeReady,
			probe: with(func(p *probe) {
				b, _ := json.Marshal(edgeproxy.Status{Servers: []string{"https://10.0.0.1:6443"}})
				p.HTTP[unitEdgeProxy] = httpAnswer{Code: 200, Body: b}
				b, _ = json.Marshal(tunnel.AgentStatus{Servers: []tunnel.ServerLink{{Address: "10.0.0.1:10262", LastError: "i/o timeout"}}})
				p.HTTP[unitTunnelAgent] = httpAnswer{Code: 200, Body: b}
			}),
			wantProblems: []string{"edge-proxy", "edge-tunnel-agent"}},
		{name: "no bash: units only", role: edge, facts: member, cluster: cluster, wantOK: true, wantCluster: MemberYes, wantNode: NodeReady,
			probe: with(func(p *probe) { p.NoBash = true; p.HTTP = map[string]httpAnswer{} })},
		{name: "kubelet failed, node NotReady", role: edge, facts: Facts{Hostname: "n3", KubeletConf: true, KubeadmFiles: true, KubeletCAHash: "ca1"}, cluster: cluster,
			probe:       with(func(p *probe) { p.Units[unitKubelet] = unitState{"loaded", "failed", "failed"} }),
			wantCluster: MemberYes, wantNode: NodeNotReady,
			wantProblems: []string{"node", "kubelet"},
			check: func(t *testing.T, h Health) {
				if !strings.Contains(h.Problems[0].Message, "Kubelet stopped posting") {
					t.Errorf("node problem = %+v", h.Problems[0])
				}
			}},
		{name: "not registered", role: edge, facts: Facts{Hostname: "n9", KubeletConf: true, KubeadmFiles: true, KubeletCAHash: "ca1"}, cluster: cluster, probe: healthyProbe(),
			wantCluster: MemberYes, wantNode: NodeNotRegistered, wantProblems: []string{"node"}},
		{name: "unreachable: the cluster's view of its node still shows", addr: "10.0.0.3", role: edge, err: &HostError{Host: "10.0.0.3", Phase: "connect", Err: errors.New("dial tcp: i/o timeout")},
			cluster: cluster, wantCluster: MemberUnknown, wantNode: NodeNotReady, wantProblems: []string{"ssh"},
			check: func(t *testing.T, h Health) {
				if h.Reachable || h.Name != "n3" || !strings.Contains(h.Problems[0].Message, "i/o timeout") {
					t.Errorf("health = %+v", h)
				}
			}},
		{name: "facts failed", addr: "10.0.0.3", role: edge, err: &HostError{Host: "10.0.0.3", Phase: "facts", Err: errors.New("no hostname")}, cluster: cluster,
			wantCluster: MemberUnknown, wantNode: NodeNotReady, wantProblems: []string{"facts"}},
		{name: "not installed", role: edge, facts: Facts{Hostname: "n4"}, probe: healthyProbe(), cluster: cluster, wantCluster: MemberNotInstalled, wantNode: NodeUnknown,
			wantProblems: []string{"cluster"}},
		{name: "another cluster's node", role: edge, facts: Facts{Hostname: "n4", KubeletConf: true, KubeadmFiles: true, KubeletCAHash: "ca2", KubeletServer: "https://x:6443"}, probe: healthyProbe(), cluster: cluster,
			wantCluster: MemberForeign, wantNode: NodeUnknown, wantProblems: []string{"cluster"},
			check: func(t *testing.T, h Health) {
				if p := h.Problems[0]; !strings.Contains(p.Message, "ca2") || !strings.Contains(p.Fix, "edgeops reset --host 10.0.0.9") {
					t.Errorf("problem = %+v", p)
				}
			}},
		{name: "a cluster's node while the leader has none", role: edge, facts: member, probe: healthyProbe(), cluster: clusterView{reached: true, caHashes: map[string]bool{}},
			wantCluster: MemberForeign, wantNode: NodeUnknown, wantProblems: []string{"cluster"}},
		{name: "half-joined", role: edge, facts: Facts{Hostname: "n4", KubeadmFiles: true, CAHash: "ca1"}, probe: healthyProbe(), cluster: cluster,
			wantCluster: MemberHalfJoined, wantNode: NodeUnknown, wantProblems: []string{"cluster"}},
		{name: "leader without a cluster", role: master, leader: true, facts: Facts{Hostname: "n1"}, probe: healthyProbe(), cluster: clusterView{reached: true, caHashes: map[string]bool{}},
			wantCluster: MemberNotInstalled, wantNode: NodeUnknown, wantProblems: []string{"cluster"}},
		{name: "leader not reached: membership unknown, no problem of its own", role: edge, facts: member, probe: healthyProbe(), cluster: clusterView{},
			wantOK: true, wantCluster: MemberUnknown, wantNode: NodeUnknown},
		{name: "leader's API server down", role: master, leader: true, facts: leaderFacts, probe: healthyProbe(),
			cluster:     clusterView{reached: true, installed: true, caHashes: map[string]bool{"ca1": true}, apiErr: errors.New("connection refused")},
			wantCluster: MemberYes, wantNode: NodeUnknown, wantProblems: []string{"cluster"}},
		{name: "another node while the API server is down", role: edge, facts: member, probe: healthyProbe(),
			cluster: clusterView{reached: true, installed: true, caHashes: map[string]bool{"ca1": true}, apiErr: errors.New("connection refused")},
			wantOK:  true, wantCluster: MemberYes, wantNode: NodeUnknown},
		{name: "a live run's lock", role: edge, facts: member, cluster: cluster, wantCluster: MemberYes, wantNode: NodeReady, wantProblems: []string{"lock"},
			probe: with(func(p *probe) {
				p.LockOwner, p.LockAge, p.LockSince = "edgeops/box/1/aa", 3*time.Second, time.Unix(1796470111, 0)
			}),
			check: func(t *testing.T, h Health) {
				if h.Lock == nil || !h.Lock.Held || h.Lock.Since == nil || !strings.Contains(h.Problems[0].Message, "edgeops/box/1/aa") {
					t.Errorf("lock = %+v, problems %+v", h.Lock, h.Problems)
				}
			}},
		{name: "a stale lock is no problem", role: edge, facts: member, cluster: cluster, wantOK: true, wantCluster: MemberYes, wantNode: NodeReady,
			probe: with(func(p *probe) { p.LockOwner, p.LockAge = "edgeops/box/1/aa", 2*time.Minute }),
			check: func(t *testing.T, h Health) {
				if h.Lock == nil || h.Lock.Held {
					t.Errorf("lock = %+v, want stale", h.Lock)
				}
			}},
		{name: "a stale lock while edgeadm works is held", role: edge, facts: member, cluster: cluster, wantCluster: MemberYes, wantNode: NodeReady, wantProblems: []string{"lock"},
			probe: with(func(p *probe) { p.LockOwner, p.LockAge, p.AgentBusy = "edgeops/box/1/aa", 2*time.Minute, true })},
		{name: "a fresh lock of a dead run of this machine is no problem", role: edge, facts: member, cluster: cluster, wantOK: true, wantCluster: MemberYes, wantNode: NodeReady,
			probe: with(func(p *probe) { p.LockOwner, p.LockAge = deadOwner, time.Second })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.addr
			if addr == "" {
				addr = "10.0.0.9"
			}
			h := &Host{Host: &inventory.Host{Address: addr, Role: tt.role}, Facts: tt.facts}
			got := assess(assessInput{host: h, err: tt.err, facts: tt.facts, probe: tt.probe, probed: tt.err == nil,
				leader: tt.leader, cluster: tt.cluster, edge: !tt.noEdge, vip: tt.vip})
			var problems []string
			for _, p := range got.Problems {
				problems = append(problems, p.Component)
				if p.Message == "" || p.Fix == "" {
					t.Errorf("problem without message or fix: %+v", p)
				}
			}
			if got.OK != tt.wantOK || got.OK != (len(got.Problems) == 0) {
				t.Errorf("OK = %v, want %v (problems %+v)", got.OK, tt.wantOK, got.Problems)
			}
			if strings.Join(problems, ",") != strings.Join(tt.wantProblems, ",") {
				t.Errorf("problems = %v, want %v: %+v", problems, tt.wantProblems, got.Problems)
			}
			if got.Cluster != tt.wantCluster || got.Node != tt.wantNode {
				t.Errorf("cluster %q node %q, want %q %q", got.Cluster, got.Node, tt.wantCluster, tt.wantNode)
			}
			if tt.wantComponent != nil {
				var names []string
				for _, c := range got.Components {
					names = append(names, c.Name)
				}
				if strings.Join(names, ",") != strings.Join(tt.wantComponent, ",") {
					t.Errorf("components = %v, want %v", names, tt.wantComponent)
				}
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func mustHostname(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(h, "/", "_")
}

// statusLabRemote answers the status probe as a healthy host does; every
// other command goes to the fake host.
type statusLabRemote struct{ fakeRemote }

func (r statusLabRemote) Run(ctx context.Context, cmd string, out io.Writer) ([]byte, error) {
	switch {
	case cmd == factsScript:
		b, err := r.fakeRemote.Run(ctx, cmd, out)
		// The edge components listen: 10263-10265, 10267.
		return append(b, "listen=2817\nlisten=2818\nlisten=2819\nlisten=281B\n"...), err
	case strings.Contains(cmd, "systemctl show -p Id"):
		r.h.mu.Lock()
		r.h.log = append(r.h.log, cmd)
		r.h.mu.Unlock()
		p := healthyProbe()
		out := unitLines(nil) + "kubeletversion=Kubernetes v1.37.2\n"
		for u, a := range p.HTTP {
			if strings.Contains(cmd, healthAddress(u)) {
				out += "http." + u + "=" + base64.StdEncoding.EncodeToString(append([]byte("HTTP/1.0 200 OK\r\n\r\n"), a.Body...)) + "\n"
			}
		}
		return []byte(out), nil
	}
	return r.fakeRemote.Run(ctx, cmd, out)
}

// TestStatusPhasesReadOnly runs status on a fake lab whose third host is
// down: the others are well, the third is unreachable, and no command
// that ran changes anything (no lock, no upload).
func TestStatusPhasesReadOnly(t *testing.T) {
	lab := newFakeLab(master, edge, edge)
	clusterUp(lab, true)
	lab.inv.Hosts[2].Hostname = "n3" // found in the cluster by name although its facts were not read
	s := lab.state(t, nil)
	s.Dial = func(ctx context.Context, h *inventory.Host) (Remote, error) {
		if h.Address == lab.hosts[2].addr {
			return nil, errors.New("dial tcp " + h.Address + ":22: i/o timeout")
		}
		for _, fh := range lab.hosts {
			if fh.addr == h.Address {
				return statusLabRemote{fakeRemote{h: fh, c: lab.c}}, nil
			}
		}
		return nil, errors.New("no such host")
	}
	list := StatusPhases()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = Run(ctx, s, list)
	got := Status(s, list)
	if len(got) != 3 {
		t.Fatalf("%d rows, want 3", len(got))
	}
	for i, h := range got[:2] {
		if !h.OK || h.Cluster != MemberYes || h.Node != NodeReady || h.Leader != (i == 0) {
			t.Errorf("host %s = %+v, want a well member", h.Host, h)
		}
	}
	if down := got[2]; down.OK || down.Reachable || len(down.Problems) != 1 || down.Problems[0].Component != "ssh" || down.Node != NodeReady {
		t.Errorf("down host = %+v, want unreachable (its Node still Ready in the cluster)", down)
	}
	for _, fh := range lab.hosts {
		for _, c := range fh.commands() {
			if !(c == factsScript || strings.Contains(c, "systemctl show -p Id") || strings.Contains(c, "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes")) {
				t.Errorf("host %s ran %q: status only reads", fh.addr, firstLine(c))
			}
		}
	}
}
