package bundlebuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// Build produces _output/edgeops-bundle-<k8s>-linux-<arch>.tar.gz.
func (b *Builder) Build(ctx context.Context) (*Result, error) {
	start := now()
	if b.Arch != "amd64" {
		// Images need the target's iptables and its libraries, taken from
		// this machine: only native builds are supported.
		return nil, fmt.Errorf("arch %s: only amd64 (this machine's) is supported", b.Arch)
	}
	k8s := b.KubernetesVersion
	bins := binaries{}
	// Fetch and resolve the other modules (network-bound) while Kubernetes compiles.
	prefetch := b.prefetch(ctx)
	if err := b.buildKubernetes(ctx, k8s, bins); err != nil {
		return nil, err
	}
	if err := prefetch(); err != nil {
		return nil, err
	}
	edgeadmVersion, err := b.buildLocal(ctx, bins)
	if err != nil {
		return nil, err
	}
	// The images are the ones the installer asks for: edgeadm's kubeadm
	// (v1.37 deploying a v1.36 control plane still pins its own etcd and
	// CoreDNS), not the package's kubeadm binary.
	imgs, err := b.kubeadmImages(ctx, bins["edgeadm"], k8s)
	if err != nil {
		return nil, err
	}
	etcd, coredns, err := b.imageModules(k8s, imgs)
	if err != nil {
		return nil, err
	}
	v := b.Versions
	steps := []func() error{
		func() error { return b.buildContainerd(ctx, v.Containerd, bins) },
		func() error { return b.buildRunc(ctx, v.Runc, bins) },
		func() error { return b.buildCrictl(ctx, v.Crictl, bins) },
		func() error { return b.buildCNIPlugins(ctx, v.CNIPlugins, bins) },
	}
	if !b.NoImages {
		// Only the images carry etcd, CoreDNS and flanneld.
		steps = append(steps,
			func() error { return b.buildEtcd(ctx, etcd, bins) },
			func() error { return b.buildCoreDNS(ctx, coredns, bins) },
			func() error { return b.buildFlannel(ctx, v.Flannel.GoModule, bins) },
		)
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if minor(edgeadmVersion) != minor(k8s) {
		b.logf("warning: edgeadm carries kubeadm %s, the package is for Kubernetes %s: kubeadm supports its own minor (and one older control plane)", edgeadmVersion, k8s)
	}
	var members []bundle.Member
	var images []bundle.Image
	if !b.NoImages {
		if members, images, err = b.images(ctx, imgs, bins); err != nil {
			return nil, err
		}
	}
	for _, n := range []string{"kubelet", "kubectl", "edgeadm", "edge-proxy", "edge-tunnel", "edge-vip", "containerd", "containerd-shim-runc-v2", "ctr", "runc", "crictl"} {
		members = append(members, bundle.Member{Path: "bin/" + n, Mode: 0o755, Source: bins[n]})
	}
	for _, n := range []string{"bridge", "host-local", "loopback", "portmap", "edge-ipam"} {
		members = append(members, bundle.Member{Path: "cni/bin/" + n, Mode: 0o755, Source: bins[n]})
	}
	recipe, err := b.recipeFiles(imgs)
	if err != nil {
		return nil, err
	}
	members = append(members, recipe...)

	comps := []bundle.Component{
		{Name: "kubernetes", Version: k8s}, {Name: "kubelet", Version: k8s}, {Name: "kubectl", Version: k8s},
		{Name: "kubeadm", Version: edgeadmVersion}, {Name: "edgeadm", Version: edgeadmVersion}, {Name: "edge-proxy", Version: edgeadmVersion}, {Name: "edge-tunnel", Version: edgeadmVersion}, {Name: "edge-vip", Version: edgeadmVersion},
		{Name: "etcd", Version: imgs.tag("etcd")}, {Name: "coredns", Version: imgs.tag("coredns")},
		{Name: "pause", Version: imgs.tag("pause")},
		{Name: "containerd", Version: v.Containerd.Version}, {Name: "runc", Version: v.Runc.Version},
		{Name: "crictl", Version: v.Crictl.Version}, {Name: "cni-plugins", Version: v.CNIPlugins.Version},
		{Name: "flannel", Version: v.Flannel.Version},
	}
	base := bundle.Manifest{KubernetesVersion: k8s, OS: "linux", Arch: b.Arch, Components: comps, Images: images}
	out := filepath.Join(b.Output, bundle.FileName(k8s, b.Arch))
	if b.NoImages {
		base.ImageSource, base.RegistryImages = bundle.ImagesFromRegistry, b.registryImages(imgs)
		out = filepath.Join(b.Output, bundle.NoImagesFileName(k8s, b.Arch))
	}
	m, cached, err := b.pack(ctx, out, base, members)
	if err != nil {
		return nil, err
	}
	return &Result{Path: out, Manifest: m, Cached: cached, Took: since(start)}, nil
}

// registryImages are the images a node of an image-less package pulls, by
// the names the full package gives them (kubeadm's, and flannel as
// edgeadm's manifest asks for it): a registry for the online install
// serves each under <repository>/<last path element>:<tag>.
func (b *Builder) registryImages(l imageList) []string {
	names := []string{"registry.k8s.io/flannel:" + b.Versions.Flannel.Version}
	for _, n := range l {
		names = append(names, n)
	}
	sortStrings(names)
	return names
}

// imageList is kubeadm's image list, by short name (kube-apiserver, etcd, …).
type imageList map[string]string

func (l imageList) tag(short string) string {
	n := l[short]
	return n[strings.LastIndex(n, ":")+1:]
}

// kubeadmImages asks the built edgeadm (its kubeadm) which images this
// Kubernetes version needs, exactly as `kubeadm config images list` prints them.
func (b *Builder) kubeadmImages(ctx context.Context, kubeadm, version string) (imageList, error) {
	out, err := exec.CommandContext(ctx, kubeadm, "config", "images", "list", "--kubernetes-version", version).Output()
	if err != nil {
		return nil, fmt.Errorf("kubeadm config images list: %w", err)
	}
	l := imageList{}
	for _, line := range strings.Fields(string(out)) {
		name := line[:strings.LastIndex(line, ":")]
		l[name[strings.LastIndex(name, "/")+1:]] = line
	}
	for _, want := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "etcd", "coredns", "pause"} {
		if l[want] == "" {
			return nil, fmt.Errorf("kubeadm config images list: no %s image in %q", want, out)
		}
	}
	b.logf("kubeadm %s expects: %s", version, strings.Join(strings.Fields(string(out)), " "))
	return l, nil
}

// imageModules returns the etcd and CoreDNS modules for kubeadm's image
// tags. For the pinned Kubernetes version they must agree with versions.yaml.
func (b *Builder) imageModules(k8s string, l imageList) (GoModule, GoModule, error) {
	v := b.Versions
	etcd := GoModule{Module: v.Etcd.Module, Version: "v" + strings.SplitN(l.tag("etcd"), "-", 2)[0]}
	coredns := GoModule{Module: v.CoreDNS.Module, Version: l.tag("coredns")}
	if k8s == v.Kubernetes.Version {
		if l.tag("etcd") != v.Etcd.ImageTag || etcd.Version != v.Etcd.Version || coredns.Version != v.CoreDNS.Version || l.tag("pause") != v.Pause.ImageTag {
			return etcd, coredns, fmt.Errorf("bundles/versions.yaml disagrees with kubeadm %s: it expects etcd %s, coredns %s, pause %s",
				k8s, l.tag("etcd"), l.tag("coredns"), l.tag("pause"))
		}
	}
	return etcd, coredns, nil
}

// images builds every image archive and returns them as package members.
func (b *Builder) images(ctx context.Context, l imageList, bins binaries) ([]bundle.Member, []bundle.Image, error) {
	base, err := baseLayer()
	if err != nil {
		return nil, nil, err
	}
	ipt := newLayerFS()
	if err := ipt.addIptables(ctx, bins["iptables-wrapper"]); err != nil {
		return nil, nil, err
	}
	flannelTag := b.Versions.Flannel.Version
	specs := []imageSpec{
		{file: "pause.tar", names: []string{l["pause"]}, entrypoint: []string{"/pause"}, user: "65535:65535",
			layers: []*layerFS{appLayer(map[string]string{"/pause": bins["pause"]})}},
		{file: "etcd.tar", names: []string{l["etcd"]}, entrypoint: []string{"/usr/local/bin/etcd"},
			layers: []*layerFS{base, appLayer(map[string]string{"/usr/local/bin/etcd": bins["etcd"]})}},
		{file: "coredns.tar", names: []string{l["coredns"]}, entrypoint: []string{"/coredns"},
			layers: []*layerFS{base, appLayer(map[string]string{"/coredns": bins["coredns"]})}},
		{file: "kube-proxy.tar", names: []string{l["kube-proxy"]}, entrypoint: []string{"/usr/local/bin/kube-proxy"},
			layers: []*layerFS{base, ipt, appLayer(map[string]string{"/usr/local/bin/kube-proxy": bins["kube-proxy"]})}},
		// Named as edgeadm's manifests ask for it (__IMAGE_REPOSITORY__/flannel:TAG
		// with the default repository) and as upstream publishes it.
		{file: "flannel.tar", names: []string{"registry.k8s.io/flannel:" + flannelTag, b.Versions.Flannel.Image + ":" + flannelTag},
			entrypoint: []string{"/opt/bin/flanneld"},
			layers:     []*layerFS{base, ipt, appLayer(map[string]string{"/opt/bin/flanneld": bins["flanneld"]})}},
	}
	for _, n := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
		specs = append(specs, imageSpec{file: n + ".tar", names: []string{l[n]}, entrypoint: []string{"/usr/local/bin/" + n},
			layers: []*layerFS{base, appLayer(map[string]string{"/usr/local/bin/" + n: bins[n]})}})
	}
	var members []bundle.Member
	var images []bundle.Image
	for _, s := range specs {
		p, err := b.writeImage(ctx, s)
		if err != nil {
			return nil, nil, err
		}
		members = append(members, bundle.Member{Path: "images/" + s.file, Mode: 0o644, Source: p})
		for _, n := range s.names {
			images = append(images, bundle.Image{Name: n, File: "images/" + s.file})
		}
	}
	return members, images, nil
}

// recipeFiles are bundles/{systemd,config,manifests}, with the build-time
// placeholders (__PAUSE_TAG__, __FLANNEL_VERSION__) filled; edgeadm fills the
// others (__POD_CIDR__, __IMAGE_REPOSITORY__) on the node.
func (b *Builder) recipeFiles(l imageList) ([]bundle.Member, error) {
	repl := strings.NewReplacer("__PAUSE_TAG__", l.tag("pause"), "__FLANNEL_VERSION__", b.Versions.Flannel.Version)
	var members []bundle.Member
	for _, dir := range []string{"systemd", "config", "manifests"} {
		root := filepath.Join(b.Root, "bundles", dir)
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if !strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".toml") && !strings.HasSuffix(p, ".conf") && !strings.HasSuffix(p, ".service") {
				return nil
			}
			rel, err := filepath.Rel(filepath.Join(b.Root, "bundles"), p)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			members = append(members, bundle.Member{Path: filepath.ToSlash(rel), Mode: 0o644, Data: []byte(repl.Replace(string(data)))})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("bundles/%s: %w", dir, err)
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i].Path < members[j].Path })
	return members, nil
}

// pack writes the package unless the one in place was packed from the same
// inputs (recorded next to it in the cache).
func (b *Builder) pack(ctx context.Context, out string, base bundle.Manifest, members []bundle.Member) (*bundle.Manifest, bool, error) {
	var in []string
	for _, mb := range members {
		h := hashKey(string(mb.Data))
		if mb.Source != "" {
			var err error
			if h, err = b.fileHash(mb.Source); err != nil {
				return nil, false, err
			}
		}
		in = append(in, fmt.Sprintf("%s %o %s", mb.Path, mb.Mode, h))
	}
	sort.Strings(in)
	raw, _ := (&base).Marshal()
	key := hashKey(append(in, string(raw))...)
	stamp := filepath.Join(b.Cache, "pack-"+filepath.Base(out)+".key")
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == key {
		if bd, err := bundle.Open(out); err == nil {
			if sum, _, err := bundle.FileSHA256(out); err == nil && sum == b.readStampSum(stamp) {
				b.logf("package %s unchanged (inputs %s)", filepath.Base(out), key)
				return bd.Manifest(), true, nil
			}
		}
	}
	start := now()
	m, err := bundle.Pack(ctx, out, base, members)
	if err != nil {
		return nil, false, err
	}
	sum, _, err := bundle.FileSHA256(out)
	if err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(stamp, []byte(key+"\n"), 0o644); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(stamp+".sha256", []byte(sum+"\n"), 0o644); err != nil {
		return nil, false, err
	}
	b.logf("packed %s in %s", filepath.Base(out), since(start))
	return m, false, nil
}

func (b *Builder) readStampSum(stamp string) string {
	data, _ := os.ReadFile(stamp + ".sha256")
	return strings.TrimSpace(string(data))
}

// Prefetch downloads and resolves every pinned module without building.
func (b *Builder) Prefetch(ctx context.Context) error { return b.prefetch(ctx)() }

// prefetch prepares the build modules of the pinned components in the
// background; the returned func waits and reports the first error.
func (b *Builder) prefetch(ctx context.Context) func() error {
	v := b.Versions
	var g errgroup.Group
	g.SetLimit(3)
	jobs := []struct {
		name, sibling string
		m             GoModule
		pkgs          []string
	}{
		{"etcd", v.Etcd.Version, v.Etcd.GoModule, []string{v.Etcd.Module}},
		{"coredns", "", v.CoreDNS, []string{v.CoreDNS.Module}},
		{"containerd", "", v.Containerd, containerdPkgs(v.Containerd)},
		{"runc", "", v.Runc, []string{v.Runc.Module}},
		{"crictl", "", v.Crictl, []string{v.Crictl.Module + "/cmd/crictl"}},
		{"cni-plugins", "", v.CNIPlugins, values(cniPkgs(v.CNIPlugins))},
		{"flannel", "", v.Flannel.GoModule, []string{v.Flannel.Module}},
	}
	for _, j := range jobs {
		g.Go(func() error {
			_, err := b.prepareModule(ctx, j.name, j.m, j.sibling, j.pkgs)
			return err
		})
	}
	return g.Wait
}

// minor returns "v1.34" for "v1.34.4".
func minor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
