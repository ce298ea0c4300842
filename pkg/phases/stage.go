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

// stagedFile is one file stage puts on a host: a local file, or data
// written from memory (the package URL when it holds a secret).
type stagedFile struct {
	local, remote string
	data          []byte
	fromMemory    bool
	mode          os.FileMode
}

// stagedDir is a folder stage fills; prune removes what is no longer listed.
type stagedDir struct {
	local, remote string
	names         []string
	prune         bool
}

// stagePlan is what stage puts on h. The staged check compares the same
// list when stage is skipped, so the two cannot drift apart.
func stagePlan(s *State, h *Host) ([]stagedFile, []stagedDir, error) {
	files := []stagedFile{{local: s.EdgeadmBinary, remote: EdgeadmPath, mode: 0o755}}
	// Only a host that installs needs the package; a leader finishing its
	// init, or only minting join information, needs edgeadm alone.
	if !packageSource(s.Package).IsURL() && h.Action().installs() {
		files = append(files, stagedFile{local: s.Package, remote: remotePackage(s.Package), mode: 0o600})
	}
	c := s.Inventory.Cluster
	if h == s.Leader() && c.CNIManifest != "" {
		files = append(files, stagedFile{local: c.CNIManifest, remote: cniManifestPath, mode: 0o600})
	}
	if c.ContainerRuntime.RegistryCAFile != "" {
		files = append(files, stagedFile{local: c.ContainerRuntime.RegistryCAFile, remote: registryCAPath, mode: 0o600})
	}
	var dirs []stagedDir
	for _, d := range []struct{ local, remote string }{{c.EdgeManifestsDir, edgeManifestsDir}, {c.Kubeadm.PatchesDir, patchesDir}} {
		if d.local == "" || (d.remote == edgeManifestsDir && h != s.Leader()) {
			continue
		}
		entries, err := os.ReadDir(d.local)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", d.local, err)
		}
		dir := stagedDir{local: d.local, remote: d.remote, prune: d.remote == edgeManifestsDir}
		for _, e := range entries {
			// Stat follows a symbolic link, as the inventory's check does.
			if fi, err := os.Stat(filepath.Join(d.local, e.Name())); err == nil && fi.Mode().IsRegular() {
				files = append(files, stagedFile{local: filepath.Join(d.local, e.Name()), remote: path.Join(d.remote, e.Name()), mode: 0o600})
				dir.names = append(dir.names, e.Name())
			}
		}
		dirs = append(dirs, dir)
	}
	if packageSource(s.Package).HasSecret() && h.Action().installs() {
		files = append(files, stagedFile{data: []byte(s.Package + "\n"), fromMemory: true, remote: packageURLFile, mode: 0o600})
	}
	return files, dirs, nil
}

func (stagePhase) Run(ctx context.Context, s *State, h *Host) error {
	if _, err := h.Remote.Run(ctx, "mkdir -p "+PackagesDir+" && chmod 0700 "+StateDir+" "+PackagesDir, nil); err != nil {
		return err
	}
	files, dirs, err := stagePlan(s, h)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if _, err := h.Remote.Run(ctx, command("mkdir", "-p", d.remote), nil); err != nil {
			return err
		}
		if d.prune {
			if _, err := h.Remote.Run(ctx, pruneCommand(d.remote, d.names), nil); err != nil {
				return fmt.Errorf("remove edge YAML no longer in %s from %s: %w", d.local, d.remote, err)
			}
		}
	}
	var sent, skipped int
	for _, f := range files {
		if f.fromMemory {
			if err := h.Remote.UploadBytes(ctx, f.data, f.remote, f.mode); err != nil {
				return fmt.Errorf("write the package URL to %s: %w", f.remote, err)
			}
			continue
		}
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
