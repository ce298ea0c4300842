package agent

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// ManifestsDir is where the package's YAML (CNI, edge) is kept for the
// phases after kubeadm.
const ManifestsDir = "/var/lib/edgeadm/manifests"

// extractDir is where the package is unpacked during install; removed after.
const extractDir = "/var/lib/edgeadm/extract"

// destination maps a package member to its place on the host. bin/edgeadm is
// not installed: edgeops stages the agent itself, and a running binary must
// not be replaced under it.
func destination(member string) (string, os.FileMode, bool) {
	dir, name := path.Split(member)
	switch {
	case member == "bin/edgeadm":
		return "", 0, false
	case dir == "bin/":
		return "/usr/local/bin/" + name, 0o755, true
	case dir == "cni/bin/":
		return "/opt/cni/bin/" + name, 0o755, true
	case member == "systemd/10-kubeadm.conf":
		return "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", 0o644, true
	case dir == "systemd/":
		return "/etc/systemd/system/" + name, 0o644, true
	case member == "config/containerd-config.toml":
		return "/etc/containerd/config.toml", 0o644, true
	case member == "config/crictl.yaml":
		return "/etc/crictl.yaml", 0o644, true
	case member == "config/sysctl-k8s.conf":
		return SysctlFile, 0o644, true
	case member == "config/modules-k8s.conf":
		return ModulesFile, 0o644, true
	case strings.HasPrefix(member, "manifests/"):
		return ManifestsDir + "/" + strings.TrimPrefix(member, "manifests/"), 0o644, true
	}
	return "", 0, false
}

// InstallPackage verifies the package, installs its files, starts containerd
// and imports its images, skipping what is already installed with the same hash.
func InstallPackage(ctx context.Context, r *Run) error {
	prev, err := r.Host.LoadInstalled()
	if err != nil {
		return err
	}
	// Fetched, checked and unpacked before prepare-node (or now, run alone).
	p, err := r.checkedPackage(ctx)
	if err != nil {
		return err
	}
	if p.path == "" {
		r.Host.Logf("[install-package] no --%s: using the package installed on %s", FlagInstallPkgPath, prev.InstalledAt.Format(time.RFC3339))
		r.Installed = prev
		return nil
	}
	pkg, m := p.path, p.m
	sum := p.sha256
	// A joining node names no repository (it tags later, for the cluster's): any will do.
	sameRepo := r.ImageRepository == "" || prev != nil && prev.ImageRepository == r.ImageRepository
	if prev != nil && prev.PackageSHA256 == sum && sameRepo &&
		prev.RuntimeBinary == r.Opts.RuntimeBinary && filesIntact(r.Host, prev) {
		if err := startContainerd(ctx, r.Host, false); err != nil {
			return err
		}
		if missing := missingImages(ctx, r.Host, prev); len(missing) == 0 {
			r.Host.Logf("[install-package] package %s already installed (same sha256), skipping", filepath.Base(pkg))
			r.Installed = prev
			return nil
		}
	}

	dir := r.Host.Path(extractDir)
	defer os.RemoveAll(dir)
	if p.unpacked == "" {
		r.Host.Logf("[install-package] verifying and extracting %s (kubernetes %s)", filepath.Base(pkg), m.KubernetesVersion)
		if err := bundle.Extract(ctx, pkg, dir); err != nil {
			return fmt.Errorf("package %s is damaged: %w: copy or download it again", p.src, err)
		}
	}
	in := &Installed{
		PackagePath: pkg, PackageSHA256: sum, KubernetesVersion: m.KubernetesVersion,
		ImageRepository: r.ImageRepository, RuntimeBinary: r.Opts.RuntimeBinary, InstalledAt: time.Now().UTC(),
	}
	changedContainerd := false
	for _, f := range m.Files {
		dest, mode, ok := destination(f.Path)
		if !ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			return fmt.Errorf("read extracted %s: %w", f.Path, err)
		}
		if f.Path == "config/containerd-config.toml" {
			data = RenderContainerdConfig(data, r.Opts.RuntimeBinary, r.ImageRepository)
			if r.usesRegistry(m) {
				data = RenderRegistryConfigPath(data)
			}
		}
		want := sha256Hex(data)
		in.Files = append(in.Files, InstalledFile{Path: dest, SHA256: want})
		if cur, err := fileSHA256(r.Host.Path(dest)); err == nil && cur == want {
			continue
		}
		if err := r.Host.WriteFile(dest, data, mode); err != nil {
			return err
		}
		if strings.Contains(dest, "containerd") || dest == "/usr/local/bin/runc" {
			changedContainerd = true
		}
		if strings.HasPrefix(f.Path, "systemd/") && !strings.HasSuffix(f.Path, ".conf") {
			in.Units = appendUnique(in.Units, path.Base(f.Path))
		}
	}
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, "systemd/") && strings.HasSuffix(f.Path, ".service") {
			in.Units = appendUnique(in.Units, path.Base(f.Path))
		}
	}
	if err := startContainerd(ctx, r.Host, changedContainerd); err != nil {
		return err
	}
	if err := importImages(ctx, r, dir, m, prev, in); err != nil {
		return err
	}
	if _, err := r.Host.Cmd.Run(ctx, "systemctl", "enable", "kubelet.service"); err != nil {
		return fmt.Errorf("enable kubelet: %w", err)
	}
	if err := r.Host.SaveInstalled(in); err != nil {
		return err
	}
	r.Installed = in
	return nil
}

// filesIntact reports whether every recorded file still has its hash.
func filesIntact(h *Host, in *Installed) bool {
	for _, f := range in.Files {
		if cur, err := fileSHA256(h.Path(f.Path)); err != nil || cur != f.SHA256 {
			return false
		}
	}
	return true
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// readPackagePathFile takes --install-pkg-path from --install-pkg-path-file.
func (o *Options) readPackagePathFile(h *Host) error {
	if o.InstallPkgPathFile == "" {
		return nil
	}
	if o.InstallPkgPath != "" {
		return fmt.Errorf("give one of --%s and --%s", FlagInstallPkgPath, FlagInstallPkgPathFile)
	}
	data, err := h.ReadFile(o.InstallPkgPathFile)
	if err != nil {
		return fmt.Errorf("--%s: %w", FlagInstallPkgPathFile, err)
	}
	o.InstallPkgPath = strings.TrimSpace(string(data))
	if o.InstallPkgPath == "" {
		return fmt.Errorf("--%s: %s is empty", FlagInstallPkgPathFile, o.InstallPkgPathFile)
	}
	return nil
}
