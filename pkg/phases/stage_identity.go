package phases

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// Prepare says which edgeadm the run is about to push, as root, to the
// hosts: its path, the kubeadm it embeds and its sha256, so an operator can
// tell a stray build from the release.
func (p stagePhase) Prepare(ctx context.Context, s *State) error {
	if len(p.Hosts(s)) == 0 || s.EdgeadmBinary == "" {
		return nil
	}
	sum, _, err := bundle.FileSHA256(s.EdgeadmBinary)
	if err != nil {
		return fmt.Errorf("edgeadm %s: %w", s.EdgeadmBinary, err)
	}
	s.Report.Eventf("", "stage", "info", "edgeadm %s: %s, sha256 %s", s.EdgeadmBinary, edgeadmVersion(ctx, s.EdgeadmBinary), sum)
	return nil
}

// edgeadmVersion asks the binary for the kubeadm version it embeds; a binary
// of another architecture cannot say ("version unknown").
func edgeadmVersion(ctx context.Context, bin string) string {
	vctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(vctx, bin, "version", "-o", "short").Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" && !strings.ContainsAny(v, " \n") {
		return "kubeadm " + v
	}
	return "version unknown"
}
