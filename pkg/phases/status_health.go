package phases

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Membership of a host in the inventory's cluster (Health.Cluster).
const (
	MemberYes          = "member"
	MemberNotInstalled = "not installed" // no Kubernetes on the host
	MemberHalfJoined   = "half-joined"   // kubeadm files of this cluster (or none), no kubelet.conf
	MemberForeign      = "foreign"       // trusts another cluster's CA
	MemberUnknown      = "unknown"       // the host or the leader was not reached
)

// Node states (Health.Node).
const (
	NodeReady         = "Ready"
	NodeNotReady      = "NotReady"
	NodeNotRegistered = "not registered"
	NodeUnknown       = "unknown" // the API server was not asked or did not answer
)

// Health is what `edgeops status` found on one host. Its JSON form is
// the "health" field of the command's per-host JSON event.
type Health struct {
	Host      string `json:"host"`
	Name      string `json:"name,omitempty"`
	Role      string `json:"role"`
	Reachable bool   `json:"reachable"`
	// Leader: the master whose API server status asked (and whose CA
	// defines the cluster).
	Leader  bool   `json:"leader,omitempty"`
	Cluster string `json:"cluster"`
	// CAHash is the sha256 of the CA the host trusts ("" when none).
	CAHash            string      `json:"caHash,omitempty"`
	Node              string      `json:"node"`
	NodeMessage       string      `json:"nodeMessage,omitempty"`
	KubeletVersion    string      `json:"kubeletVersion,omitempty"`
	ContainerdVersion string      `json:"containerdVersion,omitempty"`
	Components        []Component `json:"components"`
	Lock              *LockHolder `json:"lock,omitempty"`
	Problems          []Problem   `json:"problems"`
	// OK: nothing is wrong with the host (no problem).
	OK bool `json:"ok"`
}

// Component is one service the host's role needs.
type Component struct {
	Name string `json:"name"` // kubelet, containerd, edge-proxy, edge-tunnel-agent, edge-tunnel-server, edge-vip
	Unit string `json:"unit"`
	// State is the unit's systemd ActiveState (active, inactive, failed,
	// activating), or "not installed".
	State string `json:"state"`
	// Health is what the component's local /status said: "ok", or what is
	// wrong; "" when it has no such endpoint or the unit is not active.
	Health string `json:"health,omitempty"`
	Detail string `json:"detail,omitempty"`
	OK     bool   `json:"ok"`
}

// LockHolder is another run's lock found on the host (status takes none).
type LockHolder struct {
	Owner        string     `json:"owner"`
	HeartbeatAge string     `json:"heartbeatAge"`
	Since        *time.Time `json:"since,omitempty"`
	// Held: a live run holds it. A stale lock (its run is gone) is taken
	// over by the next run and is no problem.
	Held bool `json:"held"`
}

// Problem is one thing wrong with a host and what to do about it.
type Problem struct {
	Component string `json:"component"` // ssh, facts, cluster, node, lock, or a Component's name
	Message   string `json:"message"`
	Fix       string `json:"fix"`
}

func (p Problem) String() string { return p.Component + ": " + p.Message + "; fix: " + p.Fix }

// assessInput is everything the verdict on one host depends on.
type assessInput struct {
	host    *Host
	err     error // the host's failure in connect, facts or the probe
	facts   Facts
	probe   probe
	probed  bool
	leader  bool
	cluster clusterView
	edge    bool // the inventory's enableEdge
	vip     bool // the inventory has cluster.vip
}

// assess turns what was read about one host into its Health. It is pure,
// so the verdicts are tested as a table.
func assess(in assessInput) Health {
	h := in.host
	out := Health{
		Host: h.Addr(), Name: h.NodeName(), Role: string(h.Role), Reachable: true, Leader: in.leader,
		Cluster: MemberUnknown, Node: NodeUnknown, CAHash: in.facts.ClusterCA(),
		Components: []Component{}, Problems: []Problem{},
	}
	node, registered := in.cluster.node(h)
	if registered && out.Name == "" {
		out.Name = node.Name
	}
	if in.err != nil || !in.probed {
		out.failed(in, node, registered)
		return out.done()
	}
	out.lock(in.probe, h.Addr())
	member, p := membership(in)
	out.Cluster = member
	if p != nil {
		out.add(*p)
	}
	if member != MemberYes {
		return out.done()
	}
	out.node(in, node, registered)
	out.KubeletVersion, out.ContainerdVersion = in.probe.KubeletVersion, in.probe.ContainerdVersion
	if registered {
		out.KubeletVersion = firstNonEmpty(node.KubeletVersion, out.KubeletVersion)
		out.ContainerdVersion = firstNonEmpty(runtimeVersion(node.RuntimeVersion), out.ContainerdVersion)
	}
	for _, name := range expectedComponents(string(h.Role), in.edge, in.vip) {
		c, problems := component(name, in.probe, h.Addr())
		out.Components = append(out.Components, c)
		for _, p := range problems {
			out.add(p)
		}
	}
	return out.done()
}

func (out *Health) add(p Problem) { out.Problems = append(out.Problems, p) }

func (out Health) done() Health {
	out.OK = len(out.Problems) == 0
	return out
}

// failed fills in a host that was not reached, or whose facts or probe
// failed: what the cluster says about its node still shows.
func (out *Health) failed(in assessInput, node nodeStatus, registered bool) {
	if registered {
		out.Node, out.NodeMessage = nodeState(node), node.ReadyMessage
		out.KubeletVersion = node.KubeletVersion
	}
	err := in.err
	if err == nil {
		err = errors.New("not probed")
	}
	var he *HostError
	phase := ""
	if errors.As(err, &he) {
		phase, err = he.Phase, he.Err
	}
	switch phase {
	case "connect":
		out.Reachable = false
		out.add(Problem{Component: "ssh", Message: fmt.Sprintf("unreachable: %v", err),
			Fix: fmt.Sprintf("check that %s is up and that sshd answers with the inventory's user and key, then run status again", out.Host)})
	case "":
		out.add(Problem{Component: "status", Message: err.Error(), Fix: "run status again; with -v the host's output shows"})
	default:
		out.add(Problem{Component: phase, Message: err.Error(), Fix: "run status again with -v, and see the run log"})
	}
}

// lock records another run's lock; a live one is a problem (that run is
// changing the host right now).
func (out *Health) lock(p probe, addr string) {
	if p.LockOwner == "" {
		return
	}
	held := p.AgentBusy || (p.LockAge < lockStale && !deadLocalRun(p.LockOwner))
	l := &LockHolder{Owner: p.LockOwner, HeartbeatAge: p.LockAge.String(), Held: held}
	since := ""
	if !p.LockSince.IsZero() {
		t := p.LockSince.UTC()
		l.Since = &t
		since = ", since " + t.Format(time.RFC3339)
	}
	out.Lock = l
	if held {
		out.add(Problem{Component: "lock",
			Message: fmt.Sprintf("held by another edgeops run %s (heartbeat %s ago%s): it is changing the host", p.LockOwner, p.LockAge, since),
			Fix:     fmt.Sprintf("wait for that run to finish, then run status again; if that run is gone, the next run takes the lock over after %s", lockStale)})
	}
}

// membership tells whether the host belongs to the leader's cluster.
func membership(in assessInput) (string, *Problem) {
	f, cv, addr := in.facts, in.cluster, in.host.Addr()
	nothing := !f.KubeletConf && !f.KubeadmFiles && !f.ControlPlane() && f.ClusterCA() == ""
	if in.leader {
		switch {
		case f.AdminConf:
			return MemberYes, nil
		case nothing:
			return MemberNotInstalled, &Problem{Component: "cluster", Message: "no Kubernetes on the leader: the cluster does not exist",
				Fix: "run `edgeops up` to create it"}
		default:
			return MemberHalfJoined, &Problem{Component: "cluster", Message: "the leader has kubeadm files but no control plane (/etc/kubernetes/admin.conf)",
				Fix: fmt.Sprintf("run `edgeops plan` to see what up would do; restore admin.conf, or wipe the host with `edgeops reset --host %s` and run `edgeops up`", addr)}
		}
	}
	if nothing {
		return MemberNotInstalled, &Problem{Component: "cluster", Message: "no Kubernetes on the host", Fix: "run `edgeops up` to join it"}
	}
	if !cv.reached {
		return MemberUnknown, nil // the leader's own row says why
	}
	ca := f.ClusterCA()
	foreign := (ca != "" && !cv.caHashes[ca]) || (f.KubeletConf && !cv.installed)
	if foreign {
		where := ""
		if ca != "" {
			where = " (CA sha256:" + short(ca)
			if f.KubeletServer != "" {
				where += ", API server " + f.KubeletServer
			}
			where += ")"
		}
		what := "belongs to another cluster"
		if !cv.installed {
			what = "belongs to a cluster, but the leader has none"
		}
		return MemberForeign, &Problem{Component: "cluster", Message: what + where + "; up leaves it alone",
			Fix: fmt.Sprintf("if it should join this cluster, wipe it with `edgeops reset --host %s`, then run `edgeops up`", addr)}
	}
	if !f.KubeletConf {
		return MemberHalfJoined, &Problem{Component: "cluster", Message: "half-joined: kubeadm files but no /etc/kubernetes/kubelet.conf",
			Fix: "run `edgeops up`: it resets the host and joins it again"}
	}
	return MemberYes, nil
}

// node judges the host's Node, as the leader's API server has it.
func (out *Health) node(in assessInput, n nodeStatus, registered bool) {
	cv := in.cluster
	switch {
	case cv.apiErr != nil:
		if in.leader {
			out.add(Problem{Component: "cluster", Message: fmt.Sprintf("the API server did not answer: %v", cv.apiErr),
				Fix: "check the kubelet and the control plane on the leader (systemctl status kubelet; crictl ps), then run status again"})
		}
	case !cv.installed:
	case !registered:
		out.Node = NodeNotRegistered
		out.add(Problem{Component: "node", Message: fmt.Sprintf("the cluster has no Node %q (nor one with address %s)", out.Name, out.Host),
			Fix: "look at the kubelet on the host (journalctl -u kubelet); `edgeops up` joins it again if its join never finished"})
	default:
		out.Name = n.Name
		out.Node, out.NodeMessage = nodeState(n), n.ReadyMessage
		if !n.Ready {
			out.add(Problem{Component: "node", Message: "NotReady: " + firstNonEmpty(n.ReadyMessage, "no reason given"),
				Fix: "look at the kubelet on the host (journalctl -u kubelet) and at its network pods (kubectl -n kube-flannel get pods -o wide)"})
		}
	}
}

// runtimeVersion turns the Node's "containerd://2.1.4" into "v2.1.4", as
// containerd --version spells it ("" for another runtime or none).
func runtimeVersion(v string) string {
	ver, ok := strings.CutPrefix(v, "containerd://")
	if !ok || ver == "" {
		return ""
	}
	if !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	return ver
}

func nodeState(n nodeStatus) string {
	if n.Ready {
		return NodeReady
	}
	return NodeNotReady
}

// expectedComponents are the services the host's role needs.
func expectedComponents(role string, edge, vip bool) []string {
	out := []string{unitKubelet, unitContainerd}
	switch {
	case role == "edge" && edge:
		out = append(out, unitEdgeProxy, unitTunnelAgent)
	case role == "master":
		if edge {
			out = append(out, unitTunnelServer)
		}
		if vip {
			out = append(out, unitVIP)
		}
	}
	return out
}

// component judges one service: its unit, then its local /status.
func component(name string, p probe, addr string) (Component, []Problem) {
	u := p.Units[name]
	c := Component{Name: name, Unit: name + ".service", State: u.Active}
	switch {
	case u.Load == "not-found" || u.Load == "":
		c.State = "not installed"
		return c, []Problem{{Component: name, Message: fmt.Sprintf("%s is not installed", c.Unit),
			Fix: fmt.Sprintf("reinstall the host: `edgeops reset --host %s`, then `edgeops up` (with a package that has %s)", addr, name)}}
	case u.Active != "active":
		if u.Sub != "" && u.Sub != u.Active {
			c.State += " (" + u.Sub + ")"
		}
		return c, []Problem{{Component: name, Message: fmt.Sprintf("%s is %s", c.Unit, c.State),
			Fix: fmt.Sprintf("on %s: systemctl restart %s, then journalctl -u %s says why it stopped", addr, c.Unit, c.Unit)}}
	}
	if healthAddress(name) == "" {
		c.OK = true
		return c, nil
	}
	if p.NoBash {
		c.Health, c.OK = "not checked (no bash on the host)", true
		return c, nil
	}
	ans := p.HTTP[name]
	if ans.Code != 200 {
		c.Health = firstNonEmpty(ans.Err, "no answer")
		return c, []Problem{{Component: name, Message: fmt.Sprintf("%s is active but %s does not answer: %s", c.Unit, healthAddress(name), c.Health),
			Fix: fmt.Sprintf("on %s: journalctl -u %s; systemctl restart %s", addr, c.Unit, c.Unit)}}
	}
	detail, problem, err := judgeStatus(name, ans.Body)
	if err != nil {
		c.Health = "unreadable /status: " + err.Error()
		return c, []Problem{{Component: name, Message: c.Health, Fix: "check that the host runs the edge components of this edgeops version"}}
	}
	c.Detail = detail
	if problem != nil {
		c.Health = problem.Message
		problem.Component = name
		return c, []Problem{*problem}
	}
	c.Health, c.OK = "ok", true
	return c, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
