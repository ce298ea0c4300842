package phases

import "context"

// installPhase installs the package on the hosts about to join, with
// edgeadm's own phases (`edgeadm join phase prepare-node`, then
// `install-package`): nothing in them needs the cluster, so in up's
// pipeline they run while the leader initialises. The join then skips
// them (joinArgs), leaving it kubeadm join, the CNI and the edge setup.
type installPhase struct{}

func (installPhase) Title() string { return "install" }
func (installPhase) Hosts(s *State) []*Host {
	return withAction(s, func(_ *Host, a action) bool { return a.joins() })
}

func (p installPhase) Run(ctx context.Context, s *State, h *Host) error {
	if err := runEdgeadmPhases(ctx, s, h, p.Title(), installArgs(s, h)); err != nil {
		return err
	}
	h.setPreinstalled()
	return nil
}

func (installPhase) DryRun(s *State, h *Host) string { return describeEdgeadm(installArgs(s, h)) }

// setPreinstalled records that this run installed the package on h ahead
// of its join (so the join may skip those phases).
func (h *Host) setPreinstalled() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.preinstalled = true
}

// Preinstalled reports whether the install phase ran on h in this run.
func (h *Host) Preinstalled() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.preinstalled
}
