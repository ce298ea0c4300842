package phases

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Clock skew limits: beyond maxSkew certificates and tokens misbehave.
const (
	warnSkew = 5 * time.Second
	maxSkew  = 60 * time.Second
)

// preflightPhase checks, before anything changes, what would make a later
// phase fail: duplicate node names, busy ports, a foreign architecture,
// clock skew, and (on an existing cluster) the API endpoint's reachability.
type preflightPhase struct{}

func (preflightPhase) Title() string          { return "preflight" }
func (preflightPhase) Critical() bool         { return true }
func (preflightPhase) Hosts(s *State) []*Host { return s.Healthy() }

func (preflightPhase) Prepare(ctx context.Context, s *State) error {
	return uniqueNodeNames(s.Healthy())
}

// uniqueNodeNames fails when two hosts would register the same node.
func uniqueNodeNames(hosts []*Host) error {
	seen := map[string]string{}
	var errs []error
	for _, h := range hosts {
		n := h.NodeName()
		if other, ok := seen[n]; ok {
			errs = append(errs, fmt.Errorf("hosts %s and %s have the same node name %q; set hosts[].hostname", other, h.Addr(), n))
			continue
		}
		seen[n] = h.Addr()
	}
	return errors.Join(errs...)
}

// portsFor lists the ports a host's role needs free before kubeadm runs.
func portsFor(master bool) []int {
	if master {
		return []int{6443, 2379, 2380, 10250, 10257, 10259}
	}
	return []int{10250}
}

// checkHost is the host's own part of preflight; pure, given the facts.
func checkHost(h *Host, a action, wantArch string) (warnings []string, err error) {
	f := h.Facts
	var errs []error
	if wantArch != "" && f.Arch != wantArch {
		errs = append(errs, fmt.Errorf("architecture %s, the package is for %s", f.Arch, wantArch))
	}
	if a == actInit || a == actJoin {
		for _, p := range portsFor(isMaster(h)) {
			if f.ListeningPorts[p] {
				errs = append(errs, fmt.Errorf("port %d is in use", p))
			}
		}
	}
	skew := f.ClockSkew
	if skew < 0 {
		skew = -skew
	}
	switch {
	case skew > maxSkew:
		errs = append(errs, fmt.Errorf("clock is %s off this machine's (limit %s); sync it (NTP)", f.ClockSkew.Round(time.Second), maxSkew))
	case skew > warnSkew:
		warnings = append(warnings, fmt.Sprintf("clock is %s off this machine's", f.ClockSkew.Round(time.Second)))
	}
	if f.SwapOn && a != actNone {
		warnings = append(warnings, "swap is on; edgeadm turns it off")
	}
	return warnings, errors.Join(errs...)
}

func (preflightPhase) Run(ctx context.Context, s *State, h *Host) error {
	a := h.Action()
	warnings, err := checkHost(h, a, packageArch(s.Package))
	for _, w := range warnings {
		s.Report.Eventf(h.Addr(), "preflight", "warning", "%s", w)
	}
	if err != nil {
		return err
	}
	if vip := s.Inventory.Cluster.VIP; vip != nil && isMaster(h) && (a == actInit || a == actJoin) {
		if err := vipOnMaster(ctx, h, vip); err != nil {
			return err
		}
	}
	s.mu.Lock()
	exists := s.cluster.exists
	s.mu.Unlock()
	if exists && a != actNone {
		ep := apiEndpoint(s)
		if err := reachable(ctx, h, ep); err != nil {
			return fmt.Errorf("API endpoint %s not reachable from the host: %w", ep, err)
		}
	}
	return nil
}

// apiEndpoint is where nodes reach the API server: the control-plane
// endpoint, else the leader's advertise address.
func apiEndpoint(s *State) string { return s.Inventory.ControlPlaneEndpoint() }

// reachable opens a TCP connection from the host to ep (bash's /dev/tcp,
// present on every distribution edgeadm supports).
func reachable(ctx context.Context, h *Host, ep string) error {
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return err
	}
	if _, err := strconv.Atoi(port); err != nil {
		return fmt.Errorf("bad port in %s", ep)
	}
	cmd := fmt.Sprintf(`command -v bash >/dev/null || exit 0; timeout 5 bash -c %s`, quote("exec 3<>/dev/tcp/"+host+"/"+port))
	_, err = h.Remote.Run(ctx, cmd, nil)
	return err
}
