package phases

import (
	"context"
	"fmt"
	"time"

	"github.com/edgeops/edgeops/pkg/inventory"
)

// action is what up does to a host.
type action int

const (
	actNone       action = iota // healthy member: leave it alone
	actInit                     // the leader of a new cluster
	actJoin                     // a fresh host
	actRejoin                   // half-joined to this cluster: edgeadm reset --force, then join
	actReinit                   // a leader kubeadm touched but that has no control plane: reset, then init
	actFinishInit               // a leader whose API answers but whose post-init phases may not have run
)

func (a action) String() string {
	return [...]string{"none", "init", "join", "reset and join", "reset and init", "finish init"}[a]
}

func (a action) joins() bool { return a == actJoin || a == actRejoin }
func (a action) inits() bool { return a == actInit || a == actReinit }

// installs reports whether the host installs the package in this run.
func (a action) installs() bool { return a.joins() || a.inits() }

// clusterState is what the leader's API server says.
type clusterState struct {
	exists bool
	nodes  map[string]nodeStatus
	// caHashes are the sha256 sums of the leader's CA certificate (pki and
	// kubelet.conf): a host trusting another CA belongs to another cluster.
	caHashes map[string]bool
}

// ForeignClusterError refuses a host that belongs to another cluster: up
// never touches it; `edgeops reset --host` is the explicit way to wipe it.
type ForeignClusterError struct {
	Host, CAHash, Server string
	// NoCluster: the leader has no cluster yet, so whatever the host belongs
	// to is not this inventory's cluster.
	NoCluster bool
}

func (e *ForeignClusterError) Error() string {
	what := "belongs to another cluster"
	if e.NoCluster {
		what = "belongs to a cluster, but the leader has none yet"
	}
	where := ""
	if e.CAHash != "" {
		where = " (CA sha256:" + short(e.CAHash)
		if e.Server != "" {
			where += ", API server " + e.Server
		}
		where += ")"
	}
	return fmt.Sprintf("%s%s: left untouched; if it should be wiped and joined here, run `edgeops reset --host %s` first", what, where, e.Host)
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12] + "…"
	}
	return hash
}

// decideAction picks what up must do with h, given its facts and the
// cluster's node list. It is pure, so the rules are tested as a table
// (docs/orchestration.md has them in words).
func decideAction(h *Host, leader bool, cs clusterState) (action, error) {
	f := h.Facts
	if leader {
		switch {
		case cs.exists && f.Done:
			return actNone, nil
		case cs.exists:
			// A cluster made by hand, or an init that died before its last
			// phases: CNI, edge and join information are idempotent.
			return actFinishInit, nil
		case f.ControlPlane() || f.KubeletConf:
			// decidePhase.Prepare refuses these before any host is decided.
			return actNone, fmt.Errorf("the leader has a cluster whose API server does not answer")
		case f.KubeadmFiles:
			return actReinit, nil
		default:
			return actInit, nil
		}
	}
	if ca := f.ClusterCA(); ca != "" && !cs.caHashes[ca] {
		return actNone, &ForeignClusterError{Host: h.Addr(), CAHash: ca, Server: f.KubeletServer, NoCluster: !cs.exists}
	}
	if f.KubeletConf && !cs.exists {
		return actNone, &ForeignClusterError{Host: h.Addr(), Server: f.KubeletServer, NoCluster: true}
	}
	n, registered := cs.nodes[h.NodeName()]
	switch {
	case f.KubeletConf && registered && (f.Done || (n.Ready && !f.Joining)):
		// Done: edgeops saw the join finish (a NotReady node is rebooting, not
		// broken); without the marker, a Ready node joined by hand is healthy
		// too. A join edgeops started and never saw finish is not, even when
		// the kubelet got far enough to register: edgeadm's last phases did not run.
		return actNone, nil
	case f.KubeadmFiles:
		// kubeadm files of this cluster (or of none), not a Ready member.
		return actRejoin, nil
	default:
		return actJoin, nil
	}
}

// decidePhase looks at the cluster through the leader and records each
// host's action; plan prints them, up acts on them.
type decidePhase struct {
	// requireCluster refuses to init (add-node works on an existing cluster).
	requireCluster bool
}

func (decidePhase) Title() string          { return "decide" }
func (decidePhase) Critical() bool         { return true }
func (decidePhase) Hosts(s *State) []*Host { return s.Healthy() }

func (p decidePhase) Prepare(ctx context.Context, s *State) error {
	l, replaced := s.chooseLeader()
	if l == nil {
		return fmt.Errorf("no master among the hosts")
	}
	if replaced != nil {
		s.Report.Eventf(l.Addr(), "decide", "warning", "the first master %s is not reachable (%v): %s, a master of the cluster, leads this run", replaced.Addr(), replaced.Err(), l.Addr())
	}
	if l.Failed() {
		return fmt.Errorf("the leader %s is not reachable: %v", l.Addr(), l.Err())
	}
	cs := clusterState{nodes: map[string]nodeStatus{}, caHashes: map[string]bool{}}
	for _, h := range []string{l.Facts.CAHash, l.Facts.KubeletCAHash} {
		if h != "" {
			cs.caHashes[h] = true
		}
	}
	f := l.Facts
	switch {
	case f.AdminConf:
		nodes, err := listNodesPatiently(ctx, s, l)
		if err != nil {
			return fmt.Errorf("leader %s has a control plane (/etc/kubernetes/admin.conf), but its API server did not answer for %s: %w; "+
				"nothing was changed: bring its kubelet and API server back (systemctl status kubelet; crictl ps) and run this again, "+
				"or wipe it explicitly with `edgeops reset --host %s`", l.Addr(), s.APIWait, err, l.Addr())
		}
		cs.exists, cs.nodes = true, nodes
	case f.EtcdMember || f.KubeletConf:
		what := "etcd data (/var/lib/etcd/member)"
		if !f.EtcdMember {
			what = "a kubelet.conf of a cluster"
		}
		return fmt.Errorf("leader %s has %s but no /etc/kubernetes/admin.conf: it is not a control plane edgeops can drive; "+
			"nothing was changed: restore admin.conf, put a master of that cluster first in the inventory, or wipe it with `edgeops reset --host %s`",
			l.Addr(), what, l.Addr())
	}
	if p.requireCluster && !cs.exists {
		return fmt.Errorf("no cluster on the leader %s: run `edgeops up` first", l.Addr())
	}
	s.mu.Lock()
	s.cluster = cs
	s.mu.Unlock()
	return nil
}

// listNodesPatiently asks the leader's API server for the nodes, retrying
// with backoff for s.APIWait: an API server restarting, or a master that is
// still booting, must not look like a missing cluster.
func listNodesPatiently(ctx context.Context, s *State, l *Host) (map[string]nodeStatus, error) {
	deadline := s.Now().Add(s.APIWait)
	wait := time.Second
	for attempt := 1; ; attempt++ {
		nodes, err := listNodes(ctx, l)
		if err == nil {
			return nodes, nil
		}
		if !s.Now().Add(wait).Before(deadline) {
			return nil, err
		}
		s.Report.Eventf(l.Addr(), "decide", "warning", "the API server does not answer (attempt %d, next in %s): %v", attempt, wait, err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.after(wait):
		}
		wait = min(2*wait, 15*time.Second)
	}
}

func (decidePhase) Run(ctx context.Context, s *State, h *Host) error {
	s.mu.Lock()
	cs := s.cluster
	s.mu.Unlock()
	a, err := decideAction(h, h == s.Leader(), cs)
	if err != nil {
		return err
	}
	if !s.Targeted(h) {
		// A helper of the run (add-node's leader): only read, never changed.
		a = actNone
	}
	h.mu.Lock()
	h.action = a
	h.mu.Unlock()
	if a == actNone {
		h.SetStatus("unchanged", "", false)
		return Skip("already a healthy member of the cluster")
	}
	s.Report.Eventf(h.Addr(), "decide", "info", "will %s as %s", a, h.Role)
	return nil
}

// Action is the host's planned action.
func (h *Host) Action() action {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.action
}

// withAction picks the healthy hosts whose action satisfies keep.
func withAction(s *State, keep func(*Host, action) bool) []*Host {
	return filter(s.Healthy(), func(h *Host) bool { return keep(h, h.Action()) })
}

func isMaster(h *Host) bool { return h.Role == inventory.RoleMaster }
