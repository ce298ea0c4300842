package agent

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/edgeops/edgeops/pkg/edgemanifests"
)

// edgeDefaultsDir is where the install keeps the package's edge YAML.
const edgeDefaultsDir = ManifestsDir + "/edge"

// userPath maps a path a user gave on the command line: an absolute one
// lies under the host's root, a relative one starts at the working folder.
func userPath(h *Host, p string) string {
	if filepath.IsAbs(p) {
		return h.Path(p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// CheckEdgeManifestsDir checks --edge-manifests-dir (every file, every
// problem) so that init and join can refuse it before changing the host.
func CheckEdgeManifestsDir(h *Host, dir string) error {
	if dir == "" {
		return nil
	}
	_, err := readEdgeOverrides(h, dir)
	return err
}

func readEdgeOverrides(h *Host, dir string) ([]edgemanifests.File, error) {
	files, err := edgemanifests.ReadOverrides(userPath(h, dir))
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", FlagEdgeManifestsDir, dir, err)
	}
	return files, nil
}

// EdgeFiles is the edge YAML to use: the installed package's, overridden
// file by file by --edge-manifests-dir. log says what the user's folder changed.
func EdgeFiles(h *Host, overrideDir string, log bool) (edgemanifests.Merged, error) {
	defaults, err := edgemanifests.ReadDefaults(h.Path(edgeDefaultsDir))
	if err != nil {
		return edgemanifests.Merged{}, fmt.Errorf("%w (the %s phase puts it there)", err, PhaseInstallPackage)
	}
	var overrides []edgemanifests.File
	if overrideDir != "" {
		if overrides, err = readEdgeOverrides(h, overrideDir); err != nil {
			return edgemanifests.Merged{}, err
		}
	}
	m := edgemanifests.Merge(defaults, overrides)
	if log && overrideDir != "" {
		h.Logf("[edge] --%s %s: replaced %s; added %s; removed %s", FlagEdgeManifestsDir, overrideDir,
			listOrNone(m.Replaced), listOrNone(m.Added), listOrNone(m.Removed))
		if len(m.Unmatched) > 0 {
			h.Warnf("--%s %s: empty file(s) %s match no file of the package (%s): nothing removed for them",
				FlagEdgeManifestsDir, overrideDir, strings.Join(m.Unmatched, ", "), fileNames(defaults))
		}
	}
	return m, nil
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func fileNames(fs []edgemanifests.File) string {
	n := make([]string, len(fs))
	for i, f := range fs {
		n[i] = f.Name
	}
	return strings.Join(n, ", ")
}
