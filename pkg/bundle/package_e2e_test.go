//go:build e2e

package bundle

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// builtPackage is the package `make bundle` wrote ($EDGEOPS_BUNDLE overrides).
func builtPackage(t *testing.T) string {
	t.Helper()
	p := os.Getenv("EDGEOPS_BUNDLE")
	if p == "" {
		// The scripts' helper reads the default from bundles/versions.yaml
		// (the bundles package cannot be imported here: it imports this one).
		out, err := exec.Command("bash", "-c", "source ../../scripts/lib/versions.sh && default_bundle").Output()
		if err != nil {
			t.Fatalf("scripts/lib/versions.sh: %v", err)
		}
		p = filepath.Join("..", "..", strings.TrimSpace(string(out)))
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("install package %s is missing: run `make bundle` first (or set EDGEOPS_BUNDLE): %v", p, err)
	}
	return p
}

// TestBuiltPackage checks the real package: it verifies, it holds every
// member docs/CONTRACTS.md lists, its images are exactly what its edgeadm
// (kubeadm) asks for, and its manifests use only the documented placeholders.
func TestBuiltPackage(t *testing.T) {
	ctx := context.Background()
	pkg := builtPackage(t)
	if err := Verify(ctx, pkg); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	b, err := Open(pkg)
	if err != nil {
		t.Fatal(err)
	}
	m := b.Manifest()
	for _, want := range []string{
		"bin/kubelet", "bin/kubectl", "bin/edgeadm", "bin/edge-proxy", "bin/containerd", "bin/containerd-shim-runc-v2", "bin/runc", "bin/crictl",
		"cni/bin/bridge", "cni/bin/host-local", "cni/bin/loopback", "cni/bin/portmap", "cni/bin/edge-ipam",
		"manifests/flannel.yaml", "systemd/containerd.service", "systemd/kubelet.service", "systemd/10-kubeadm.conf",
		"config/containerd-config.toml", "config/sysctl-k8s.conf", "config/modules-k8s.conf", "config/crictl.yaml",
	} {
		if _, ok := m.File(want); !ok {
			t.Errorf("package lacks %s", want)
		}
	}

	edgeadm, err := ReadFile(ctx, pkg, "bin/edgeadm")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "edgeadm")
	if err := os.WriteFile(bin, edgeadm, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, bin, "config", "images", "list", "--kubernetes-version", m.KubernetesVersion).Output()
	if err != nil {
		t.Fatalf("edgeadm config images list: %v", err)
	}
	have := map[string]bool{}
	for _, img := range m.Images {
		have[img.Name] = true
	}
	for _, want := range strings.Fields(string(out)) {
		if !have[want] {
			t.Errorf("kubeadm expects %s; the package lacks it", want)
		}
	}

	placeholder := regexp.MustCompile(`__[A-Z_]+__`)
	for _, f := range m.Files {
		// manifests/edge/ belongs to the agent work, which fills its own placeholders.
		if !strings.HasPrefix(f.Path, "manifests/") && !strings.HasPrefix(f.Path, "config/") || strings.HasPrefix(f.Path, "manifests/edge/") {
			continue
		}
		data, err := ReadFile(ctx, pkg, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		for _, ph := range placeholder.FindAllString(string(data), -1) {
			if ph != "__POD_CIDR__" && ph != "__IMAGE_REPOSITORY__" {
				t.Errorf("%s: unfilled placeholder %s", f.Path, ph)
			}
		}
	}
}
