package phases

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/edgeops/edgeops/pkg/report"
)

// stagePhase pushes edgeadm and the install package (and the user's edge,
// CNI and patch files) to every host that will init or join. Uploads skip
// files whose sha256 already matches; s.Uploads bounds how many run at once.
type stagePhase struct{}

func (stagePhase) Title() string { return "stage" }
func (stagePhase) Hosts(s *State) []*Host {
	return withAction(s, func(h *Host, a action) bool { return a != actNone || needsEdgeadm(s, h) })
}

// needsEdgeadm: the leader mints join information with edgeadm, so a leader
// that lacks it (a cluster made by hand) gets it even when nothing else
// changes there; hosts that are left alone otherwise get nothing.
func needsEdgeadm(s *State, h *Host) bool {
	return h == s.Leader() && !h.Facts.Edgeadm && len(withAction(s, func(_ *Host, a action) bool { return a.joins() })) > 0
}

func (stagePhase) Run(ctx context.Context, s *State, h *Host) error {
	if _, err := h.Remote.Run(ctx, "mkdir -p "+PackagesDir+" && chmod 0700 "+StateDir+" "+PackagesDir, nil); err != nil {
		return err
	}
	type file struct {
		local, remote string
		mode          os.FileMode
	}
	files := []file{{s.EdgeadmBinary, EdgeadmPath, 0o755}}
	// Only a host that installs needs the package; a leader finishing its
	// init, or only minting join information, needs edgeadm alone.
	if !packageSource(s.Package).IsURL() && h.Action().installs() {
		files = append(files, file{s.Package, remotePackage(s.Package), 0o600})
	}
	c := s.Inventory.Cluster
	if h == s.Leader() && c.CNIManifest != "" {
		files = append(files, file{c.CNIManifest, cniManifestPath, 0o600})
	}
	if c.ContainerRuntime.RegistryCAFile != "" {
		files = append(files, file{c.ContainerRuntime.RegistryCAFile, registryCAPath, 0o600})
	}
	for _, d := range []struct{ local, remote string }{{c.EdgeManifestsDir, edgeManifestsDir}, {c.Kubeadm.PatchesDir, patchesDir}} {
		if d.local == "" || (d.remote == edgeManifestsDir && h != s.Leader()) {
			continue
		}
		entries, err := os.ReadDir(d.local)
		if err != nil {
			return fmt.Errorf("read %s: %w", d.local, err)
		}
		if _, err := h.Remote.Run(ctx, command("mkdir", "-p", d.remote), nil); err != nil {
			return err
		}
		var names []string
		for _, e := range entries {
			// Stat follows a symbolic link, as the inventory's check does.
			if fi, err := os.Stat(filepath.Join(d.local, e.Name())); err == nil && fi.Mode().IsRegular() {
				files = append(files, file{filepath.Join(d.local, e.Name()), path.Join(d.remote, e.Name()), 0o600})
				names = append(names, e.Name())
			}
		}
		if d.remote == edgeManifestsDir {
			if _, err := h.Remote.Run(ctx, pruneCommand(d.remote, names), nil); err != nil {
				return fmt.Errorf("remove edge YAML no longer in %s from %s: %w", d.local, d.remote, err)
			}
		}
	}
	if packageSource(s.Package).HasSecret() && h.Action().installs() {
		if err := h.Remote.UploadBytes(ctx, []byte(s.Package+"\n"), packageURLFile, 0o600); err != nil {
			return fmt.Errorf("write the package URL to %s: %w", packageURLFile, err)
		}
	}
	var sent, skipped int
	for _, f := range files {
		if err := s.acquireUpload(ctx); err != nil {
			return err
		}
		start := time.Now()
		skip, err := h.Remote.Upload(ctx, f.local, f.remote, f.mode, func(done, total int64) {
			s.Report.Progress(h.Addr(), "stage", done, total)
		})
		s.releaseUpload()
		if err != nil {
			return fmt.Errorf("upload %s to %s: %w", filepath.Base(f.local), f.remote, err)
		}
		if skip {
			skipped++
			continue
		}
		sent++
		h.SetStatus("staged", "", true)
		took := time.Since(start)
		s.Report.Emit(report.Event{Host: h.Addr(), Phase: "stage", Event: report.EventInfo,
			Message: fmt.Sprintf("%s -> %s%s in %s", filepath.Base(f.local), f.remote, sizeAndRate(f.local, took), took.Round(time.Millisecond))})
	}
	if sent == 0 {
		return Skip("all %d files already there (sha256 matches)", skipped)
	}
	return nil
}

func (stagePhase) DryRun(s *State, h *Host) string {
	if packageSource(s.Package).IsURL() {
		// Nothing of the package goes over SSH: the host downloads it.
		return fmt.Sprintf("stage %s; the host fetches %s itself", EdgeadmPath, s.Package)
	}
	return fmt.Sprintf("stage %s and %s", EdgeadmPath, remotePackage(s.Package))
}

// sizeAndRate describes a transfer of the local file that took d:
// " (280.9 MiB, 141.2 MiB/s)", or nothing when the file cannot be read.
func sizeAndRate(local string, d time.Duration) string {
	st, err := os.Stat(local)
	if err != nil || d <= 0 {
		return ""
	}
	const mib = 1 << 20
	return fmt.Sprintf(" (%.1f MiB, %.1f MiB/s)", float64(st.Size())/mib, float64(st.Size())/mib/d.Seconds())
}
