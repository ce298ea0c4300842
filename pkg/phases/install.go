package phases

import (
	"context"
	"fmt"
	"strings"
)

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
	for _, argv := range installArgs(s, h) {
		w := s.Report.Lines(h.Addr(), p.Title())
		err := runEdgeadm(ctx, s, h, p.Title(), argv, w)
		w.Close()
		if err != nil {
			return fmt.Errorf("edgeadm join phase %s: %w", argv[3], err)
		}
	}
	h.setPreinstalled()
	return nil
}

func (installPhase) DryRun(s *State, h *Host) string {
	var parts []string
	for _, argv := range installArgs(s, h) {
		parts = append(parts, "edgeadm "+command(argv[1:]...))
	}
	return strings.Join(parts, "; ")
}

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
