package bundlebuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// goBuild is one `go build` of one or more main packages of a module.
type goBuild struct {
	name    string            // cache name, e.g. "kubernetes"
	dir     string            // module directory the build runs in
	pkgs    map[string]string // output binary name -> package path
	tags    []string
	ldflags string
	cgo     bool
	pie     bool
	env     []string // extra environment (CC flags)
	extra   []string // more inputs for the cache key (library versions)
}

// build runs the go build unless a previous run with the same inputs left
// its outputs in the cache; it returns binary name -> path.
func (b *Builder) build(ctx context.Context, g goBuild) (map[string]string, error) {
	gomod, err := os.ReadFile(filepath.Join(g.dir, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g.name, err)
	}
	gosum, _ := os.ReadFile(filepath.Join(g.dir, "go.sum"))
	var names []string
	for n, p := range g.pkgs {
		names = append(names, n+"="+p)
	}
	sortStrings(names)
	key := hashKey(append([]string{b.goVersion, b.Arch, string(gomod), string(gosum), strings.Join(names, ","),
		strings.Join(g.tags, ","), g.ldflags, fmt.Sprint(g.cgo, g.pie), strings.Join(g.env, ",")}, g.extra...)...)
	outDir := filepath.Join(b.Cache, "bin", g.name+"-"+key)
	outs := make(map[string]string, len(g.pkgs))
	complete := true
	for n := range g.pkgs {
		outs[n] = filepath.Join(outDir, n)
		if _, err := os.Stat(outs[n]); err != nil {
			complete = false
		}
	}
	if complete {
		b.logf("%-12s cached (%s)", g.name, key)
		return outs, nil
	}
	tmp := outDir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	env := append([]string{"CGO_ENABLED=0"}, g.env...)
	if g.cgo {
		env[0] = "CGO_ENABLED=1"
	}
	args := []string{"build", "-mod=mod", "-trimpath", "-buildvcs=false"}
	if g.pie {
		args = append(args, "-buildmode=pie")
	}
	if len(g.tags) > 0 {
		args = append(args, "-tags", strings.Join(g.tags, " "))
	}
	// No build ID: it would carry the inputs' hashes of this machine.
	args = append(args, "-ldflags", strings.TrimSpace("-s -w -buildid= "+g.ldflags))
	b.logf("%-12s building %s", g.name, strings.Join(names, " "))
	start := now()
	if len(g.pkgs) == 1 {
		for n, p := range g.pkgs {
			if _, err := b.goCmd(ctx, g.dir, env, append(args, "-o", filepath.Join(tmp, n), p)...); err != nil {
				return nil, fmt.Errorf("%s: %w", g.name, err)
			}
		}
	} else {
		// One go command for all: the packages compile in parallel.
		var pkgs []string
		for _, p := range g.pkgs {
			pkgs = append(pkgs, p)
		}
		sortStrings(pkgs)
		if _, err := b.goCmd(ctx, g.dir, env, append(append(args, "-o", tmp+"/"), pkgs...)...); err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
		for n, p := range g.pkgs {
			if got := filepath.Join(tmp, binaryName(p)); got != filepath.Join(tmp, n) {
				if err := os.Rename(got, filepath.Join(tmp, n)); err != nil {
					return nil, fmt.Errorf("%s: %w", g.name, err)
				}
			}
		}
	}
	os.RemoveAll(outDir)
	if err := os.Rename(tmp, outDir); err != nil {
		return nil, err
	}
	b.logf("%-12s built in %s", g.name, since(start))
	return outs, nil
}

// binaryName is what `go build -o dir/` calls a package's binary.
func binaryName(pkg string) string {
	base := filepath.Base(pkg)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		base = filepath.Base(filepath.Dir(pkg))
	}
	return base
}

// goCmd runs the go tool in dir with the builder's environment plus env and
// returns its standard output; errors carry the command's standard error.
func (b *Builder) goCmd(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, b.goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOTOOLCHAIN=local", "GOOS=linux", "GOARCH="+b.Arch, "GOFLAGS=", "GOWORK=off"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 4000 {
			msg = msg[:4000] + "\n…"
		}
		return stdout.String(), fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, msg)
	}
	return stdout.String(), nil
}

// hashKey is a short stable digest of build inputs.
func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
