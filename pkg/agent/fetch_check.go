package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/edgeops/edgeops/pkg/bundle"
	"github.com/edgeops/edgeops/pkg/contract"
)

// PhaseCheckPackage runs first: everything that can refuse a package runs
// before anything on the host changes.
const PhaseCheckPackage = "check-package"

// checkedPackage is the install package once fetched and checked.
type checkedPackage struct {
	src    contract.Source
	path   string // host path of the package file; "" when none was given
	sha256 string
	m      *bundle.Manifest
	// unpacked is the host path the package was extracted to ("" when not yet).
	unpacked string
}

var sha256Hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckPackage fetches the install package (a local file, http(s) or ftp
// URL), checks its checksum, OS/arch and Kubernetes version, and unpacks
// it with every member's hash checked. A package refused here leaves the
// host as it was: what this run downloaded or unpacked is removed again.
func CheckPackage(ctx context.Context, r *Run) error {
	_, err := r.checkedPackage(ctx)
	return err
}

// checkedPackage runs the check once per run (the install phase, run alone
// or after a skipped check, runs it itself).
func (r *Run) checkedPackage(ctx context.Context) (*checkedPackage, error) {
	if r.pkg != nil {
		return r.pkg, nil
	}
	p, err := checkPackage(ctx, r)
	if err != nil {
		return nil, err
	}
	r.pkg = p
	return p, nil
}

func checkPackage(ctx context.Context, r *Run) (*checkedPackage, error) {
	if err := r.Opts.readPackagePathFile(r.Host); err != nil {
		return nil, err
	}
	if r.Opts.InstallPkgPath == "" {
		prev, err := r.Host.LoadInstalled()
		if err != nil {
			return nil, err
		}
		if prev == nil {
			return nil, fmt.Errorf("nothing installed yet: pass --%s (a local file, an http(s):// or ftp:// URL)", FlagInstallPkgPath)
		}
		return &checkedPackage{}, nil
	}
	if r.Opts.RuntimeBinary != "" {
		if st, err := os.Stat(r.Host.Path(r.Opts.RuntimeBinary)); err != nil || st.Mode()&0o111 == 0 || st.IsDir() {
			return nil, fmt.Errorf("--%s %s: not an executable file", FlagRuntimeBinary, r.Opts.RuntimeBinary)
		}
	}
	src, err := contract.ParseSource(r.Opts.InstallPkgPath)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", FlagInstallPkgPath, err)
	}
	want := strings.ToLower(strings.TrimSpace(r.Opts.InstallPkgSHA256))
	if want != "" && !sha256Hex64.MatchString(want) {
		return nil, fmt.Errorf("--%s %q: not a sha256: want the 64 hex digits sha256sum prints for the package", FlagInstallPkgSHA256, r.Opts.InstallPkgSHA256)
	}
	switch {
	case want == "" && src.NeedsChecksum():
		return nil, fmt.Errorf("--%s %s is a plain %s:// download: nothing vouches for what arrives (no TLS), and the package runs as root: "+
			"pass --%s with the package's sha256 (sha256sum FILE), or use an https:// URL or a local file", FlagInstallPkgPath, src, src.Kind, FlagInstallPkgSHA256)
	case want == "" && src.Kind == contract.SourceHTTPS:
		r.Host.Warnf("--%s %s: no --%s given, only TLS vouches for the package; pass its sha256 to pin it", FlagInstallPkgPath, src, FlagInstallPkgSHA256)
	}

	var undo cleanup
	p, err := fetchAndCheck(ctx, r, src, want, &undo)
	if err != nil {
		undo.run()
		return nil, err
	}
	return p, nil
}

// cleanup is what a refused package must not leave behind, removed in
// reverse order of creation.
type cleanup struct{ paths []string }

func (c *cleanup) add(p ...string) { c.paths = append(c.paths, p...) }

func (c *cleanup) run() {
	for i := len(c.paths) - 1; i >= 0; i-- {
		os.RemoveAll(c.paths[i])
	}
}

func fetchAndCheck(ctx context.Context, r *Run, src contract.Source, want string, undo *cleanup) (*checkedPackage, error) {
	p := &checkedPackage{src: src}
	if src.IsURL() {
		dir := r.Host.Path(PackageCacheDir)
		made, err := mkdirAll(dir, 0o700)
		if err != nil {
			return nil, fmt.Errorf("package cache %s: %w", PackageCacheDir, err)
		}
		for i := len(made) - 1; i >= 0; i-- {
			undo.add(made[i])
		}
		p.path = filepath.Join(dir, cacheName(src))
		if _, err := os.Lstat(p.path); errors.Is(err, os.ErrNotExist) {
			undo.add(p.path)
		}
		part := p.path + ".part"
		r.Host.Logf("[check-package] downloading %s", src)
		if err := download(ctx, r.Host, src, p.path, want); err != nil {
			if st, serr := os.Stat(part); serr == nil && st.Size() > 0 && !errors.Is(err, bundle.ErrCorrupt) && !isPermanent(err) {
				// A broken transfer: keep what arrived, the next run resumes it.
				return nil, fmt.Errorf("download %s: %w: %s of it is kept in %s and the next run resumes it ('edgeadm reset --force' removes it)",
					src, err, sizeMiB(st.Size()), filepath.Join(PackageCacheDir, filepath.Base(part)))
			}
			undo.add(part)
			return nil, downloadHint(src, err)
		}
	} else {
		p.path = r.Host.Path(src.Path)
		st, err := os.Stat(p.path)
		if err != nil {
			return nil, fmt.Errorf("--%s %s: %w", FlagInstallPkgPath, src, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("--%s %s: not a regular file", FlagInstallPkgPath, src)
		}
	}

	sum, _, err := bundle.FileSHA256(p.path)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", src, err)
	}
	if want != "" && sum != want {
		return nil, fmt.Errorf("package %s: sha256 is %s, but --%s says %s: the file is damaged or not the package meant; copy it again or correct the flag",
			src, sum, FlagInstallPkgSHA256, want)
	}
	p.sha256 = sum
	b, err := bundle.Open(p.path)
	if err != nil {
		return nil, fmt.Errorf("package %s is not a readable edgeops install package: %w: copy or download it again (or rebuild it with 'make bundle')", src, err)
	}
	p.m = b.Manifest()
	if p.m.OS != runtime.GOOS || p.m.Arch != runtime.GOARCH {
		return nil, fmt.Errorf("package %s is for %s/%s, this host is %s/%s: use the %s package", src, p.m.OS, p.m.Arch,
			runtime.GOOS, runtime.GOARCH, bundle.FileName(p.m.KubernetesVersion, runtime.GOARCH))
	}
	requested := ""
	if r.Workflow == "init" {
		requested = r.KubernetesVersion // a joining node takes the cluster's
	}
	if err := checkPackageVersion(p.m.KubernetesVersion, requested, kubeadmRange()); err != nil {
		return nil, fmt.Errorf("package %s: %w", src, err)
	}
	if r.Workflow == "join" {
		if err := checkJoinSkew(p.m.KubernetesVersion, r.ClusterVersion, r.ControlPlane); err != nil {
			return nil, fmt.Errorf("package %s: %w", src, err)
		}
	}
	if err := r.checkImageSource(p.m, src.String()); err != nil {
		return nil, err // an image-less package needs a registry (registry.go)
	}

	// Unpack now, every member's hash checked, so that a damaged package is
	// refused before prepare-node touches the host; unless this very
	// package is installed already (install-package then decides).
	if prev, _ := r.Host.LoadInstalled(); prev != nil && prev.PackageSHA256 == sum {
		return p, nil
	}
	dir := r.Host.Path(extractDir)
	made, err := mkdirAll(filepath.Dir(dir), 0o755)
	if err != nil {
		return nil, fmt.Errorf("unpack package: %w", err)
	}
	for i := len(made) - 1; i >= 0; i-- {
		undo.add(made[i])
	}
	undo.add(dir)
	r.Host.Logf("[check-package] verifying and extracting %s (kubernetes %s)", filepath.Base(p.path), p.m.KubernetesVersion)
	if err := bundle.Extract(ctx, p.path, dir); err != nil {
		return nil, fmt.Errorf("package %s is damaged: %w: copy or download it again (or rebuild it with 'make bundle')", src, err)
	}
	p.unpacked = dir
	return p, nil
}

// dropUnpacked removes the unpacked package when the phases are over:
// install-package removes it itself, but a check run alone ('edgeadm init
// phase check-package'), a skipped install or a failure in between must not
// leave the package's files behind.
func (r *Run) dropUnpacked() {
	if r.pkg != nil && r.pkg.unpacked != "" {
		os.RemoveAll(r.pkg.unpacked)
		r.pkg.unpacked = ""
	}
}

// isPermanent reports a download error another attempt would not fix.
func isPermanent(err error) bool {
	var perm errFTPPermanent
	return errors.As(err, &perm)
}

// downloadHint adds what to do to a failed download.
func downloadHint(src contract.Source, err error) error {
	if errors.Is(err, bundle.ErrCorrupt) {
		return fmt.Errorf("download %s: %w: the download is not the package --%s names; fetch it again or correct the flag", src, err, FlagInstallPkgSHA256)
	}
	return fmt.Errorf("download %s: %w: check the URL (host, port, path and file name) and that this host can reach it", src, err)
}

func sizeMiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
