package bundlebuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// binaries is every program the package and its images carry, by name.
type binaries map[string]string

// kubeLdflags stamps Kubernetes version information the way its release
// build does (hack/lib/version.sh), with a fixed build date.
func kubeLdflags(version string) (string, error) {
	m := regexp.MustCompile(`^v(\d+)\.(\d+)\.\d+`).FindStringSubmatch(version)
	if m == nil {
		return "", fmt.Errorf("kubernetes version %q: want vMAJOR.MINOR.PATCH", version)
	}
	var f []string
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		f = append(f, "-X "+pkg+".gitVersion="+version, "-X "+pkg+".gitMajor="+m[1], "-X "+pkg+".gitMinor="+m[2],
			"-X "+pkg+".gitTreeState=clean", "-X "+pkg+".buildDate=2000-01-01T00:00:00Z")
	}
	return strings.Join(f, " "), nil
}

// stagingVersion maps v1.34.4 to v0.34.4, the version of Kubernetes' staging modules.
func stagingVersion(v string) string { return "v0" + strings.TrimPrefix(v, "v1") }

// buildKubernetes builds kubelet, kubectl, the control-plane programs,
// kube-proxy and kubeadm from k8s.io/kubernetes at version.
func (b *Builder) buildKubernetes(ctx context.Context, version string, out binaries) error {
	m := GoModule{Module: b.Versions.Kubernetes.Module, Version: version}
	pkgs := map[string]string{}
	for _, n := range []string{"kubelet", "kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubeadm"} {
		pkgs[n] = m.Module + "/cmd/" + n
	}
	dir, err := b.prepareModule(ctx, "kubernetes", m, stagingVersion(version), values(pkgs))
	if err != nil {
		return err
	}
	ld, err := kubeLdflags(version)
	if err != nil {
		return err
	}
	res, err := b.build(ctx, goBuild{name: "kubernetes", dir: dir, pkgs: pkgs, ldflags: ld})
	return merge(out, res, err)
}

// buildEtcd builds etcd from go.etcd.io/etcd/server/v3 (its main calls etcdmain.Main).
func (b *Builder) buildEtcd(ctx context.Context, m GoModule, out binaries) error {
	dir, err := b.prepareModule(ctx, "etcd", m, m.Version, []string{m.Module})
	if err != nil {
		return err
	}
	res, err := b.build(ctx, goBuild{name: "etcd", dir: dir, pkgs: map[string]string{"etcd": m.Module}})
	return merge(out, res, err)
}

func (b *Builder) buildCoreDNS(ctx context.Context, m GoModule, out binaries) error {
	dir, err := b.prepareModule(ctx, "coredns", m, "", []string{m.Module})
	if err != nil {
		return err
	}
	res, err := b.build(ctx, goBuild{name: "coredns", dir: dir, pkgs: map[string]string{"coredns": m.Module},
		ldflags: "-X " + m.Module + "/coremain.GitCommit=" + m.Version})
	return merge(out, res, err)
}

func (b *Builder) buildContainerd(ctx context.Context, m GoModule, out binaries) error {
	pkgs := map[string]string{"containerd": m.Module + "/cmd/containerd", "ctr": m.Module + "/cmd/ctr"}
	shim := map[string]string{"containerd-shim-runc-v2": m.Module + "/cmd/containerd-shim-runc-v2"}
	dir, err := b.prepareModule(ctx, "containerd", m, "", containerdPkgs(m))
	if err != nil {
		return err
	}
	ld := "-X " + m.Module + "/version.Version=" + m.Version + " -X " + m.Module + "/version.Package=" + strings.TrimSuffix(m.Module, "/v2")
	// The tags of containerd's static release build; the shim also drops gRPC.
	tags := []string{"urfave_cli_no_docs", "osusergo", "netgo", "static_build"}
	res, err := b.build(ctx, goBuild{name: "containerd", dir: dir, pkgs: pkgs, tags: tags, ldflags: ld})
	if err := merge(out, res, err); err != nil {
		return err
	}
	res, err = b.build(ctx, goBuild{name: "containerd-shim", dir: dir, pkgs: shim, tags: append(tags, "no_grpc"), ldflags: ld})
	return merge(out, res, err)
}

// buildRunc builds runc as its release does (`make static`): cgo with
// libseccomp linked in statically, as a static PIE.
func (b *Builder) buildRunc(ctx context.Context, m GoModule, out binaries) error {
	if _, err := os.Stat("/usr/lib/" + gnuTriplet(b.Arch) + "/libseccomp.a"); err != nil {
		return fmt.Errorf("runc: libseccomp.a not found (apt-get install libseccomp-dev): %w", err)
	}
	dir, err := b.prepareModule(ctx, "runc", m, "", []string{m.Module})
	if err != nil {
		return err
	}
	seccompVersion, _ := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Version}", "libseccomp-dev").Output()
	res, err := b.build(ctx, goBuild{
		name: "runc", dir: dir, pkgs: map[string]string{"runc": m.Module},
		tags: []string{"seccomp", "urfave_cli_no_docs", "netgo", "osusergo"}, cgo: true, pie: true,
		ldflags: "-linkmode external -extldflags '-static-pie -Wl,--build-id=none'",
		extra:   []string{"libseccomp " + string(seccompVersion)},
	})
	return merge(out, res, err)
}

func (b *Builder) buildCrictl(ctx context.Context, m GoModule, out binaries) error {
	pkg := m.Module + "/cmd/crictl"
	dir, err := b.prepareModule(ctx, "crictl", m, "", []string{pkg})
	if err != nil {
		return err
	}
	res, err := b.build(ctx, goBuild{name: "crictl", dir: dir, pkgs: map[string]string{"crictl": pkg},
		ldflags: "-X " + m.Module + "/pkg/version.Version=" + m.Version})
	return merge(out, res, err)
}

func (b *Builder) buildCNIPlugins(ctx context.Context, m GoModule, out binaries) error {
	pkgs := cniPkgs(m)
	dir, err := b.prepareModule(ctx, "cni-plugins", m, "", values(pkgs))
	if err != nil {
		return err
	}
	res, err := b.build(ctx, goBuild{name: "cni-plugins", dir: dir, pkgs: pkgs,
		ldflags: "-X " + m.Module + "/pkg/utils/buildversion.BuildVersion=" + m.Version})
	return merge(out, res, err)
}

func (b *Builder) buildFlannel(ctx context.Context, m GoModule, out binaries) error {
	dir, err := b.prepareModule(ctx, "flannel", m, "", []string{m.Module})
	if err != nil {
		return err
	}
	// flannel's udp backend is cgo; its release links statically, and so do we.
	res, err := b.build(ctx, goBuild{name: "flannel", dir: dir, pkgs: map[string]string{"flanneld": m.Module},
		cgo: true, tags: []string{"netgo", "osusergo"},
		ldflags: "-X " + m.Module + "/pkg/version.Version=" + m.Version + " -linkmode external -extldflags '-static -Wl,--build-id=none'"})
	return merge(out, res, err)
}

// buildLocal builds this repository's programs: edgeadm (kubeadm inside, so
// it carries the same version stamp), and the pause and iptables-wrapper
// programs that go into images. The Go build cache makes an unchanged
// rebuild a relink.
func (b *Builder) buildLocal(ctx context.Context, out binaries) (string, error) {
	// edgeadm carries the kubeadm of this repository's go.mod, whatever
	// Kubernetes version the package is for: stamp that version.
	v, err := b.goCmd(ctx, b.Root, nil, "list", "-m", "-f", "{{.Version}}", "k8s.io/kubernetes")
	if err != nil {
		return "", fmt.Errorf("edgeadm: kubeadm version: %w", err)
	}
	version := strings.TrimSpace(v)
	ld, err := kubeLdflags(version)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(b.Cache, "local")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// edgeadm's own version, as make build stamps it ("dev" outside git).
	own := "dev"
	if d, err := exec.CommandContext(ctx, "git", "-C", b.Root, "describe", "--tags", "--always", "--dirty").Output(); err == nil && strings.TrimSpace(string(d)) != "" {
		own = strings.TrimSpace(string(d))
	}
	for name, pkg := range map[string]string{"edgeadm": "./cmd/edgeadm", "edge-proxy": "./cmd/edge-proxy", "edge-tunnel": "./cmd/edge-tunnel", "edge-vip": "./cmd/edge-vip", "edge-ipam": "./cmd/edge-ipam", "pause": "./hack/images/pause", "iptables-wrapper": "./hack/images/iptables-wrapper"} {
		start := now()
		dst := filepath.Join(dir, name)
		flags := "-s -w -buildid= " + ld
		if strings.HasPrefix(pkg, "./cmd/") { // edgeops' own programs carry its version
			flags += " -X main.version=" + own
		}
		args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", flags, "-o", dst, pkg}
		if _, err := b.goCmd(ctx, b.Root, []string{"CGO_ENABLED=0"}, args...); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		b.logf("%-12s built in %s", name, since(start))
		out[name] = dst
	}
	return version, nil
}

func merge(out binaries, res map[string]string, err error) error {
	if err != nil {
		return err
	}
	for k, v := range res {
		out[k] = v
	}
	return nil
}

func values(m map[string]string) []string {
	var v []string
	for _, x := range m {
		v = append(v, x)
	}
	sortStrings(v)
	return v
}

func gnuTriplet(arch string) string {
	if arch == "arm64" {
		return "aarch64-linux-gnu"
	}
	return "x86_64-linux-gnu"
}

func containerdPkgs(m GoModule) []string {
	return []string{m.Module + "/cmd/containerd", m.Module + "/cmd/containerd-shim-runc-v2", m.Module + "/cmd/ctr"}
}

func cniPkgs(m GoModule) map[string]string {
	return map[string]string{
		"bridge": m.Module + "/plugins/main/bridge", "loopback": m.Module + "/plugins/main/loopback",
		"host-local": m.Module + "/plugins/ipam/host-local", "portmap": m.Module + "/plugins/meta/portmap",
	}
}
