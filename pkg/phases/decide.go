package phases

import (
	"context"
	"fmt"

	"github.com/edgeops/edgeops/pkg/inventory"
)

// action is what up does to a host.
type action int

const (
	actNone   action = iota // healthy member: leave it alone
	actInit                 // the leader of a new cluster
	actJoin                 // a fresh host
	actRejoin               // half-joined: edgeadm reset --force, then join
	actReinit               // a half-initialised leader: reset, then init
)

func (a action) String() string {
	return [...]string{"none", "init", "join", "reset and join", "reset and init"}[a]
}

func (a action) joins() bool { return a == actJoin || a == actRejoin }
func (a action) inits() bool { return a == actInit || a == actReinit }

// clusterState is what the leader's API server says.
type clusterState struct {
	exists bool
	nodes  map[string]nodeStatus
}

// decideAction picks what up must do with h, given its facts and the
// cluster's node list. It is pure, so the rules are tested as a table.
func decideAction(h *Host, leader bool, cs clusterState) action {
	f := h.Facts
	if leader && !cs.exists {
		if f.KubeadmFiles {
			return actReinit
		}
		return actInit
	}
	if leader {
		return actNone
	}
	n, registered := cs.nodes[h.NodeName()]
	switch {
	case f.KubeletConf && registered && (f.Done || n.Ready):
		// Done: edgeops saw the join finish (a NotReady node is rebooting, not
		// broken); without the marker, a Ready node joined by hand is healthy too.
		return actNone
	case f.KubeadmFiles:
		return actRejoin
	default:
		return actJoin
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
	l := s.Leader()
	if l == nil {
		return fmt.Errorf("no master among the hosts")
	}
	if l.Failed() {
		return fmt.Errorf("the leader %s is not reachable: %v", l.Addr(), l.Err())
	}
	cs := clusterState{nodes: map[string]nodeStatus{}}
	if l.Facts.AdminConf {
		nodes, err := listNodes(ctx, l)
		switch {
		case err == nil:
			cs.exists, cs.nodes = true, nodes
		case l.Facts.Done:
			return fmt.Errorf("leader %s has a cluster, but its API server does not answer: %w", l.Addr(), err)
		default:
			// init never finished here: the leader is reset and initialised again.
			s.Report.Eventf(l.Addr(), "decide", "warning", "half-initialised control plane (API server does not answer): it will be reset")
		}
	}
	if p.requireCluster && !cs.exists {
		return fmt.Errorf("no cluster on the leader %s: run `edgeops up` first", l.Addr())
	}
	s.mu.Lock()
	s.cluster = cs
	s.mu.Unlock()
	return nil
}

func (decidePhase) Run(ctx context.Context, s *State, h *Host) error {
	s.mu.Lock()
	cs := s.cluster
	s.mu.Unlock()
	a := decideAction(h, h == s.Leader(), cs)
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
