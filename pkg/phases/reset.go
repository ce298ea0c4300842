package phases

import (
	"context"
	"fmt"
	"io"
	"strings"

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

// Prepare fixes the leader before the first reset phase: with the first
// master down, another master of the cluster deletes the reset nodes'
// objects and is reset last.
func (p resetPhase) Prepare(_ context.Context, s *State) error {
	if p.which == "nodes" {
		if l, replaced := s.chooseLeader(); replaced != nil {
			s.Report.Eventf(l.Addr(), p.Title(), "warning", "the first master %s is not reachable: %s, a master of the cluster, leads this run", replaced.Addr(), l.Addr())
		}
	}
	return nil
}
func (p resetPhase) Serial() bool { return p.which != "nodes" }
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

// resetScript is idempotent. edgeadm undoes whatever cluster the host has
// (one made by hand too: the reset phase staged edgeadm first); the script
// then checks that nothing of a cluster is left and says whether there was
// anything to undo: "result reset" or "result clean".
func resetScript() string {
	return fmt.Sprintf(`set -e
had=0
for f in /etc/kubernetes/kubelet.conf /etc/kubernetes/admin.conf /etc/kubernetes/manifests /etc/kubernetes/pki /var/lib/etcd/member /var/lib/kubelet/config.yaml %[1]s %[3]s; do
  [ -e "$f" ] && had=1
done
if [ -x %[1]s ]; then %[1]s reset --force; fi
rm -f %[1]s %[2]s %[3]s %[8]s
rmdir /etc/edgeadm 2>/dev/null || true
rm -rf %[4]s %[5]s %[6]s %[7]s %[9]s
# A non-root SSH user's uploads went through its private staging folder.
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
  [ -n "$home" ] && rm -rf "$home/.edgeops/staging" && rmdir "$home/.edgeops" 2>/dev/null || true
fi
left=""
for f in /etc/kubernetes/kubelet.conf /etc/kubernetes/admin.conf /etc/kubernetes/manifests/kube-apiserver.yaml /var/lib/etcd/member; do
  [ -e "$f" ] && left="$left $f"
done
if command -v pgrep >/dev/null 2>&1 && pgrep -x kubelet >/dev/null 2>&1; then left="$left kubelet-running"; fi
if [ -n "$left" ]; then echo "result left$left"; exit 0; fi
if [ "$had" = 1 ]; then echo "result reset"; else echo "result clean"; fi
`, EdgeadmPath, joininfo.DefaultPath, DoneMarker, PackagesDir, edgeManifestsDir, cniManifestPath, patchesDir, JoiningMarker, registryCAPath)
}

// resetOutcome reads resetScript's last line: what was left (nil when
// nothing), and whether there had been anything to undo.
func resetOutcome(out string) (left []string, had bool, err error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.Fields(lines[len(lines)-1])
	if len(last) < 2 || last[0] != "result" {
		return nil, false, fmt.Errorf("reset: the host did not report the result (last line %q)", lines[len(lines)-1])
	}
	switch last[1] {
	case "reset":
		return nil, true, nil
	case "clean":
		return nil, false, nil
	case "left":
		return last[2:], true, nil
	}
	return nil, false, fmt.Errorf("reset: unexpected result %q", lines[len(lines)-1])
}

// needsEdgeadmForReset: a host with kubeadm's traces but no edgeadm (a
// cluster made by hand with an edgeadm run from elsewhere) gets one staged,
// so reset can undo it.
func needsEdgeadmForReset(h *Host) bool {
	f := h.Facts
	return !f.Edgeadm && (f.KubeadmFiles || f.KubeletConf || f.ControlPlane())
}

func (p resetPhase) Run(ctx context.Context, s *State, h *Host) error {
	if needsEdgeadmForReset(h) {
		if s.EdgeadmBinary == "" {
			return fmt.Errorf("the host has a cluster but no %s, and there is no edgeadm to stage: pass --edgeadm-binary", EdgeadmPath)
		}
		if _, err := h.Remote.Upload(ctx, s.EdgeadmBinary, EdgeadmPath, 0o755, nil); err != nil {
			return fmt.Errorf("stage edgeadm to reset: %w", err)
		}
		s.Report.Eventf(h.Addr(), p.Title(), "info", "staged %s to undo the cluster found here", EdgeadmPath)
	}
	var out strings.Builder
	w := s.Report.Lines(h.Addr(), p.Title())
	_, err := h.Remote.Run(ctx, resetScript(), io.MultiWriter(w, &out))
	w.Close()
	if err != nil {
		return err
	}
	left, had, err := resetOutcome(out.String())
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("reset did not finish: still there: %s (run `edgeops reset` again; see the run log)", strings.Join(left, ", "))
	}
	// The cluster forgets the node, so a later join under the same name is
	// not refused as a duplicate. Kubeadm's reset already left etcd.
	if l := s.Leader(); l != nil && l != h && !l.Failed() && l.Facts.AdminConf && h.NodeName() != "" {
		if _, err := l.Remote.Run(ctx, kubectlCmd("delete", "node", h.NodeName(), "--ignore-not-found", "--wait=false"), nil); err != nil {
			s.Report.Eventf(h.Addr(), p.Title(), "warning", "could not delete node %s from the cluster: %v", h.NodeName(), err)
		}
	}
	if !had {
		h.SetStatus("clean", "nothing to undo", false)
		return nil
	}
	h.SetStatus("reset", "", true)
	return nil
}

func (p resetPhase) DryRun(s *State, h *Host) string {
	return "edgeadm reset --force; remove edgeadm and staged packages"
}
