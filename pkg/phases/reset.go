package phases

import (
	"context"
	"fmt"

	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

// resetPhase runs `edgeadm reset --force` and then removes what edgeops
// itself put on the host (edgeadm, staged packages, join information), so the
// host is back to how it was. Order is the list's: edge and worker nodes,
// then the other masters one at a time, then the leader.
type resetPhase struct {
	which string // "nodes", "masters", "leader"
}

func (p resetPhase) Title() string { return "reset " + p.which }
func (p resetPhase) Serial() bool  { return p.which != "nodes" }
func (p resetPhase) Hosts(s *State) []*Host {
	l := s.Leader()
	return filter(s.Healthy(), func(h *Host) bool {
		if !s.Targeted(h) {
			return false
		}
		switch p.which {
		case "nodes":
			return h.Role != inventory.RoleMaster
		case "masters":
			return h.Role == inventory.RoleMaster && h != l
		default:
			return h == l
		}
	})
}

// resetScript is idempotent: without edgeadm there is nothing of its to undo.
func resetScript() string {
	return fmt.Sprintf(`set -e
if [ -x %[1]s ]; then %[1]s reset --force; fi
rm -f %[1]s %[2]s %[3]s
rmdir /etc/edgeadm 2>/dev/null || true
rm -rf %[4]s %[5]s %[6]s %[7]s %[8]s
`, EdgeadmPath, joininfo.DefaultPath, DoneMarker, PackagesDir, edgeManifestsDir, cniManifestPath, patchesDir, StateDir+"/.lock-guard")
}

func (p resetPhase) Run(ctx context.Context, s *State, h *Host) error {
	if err := runLogged(ctx, s, h, p.Title(), resetScript()); err != nil {
		return err
	}
	// The cluster forgets the node, so a later join under the same name is
	// not refused as a duplicate. Kubeadm's reset already left etcd.
	if l := s.Leader(); l != nil && l != h && !l.Failed() && l.Facts.AdminConf && h.NodeName() != "" {
		if _, err := l.Remote.Run(ctx, kubectlCmd("delete", "node", h.NodeName(), "--ignore-not-found", "--wait=false"), nil); err != nil {
			s.Report.Eventf(h.Addr(), p.Title(), "warning", "could not delete node %s from the cluster: %v", h.NodeName(), err)
		}
	}
	h.SetStatus("reset", "", true)
	return nil
}

func (p resetPhase) DryRun(s *State, h *Host) string {
	return "edgeadm reset --force; remove edgeadm and staged packages"
}
