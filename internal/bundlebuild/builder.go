package bundlebuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// Options are the build's parameters.
type Options struct {
	Root              string // repository root (holds bundles/ and go.mod)
	Output            string // _output
	KubernetesVersion string // empty: versions.yaml's
	Arch              string // amd64 (default) or arm64
	// NoImages builds the package for an online install: the same binaries
	// and configs, no images/ (the nodes pull them from a registry).
	NoImages bool
	Log      io.Writer
}

// Builder holds one build's state.
type Builder struct {
	Options
	Cache     string
	Versions  *Versions
	goBin     string
	goVersion string

	mu     sync.Mutex
	hashes map[string]string // host file -> sha256, for cache keys
}

// Result is what a build produced.
type Result struct {
	Path     string
	Manifest *bundle.Manifest
	Cached   bool
	Took     time.Duration
}

func now() time.Time                       { return time.Now() }
func since(t time.Time) time.Duration      { return time.Since(t).Round(100 * time.Millisecond) }
func sortStrings(s []string)               { sort.Strings(s) }
func (b *Builder) logf(f string, a ...any) { fmt.Fprintf(b.Log, "[bundle] "+f+"\n", a...) }

// New checks the toolchain and reads bundles/versions.yaml.
func New(ctx context.Context, o Options) (*Builder, error) {
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Output == "" {
		o.Output = filepath.Join(o.Root, "_output")
	}
	v, err := LoadVersions(filepath.Join(o.Root, "bundles", "versions.yaml"))
	if err != nil {
		return nil, err
	}
	if o.KubernetesVersion == "" {
		o.KubernetesVersion = v.Kubernetes.Version
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("go toolchain not found: %w", err)
	}
	out, err := exec.CommandContext(ctx, goBin, "env", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOVERSION: %w", err)
	}
	b := &Builder{Options: o, Cache: filepath.Join(o.Output, "cache"), Versions: v, goBin: goBin,
		goVersion: strings.TrimSpace(string(out)), hashes: map[string]string{}}
	if err := os.MkdirAll(b.Cache, 0o755); err != nil {
		return nil, err
	}
	// Outputs of interrupted builds are never reused; drop them.
	stale, _ := filepath.Glob(filepath.Join(b.Cache, "bin", "*.tmp"))
	for _, s := range stale {
		os.RemoveAll(s)
	}
	return b, nil
}

// fileHash is a memoized sha256 of a host file.
func (b *Builder) fileHash(p string) (string, error) {
	b.mu.Lock()
	h, ok := b.hashes[p]
	b.mu.Unlock()
	if ok {
		return h, nil
	}
	h, _, err := bundle.FileSHA256(p)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	b.hashes[p] = h
	b.mu.Unlock()
	return h, nil
}
