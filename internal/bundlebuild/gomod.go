package bundlebuild

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// relativeReplace matches a replace directive pointing into the module's own
// repository (k8s.io/api => ./staging/src/k8s.io/api, go.etcd.io/etcd/api/v3 => ../api).
var relativeReplace = regexp.MustCompile(`^(\s*(?:replace\s+)?)(\S+)(\s+\S+)?\s+=>\s+(\.\.?/\S*)\s*$`)

// prepareModule writes a build module under cache/mod whose go.mod is the
// upstream module's own go.mod (so dependency versions are upstream's),
// renamed, requiring the upstream module itself, with every replace that
// points into the upstream repository turned into a versioned replace at
// siblingVersion (v0.34.4 for Kubernetes staging modules) or dropped when the
// module is not required. It returns the module directory.
func (b *Builder) prepareModule(ctx context.Context, name string, m GoModule, siblingVersion string, pkgs []string) (string, error) {
	info, err := b.download(ctx, m)
	if err != nil {
		return "", err
	}
	gomod, err := os.ReadFile(info.GoMod)
	if err != nil {
		return "", fmt.Errorf("%s: read go.mod: %w", name, err)
	}
	rewritten, err := rewriteGoMod(string(gomod), "edgeops.build/"+name, m, siblingVersion)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	sum, _ := os.ReadFile(filepath.Join(info.Dir, "go.sum"))
	key := hashKey(b.goVersion, rewritten, string(sum), strings.Join(pkgs, " "))
	dir := filepath.Join(b.Cache, "mod", name+"-"+m.Version)
	ready := filepath.Join(dir, ".ready")
	if got, err := os.ReadFile(ready); err == nil && string(got) == key {
		return dir, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(rewritten), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		return "", err
	}
	// Resolve the packages once with -mod=mod so go.sum gains every hash the
	// build needs (upstream's go.sum covers its own main module only).
	args := append([]string{"list", "-mod=mod", "-deps", "-e", "-f", "{{if .Error}}{{.ImportPath}}: {{.Error}}{{end}}"}, pkgs...)
	out, err := b.goCmd(ctx, dir, nil, args...)
	if err != nil {
		return "", fmt.Errorf("%s: resolve packages: %w", name, err)
	}
	if s := strings.TrimSpace(out); s != "" {
		return "", fmt.Errorf("%s: resolve packages:\n%s", name, s)
	}
	if err := os.WriteFile(ready, []byte(key), 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

type modInfo struct {
	Dir, GoMod, Error string
}

func (b *Builder) download(ctx context.Context, m GoModule) (*modInfo, error) {
	out, err := b.goCmd(ctx, b.Cache, nil, "mod", "download", "-json", m.Module+"@"+m.Version)
	var info modInfo
	if jerr := json.Unmarshal([]byte(out), &info); jerr != nil && err == nil {
		err = jerr
	}
	if info.Error != "" {
		return nil, fmt.Errorf("download %s@%s: %s", m.Module, m.Version, info.Error)
	}
	if err != nil {
		return nil, fmt.Errorf("download %s@%s: %w", m.Module, m.Version, err)
	}
	return &info, nil
}

// rewriteGoMod applies prepareModule's rewrite to go.mod text.
func rewriteGoMod(gomod, newPath string, m GoModule, siblingVersion string) (string, error) {
	required := map[string]bool{}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(gomod))
	inRequire := false
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "require ("):
			inRequire = true
		case inRequire && t == ")":
			inRequire = false
		case inRequire || strings.HasPrefix(t, "require "):
			f := strings.Fields(strings.TrimPrefix(t, "require "))
			if len(f) >= 2 {
				required[f[0]] = true
			}
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	var out []string
	sawModule := false
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "module ") {
			out = append(out, "module "+newPath)
			sawModule = true
			continue
		}
		if strings.HasPrefix(t, "toolchain ") {
			continue // build with the local Go
		}
		if mm := relativeReplace.FindStringSubmatch(line); mm != nil {
			mod := mm[2]
			if !required[mod] || siblingVersion == "" {
				continue
			}
			out = append(out, fmt.Sprintf("%s%s => %s %s", mm[1], mod, mod, siblingVersion))
			continue
		}
		out = append(out, line)
	}
	if !sawModule {
		return "", fmt.Errorf("go.mod of %s has no module line", m.Module)
	}
	out = append(out, "", "require "+m.Module+" "+m.Version)
	var pins []string
	for mod, v := range m.Replace {
		pins = append(pins, "replace "+mod+" => "+mod+" "+v)
	}
	sortStrings(pins)
	out = append(append(out, pins...), "")
	return strings.Join(out, "\n"), nil
}
