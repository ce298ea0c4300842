package phases

import (
	"context"
	"sync"
)

// statusView is what the status phase found: the cluster as the run's
// leader sees it, and each reached host's probe. The phase value carries
// it, so status needs nothing in State.
type statusView struct {
	mu      sync.Mutex
	cluster clusterView
	probes  map[*Host]probe
}

// clusterView is the cluster as status sees it through the leader.
type clusterView struct {
	leader *Host
	// reached: the leader's facts were read.
	reached bool
	// installed: the leader has a control plane (admin.conf).
	installed bool
	// caHashes: the leader's CA (pki and kubelet.conf); empty when the
	// leader was not reached, so membership cannot be told.
	caHashes map[string]bool
	// nodes answered by the API server; nil with apiErr when it did not.
	nodes  map[string]nodeStatus
	apiErr error
}

// statusPhase reads, per host, what `edgeops status` reports; it changes
// nothing and takes no lock.
type statusPhase struct{ view *statusView }

func (statusPhase) Title() string          { return "status" }
func (statusPhase) Hosts(s *State) []*Host { return s.Healthy() }

// Prepare picks the leader: another master of the cluster when the first
// one is down.
func (p statusPhase) Prepare(ctx context.Context, s *State) error {
	l, _ := s.chooseLeader()
	cv := clusterView{leader: l, caHashes: map[string]bool{}}
	if l != nil && !l.Failed() {
		cv.reached = true
		for _, h := range []string{l.Facts.CAHash, l.Facts.KubeletCAHash} {
			if h != "" {
				cv.caHashes[h] = true
			}
		}
		cv.installed = l.Facts.AdminConf
	}
	p.view.mu.Lock()
	p.view.cluster = cv
	p.view.mu.Unlock()
	return nil
}

// Run probes h; on the leader it also asks the API server for the nodes,
// once (while the other hosts are probed): status reports an API server
// that does not answer rather than waiting for it.
func (p statusPhase) Run(ctx context.Context, s *State, h *Host) error {
	p.view.mu.Lock()
	askAPI := h == p.view.cluster.leader && p.view.cluster.installed
	p.view.mu.Unlock()
	if askAPI {
		nodes, err := listNodes(ctx, h)
		p.view.mu.Lock()
		p.view.cluster.nodes, p.view.cluster.apiErr = nodes, err
		p.view.mu.Unlock()
	}
	pr, err := probeHost(ctx, h)
	if err != nil {
		return err
	}
	p.view.mu.Lock()
	p.view.probes[h] = pr
	p.view.mu.Unlock()
	return nil
}

// StatusPhases only reads: connect, facts, then the status probe; Status
// turns what they found into one Health per host.
func StatusPhases() []Phase {
	return []Phase{connectPhase{}, factsPhase{}, statusPhase{view: &statusView{probes: map[*Host]probe{}}}}
}

// Status is each host's health after StatusPhases ran (list is the list
// that ran), in inventory order. Without a status phase in list, no host
// was probed and every host says so.
func Status(s *State, list []Phase) []Health {
	view := &statusView{probes: map[*Host]probe{}}
	for _, p := range list {
		if sp, ok := p.(statusPhase); ok {
			view = sp.view
		}
	}
	view.mu.Lock()
	defer view.mu.Unlock()
	inv := s.Inventory
	edge, vip := true, false
	if inv != nil {
		edge, vip = inv.Cluster.EdgeEnabled(), inv.Cluster.VIP != nil && inv.Cluster.VIP.Address != ""
	}
	out := make([]Health, 0, len(s.Hosts))
	for _, h := range s.Hosts {
		pr, probed := view.probes[h]
		in := assessInput{
			host: h, err: h.Err(), facts: h.Facts, probe: pr, probed: probed,
			leader: h == view.cluster.leader, cluster: view.cluster, edge: edge, vip: vip,
		}
		out = append(out, assess(in))
	}
	return out
}

// node finds h's Node: by name, else (a host whose hostname was not read)
// by its address.
func (cv clusterView) node(h *Host) (nodeStatus, bool) {
	if name := h.NodeName(); name != "" {
		if n, ok := cv.nodes[name]; ok {
			return n, true
		}
	}
	for _, n := range cv.nodes {
		if n.IP == h.Addr() {
			return n, true
		}
	}
	return nodeStatus{}, false
}
