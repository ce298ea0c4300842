package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/edgeops/edgeops/pkg/bundle"
	"github.com/edgeops/edgeops/pkg/edgemanifests"
)

// packageEdgePrefix is where a package holds the edge YAML.
const packageEdgePrefix = "manifests/edge/"

// DefaultEdgeManifests reads the edge YAML as a package ships it,
// placeholders untouched: from the package file pkg, or, when pkg is
// empty, from the package installed on this host.
func DefaultEdgeManifests(ctx context.Context, h *Host, pkg string) ([]edgemanifests.File, error) {
	if pkg == "" {
		files, err := edgemanifests.ReadDefaults(h.Path(edgeDefaultsDir))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no package is installed on this host (%s is missing): pass --%s PACKAGE", edgeDefaultsDir, FlagInstallPkgPath)
		}
		return files, err
	}
	if strings.Contains(pkg, "://") {
		return nil, fmt.Errorf("--%s %s: a URL; download the package and pass the local file", FlagInstallPkgPath, pkg)
	}
	members, err := bundle.ReadFiles(ctx, pkg, packageEdgePrefix)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", FlagInstallPkgPath, pkg, err)
	}
	var files []edgemanifests.File
	for name, data := range members {
		base := strings.TrimPrefix(name, packageEdgePrefix)
		if strings.Contains(base, "/") || !edgemanifests.IsYAMLName(base) {
			continue
		}
		files = append(files, edgemanifests.File{Name: path.Base(base), Data: data})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("--%s %s: the package has no edge YAML (%s*.yaml)", FlagInstallPkgPath, pkg, packageEdgePrefix)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// WriteEdgeManifests writes files into dir (created when missing). It
// never overwrites: when any of them is already there, it writes nothing.
func WriteEdgeManifests(dir string, files []edgemanifests.File) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("--output-dir %s: not a folder", dir)
	}
	var there []string
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dir, f.Name)); err == nil {
			there = append(there, f.Name)
		}
	}
	if len(there) > 0 {
		return fmt.Errorf("--output-dir %s already holds %s: nothing was written; choose a new or empty folder (edits there would be lost otherwise)", dir, strings.Join(there, ", "))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--output-dir %s: %w", dir, err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return fmt.Errorf("--output-dir %s: %w", dir, err)
		}
	}
	return nil
}
