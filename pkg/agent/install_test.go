package agent

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/pkg/bundle"
	"github.com/edgeops/edgeops/pkg/contract"
)

// fakeHost records commands and plays containerd's image store: an image
// archive in these tests holds its image name as its content.
type fakeHost struct {
	mu     sync.Mutex
	calls  []string
	images map[string]bool
}

func (f *fakeHost) Run(_ context.Context, name string, args ...string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	if name != "ctr" || len(args) < 4 || args[2] != "images" {
		return "", nil
	}
	switch args[3] {
	case "list":
		var names []string
		for n := range f.images {
			names = append(names, n)
		}
		return strings.Join(names, "\n") + "\n", nil
	case "import":
		data, err := os.ReadFile(args[4])
		if err != nil {
			return "", err
		}
		f.images[strings.TrimSpace(string(data))] = true
	case "tag":
		f.images[args[len(args)-1]] = true
	}
	return "", nil
}

func (f *fakeHost) count(prefix string) int {
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func packTestBundle(t *testing.T, path string, kubelet string) {
	t.Helper()
	members := []bundle.Member{
		{Path: "bin/kubelet", Mode: 0o755, Data: []byte(kubelet)},
		{Path: "bin/edgeadm", Mode: 0o755, Data: []byte("agent")},
		{Path: "cni/bin/bridge", Mode: 0o755, Data: []byte("bridge")},
		{Path: "systemd/containerd.service", Mode: 0o644, Data: []byte("[Unit]\n")},
		{Path: "systemd/kubelet.service", Mode: 0o644, Data: []byte("[Unit]\n")},
		{Path: "systemd/10-kubeadm.conf", Mode: 0o644, Data: []byte("[Service]\n")},
		{Path: "config/containerd-config.toml", Mode: 0o644, Data: []byte("version = 3\n")},
		{Path: "manifests/flannel.yaml", Mode: 0o644, Data: []byte("kind: List\n")},
		{Path: "images/pause.tar", Mode: 0o644, Data: []byte("registry.k8s.io/pause:3.10.1")},
	}
	base := bundle.Manifest{KubernetesVersion: bundles.KubernetesVersion(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Images: []bundle.Image{{Name: "registry.k8s.io/pause:3.10.1", File: "images/pause.tar"}}}
	if _, err := bundle.Pack(context.Background(), path, base, members); err != nil {
		t.Fatal(err)
	}
}

func TestInstallPackage(t *testing.T) {
	root := t.TempDir()
	fake := &fakeHost{images: map[string]bool{}}
	var log bytes.Buffer
	h := &Host{Root: root, Cmd: fake, Log: &log}
	if err := os.MkdirAll(filepath.Join(root, "usr/local/sbin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/local/sbin/runc-lab"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	packTestBundle(t, filepath.Join(root, "pkg.tar.gz"), "kubelet-1")
	opts := &Options{InstallPkgPath: "/pkg.tar.gz", RuntimeBinary: "/usr/local/sbin/runc-lab"}
	run := func(repo string) {
		t.Helper()
		r := &Run{Host: h, Opts: opts, ImageRepository: repo}
		if err := InstallPackage(context.Background(), r); err != nil {
			t.Fatalf("install: %v\n%s", err, log.String())
		}
	}

	run("reg.local/k8s")
	for _, p := range []string{"usr/local/bin/kubelet", "opt/cni/bin/bridge", "etc/systemd/system/kubelet.service",
		"etc/systemd/system/kubelet.service.d/10-kubeadm.conf", "etc/containerd/config.toml", "var/lib/edgeadm/manifests/flannel.yaml",
		"var/lib/edgeadm/installed.json"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("not installed: %s", p)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "usr/local/bin/edgeadm")); err == nil {
		t.Error("bin/edgeadm installed over the staged agent")
	}
	if st, _ := os.Stat(filepath.Join(root, "usr/local/bin/kubelet")); st == nil || st.Mode().Perm() != 0o755 {
		t.Errorf("kubelet mode %v", st)
	}
	cfg, _ := os.ReadFile(filepath.Join(root, "etc/containerd/config.toml"))
	if !strings.Contains(string(cfg), `BinaryName = "/usr/local/sbin/runc-lab"`) {
		t.Errorf("containerd config without the runtime binary:\n%s", cfg)
	}
	if !fake.images["registry.k8s.io/pause:3.10.1"] || !fake.images["reg.local/k8s/pause:3.10.1"] {
		t.Errorf("images %v", fake.images)
	}
	if _, err := os.Stat(filepath.Join(root, extractDir)); err == nil {
		t.Error("extracted package left behind")
	}
	in, err := h.LoadInstalled()
	if err != nil || in == nil || in.KubernetesVersion != bundles.KubernetesVersion() || len(in.Images) != 1 || in.Images[0].Tags[0] != "reg.local/k8s/pause:3.10.1" {
		t.Fatalf("installed.json %+v %v", in, err)
	}

	// Same package again: nothing is extracted or imported.
	imports := fake.count("ctr --namespace k8s.io images import")
	log.Reset()
	run("reg.local/k8s")
	if fake.count("ctr --namespace k8s.io images import") != imports || !strings.Contains(log.String(), "already installed") {
		t.Errorf("second install did work again:\n%s", log.String())
	}

	// A joining node (no repository named) takes the installed package as is.
	log.Reset()
	run("")
	if !strings.Contains(log.String(), "already installed") {
		t.Errorf("install without a repository redid the work:\n%s", log.String())
	}

	// A changed file is put back.
	if err := os.WriteFile(filepath.Join(root, "usr/local/bin/kubelet"), []byte("tampered"), 0o755); err != nil {
		t.Fatal(err)
	}
	run("reg.local/k8s")
	if b, _ := os.ReadFile(filepath.Join(root, "usr/local/bin/kubelet")); string(b) != "kubelet-1" {
		t.Errorf("kubelet not restored: %q", b)
	}
	if fake.count("ctr --namespace k8s.io images import") != imports {
		t.Errorf("image with the same hash imported again")
	}

	// Reset removes what the install put there and is idempotent.
	for i := 0; i < 2; i++ {
		if err := Reset(context.Background(), h); err != nil {
			t.Fatalf("reset %d: %v", i, err)
		}
		for _, p := range []string{"usr/local/bin/kubelet", "opt/cni", "etc/systemd/system/kubelet.service", "etc/containerd", "var/lib/edgeadm", "etc/edgeadm"} {
			if _, err := os.Stat(filepath.Join(root, p)); err == nil {
				t.Errorf("reset %d left %s", i, p)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(root, "usr/local/sbin/runc-lab")); err != nil {
		t.Error("reset removed a file edgeadm did not install")
	}
}

func TestInstallPackageRefuses(t *testing.T) {
	root := t.TempDir()
	h := &Host{Root: root, Cmd: &fakeHost{images: map[string]bool{}}, Log: &bytes.Buffer{}}
	packTestBundle(t, filepath.Join(root, "pkg.tar.gz"), "k")
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"nothing installed, no package", Options{}, "pass --install-pkg-path"},
		{"bad checksum", Options{InstallPkgPath: "/pkg.tar.gz", InstallPkgSHA256: strings.Repeat("0", 64)}, "sha256"},
		{"missing runtime binary", Options{InstallPkgPath: "/pkg.tar.gz", RuntimeBinary: "/nope"}, "--runtime-binary"},
		{"missing package", Options{InstallPkgPath: "/missing.tar.gz"}, "missing.tar.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			err := InstallPackage(context.Background(), &Run{Host: h, Opts: &o})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestKubeletResolvConf(t *testing.T) {
	tests := []struct {
		name, resolv, systemd string
		wantFile              bool
		wantNS                []string
	}{
		{"real nameserver: kubelet default", "nameserver 172.28.20.1\n", "", false, nil},
		{"docker embedded DNS only", "nameserver 127.0.0.11\nsearch lab\n", "", true, nil},
		{"systemd-resolved stub with upstreams", "nameserver 127.0.0.53\n", "nameserver 10.0.0.2\n", true, []string{"10.0.0.2"}},
		{"mixed: kubelet default", "nameserver 127.0.0.53\nnameserver 9.9.9.9\n", "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			var log bytes.Buffer
			h := &Host{Root: root, Cmd: &fakeHost{}, Log: &log}
			if err := h.WriteFile("/etc/resolv.conf", []byte(tt.resolv), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.systemd != "" {
				if err := h.WriteFile(systemdResolvConf, []byte(tt.systemd), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := &Run{Host: h}
			if err := KubeletResolvConfPhase(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if (r.KubeletResolvConf != "") != tt.wantFile {
				t.Fatalf("kubelet resolv.conf %q, want file %v", r.KubeletResolvConf, tt.wantFile)
			}
			if !tt.wantFile {
				return
			}
			data, _ := h.ReadFile(KubeletResolvConf)
			ns := Nameservers(string(data))
			if strings.Join(ns, ",") != strings.Join(tt.wantNS, ",") {
				t.Errorf("nameservers %v, want %v", ns, tt.wantNS)
			}
			if !strings.Contains(log.String(), "loopback") {
				t.Errorf("no warning: %s", log.String())
			}
		})
	}
}

func TestCacheName(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://172.28.30.1:8080/packages/edgeops-bundle-v1.34.4-linux-amd64.tar.gz", "edgeops-bundle-v1.34.4-linux-amd64.tar.gz"},
		{"https://example.com/dl/pkg.tar.gz?sig=abc", "pkg.tar.gz"},
		{"https://example.com/dl/", "dl"},
		{"https://example.com", "package.tar.gz"},
		{"https://example.com/?id=3", "package.tar.gz"},
		{"https://example.com/..", "package.tar.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			src, err := contract.ParseSource(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := cacheName(src); got != tt.want {
				t.Errorf("cacheName(%s) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}
