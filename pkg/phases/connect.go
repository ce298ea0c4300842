package phases

import (
	"context"
	"fmt"
)

// connectPhase dials every host in parallel.
type connectPhase struct{}

func (connectPhase) Title() string          { return "connect" }
func (connectPhase) Hosts(s *State) []*Host { return s.Healthy() }
func (connectPhase) Run(ctx context.Context, s *State, h *Host) error {
	r, err := s.Dial(ctx, h.Host)
	if err != nil {
		return err
	}
	h.Remote = r
	return nil
}

// CleanUp closes every connection (after the locks are released: CleanUp
// runs last phase first).
func (connectPhase) CleanUp(ctx context.Context, s *State) {
	for _, h := range s.Hosts {
		if h.Remote != nil {
			h.Remote.Close()
		}
	}
}

// factsPhase reads each host's facts.
type factsPhase struct{}

func (factsPhase) Title() string          { return "facts" }
func (factsPhase) Hosts(s *State) []*Host { return s.Healthy() }
func (factsPhase) Run(ctx context.Context, s *State, h *Host) error {
	f, err := gatherFacts(ctx, h)
	if err != nil {
		return err
	}
	h.Facts = f
	state := "not in a cluster"
	switch {
	case f.InCluster():
		state = "in a cluster"
	case f.HalfJoined():
		state = "half-joined (kubeadm files, no kubelet.conf)"
	}
	s.Report.Eventf(h.Addr(), "facts", "info", "%s %s/%s, hostname %s, %s", f.OS, f.OSVersion, f.Arch, f.Hostname, state)
	return nil
}

// DryRun for plan: the facts are all plan reads.
func (factsPhase) DryRun(s *State, h *Host) string {
	return fmt.Sprintf("%s %s/%s hostname=%s", h.Facts.OS, h.Facts.OSVersion, h.Facts.Arch, h.Facts.Hostname)
}
