package agent

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/bundle"
)

func TestRegistryHostAndFlags(t *testing.T) {
	tests := []struct {
		repo, host string
		bad        bool
	}{
		{"10.0.0.5:5000/k8s", "10.0.0.5:5000", false},
		{"reg.example.com/a/b", "reg.example.com", false},
		{"reg.example.com", "reg.example.com", false},
		{"http://10.0.0.5:5000", "http:", true},
		{"10.0.0.5:99999/x", "10.0.0.5:99999", true},
	}
	for _, tc := range tests {
		t.Run(tc.repo, func(t *testing.T) {
			h := RegistryHost(tc.repo)
			if h != tc.host {
				t.Errorf("RegistryHost(%q) = %q, want %q", tc.repo, h, tc.host)
			}
			err := checkRegistryHost(FlagInsecureRegistry, h)
			if tc.bad != (err != nil) {
				t.Errorf("checkRegistryHost(%q) = %v, want error %v", tc.repo, err, tc.bad)
			}
			if err != nil && !strings.Contains(err.Error(), "--"+FlagInsecureRegistry) {
				t.Errorf("error does not name the flag: %v", err)
			}
		})
	}
}

func TestRenderHostsTOML(t *testing.T) {
	tests := []struct {
		name     string
		insecure bool
		ca       string
		want     []string
		not      []string
	}{
		{"plain http", true, "", []string{`server = "http://10.0.0.5:5000"`, `[host."http://10.0.0.5:5000"]`, `capabilities = ["pull", "resolve"]`}, []string{"https", "ca ="}},
		{"https with a CA", false, "/etc/containerd/certs.d/10.0.0.5:5000/ca.crt",
			[]string{`server = "https://10.0.0.5:5000"`, `[host."https://10.0.0.5:5000"]`, `ca = "/etc/containerd/certs.d/10.0.0.5:5000/ca.crt"`}, []string{"http://", "skip_verify"}},
		{"https, system CAs", false, "", []string{`server = "https://10.0.0.5:5000"`}, []string{"ca =", "skip_verify"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := string(RenderHostsTOML("10.0.0.5:5000", tc.insecure, tc.ca))
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %s in\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("unexpected %s in\n%s", n, out)
				}
			}
		})
	}
}

func TestRenderRegistryConfigPath(t *testing.T) {
	pkgCfg, err := os.ReadFile("../../bundles/config/containerd-config.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, cfg, want string
	}{
		{"package config (v3)", string(pkgCfg), "[plugins.'io.containerd.cri.v1.images'.registry]\n    config_path = \"/etc/containerd/certs.d\""},
		{"v2 config", "version = 2\n", "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n    config_path = \"/etc/containerd/certs.d\""},
		{"already set", "version = 3\n[x]\n  config_path = \"/elsewhere\"\n", "config_path = \"/elsewhere\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := string(RenderRegistryConfigPath([]byte(tc.cfg)))
			if !strings.Contains(out, tc.want) || strings.Count(out, "config_path") != 1 {
				t.Errorf("want one %q in\n%s", tc.want, out)
			}
			if again := string(RenderRegistryConfigPath([]byte(out))); again != out {
				t.Errorf("second render changed the config")
			}
		})
	}
	// The sandbox image is found in the package's config, and follows the repository.
	cfg := RenderContainerdConfig(bytes.ReplaceAll(pkgCfg, []byte("__PAUSE_TAG__"), []byte("3.10.2")), "", "10.0.0.5:5000/k8s")
	if got := SandboxImage(cfg); got != "10.0.0.5:5000/k8s/pause:3.10.2" {
		t.Errorf("SandboxImage = %q", got)
	}
	if got := SandboxImage([]byte("version = 2\nsandbox_image = \"registry.k8s.io/pause:3.9\"\n")); got != "registry.k8s.io/pause:3.9" {
		t.Errorf("SandboxImage (v2) = %q", got)
	}
}

// testCA writes a self-signed CA certificate (PEM) under root.
func testCA(t *testing.T, root, name string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test registry CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

func packImagelessBundle(t *testing.T, path string) {
	t.Helper()
	members := []bundle.Member{
		{Path: "bin/kubelet", Mode: 0o755, Data: []byte("kubelet")},
		{Path: "systemd/containerd.service", Mode: 0o644, Data: []byte("[Unit]\n")},
		{Path: "config/containerd-config.toml", Mode: 0o644, Data: []byte("version = 3\n[plugins]\n  [plugins.'io.containerd.cri.v1.images'.pinned_images]\n    sandbox = \"registry.k8s.io/pause:3.10.2\"\n")},
	}
	base := bundle.Manifest{KubernetesVersion: "v1.37.2", OS: runtime.GOOS, Arch: runtime.GOARCH,
		ImageSource: bundle.ImagesFromRegistry, RegistryImages: []string{"registry.k8s.io/pause:3.10.2"}}
	if _, err := bundle.Pack(context.Background(), path, base, members); err != nil {
		t.Fatal(err)
	}
}

// TestInstallImagelessPackage: init with an image-less package writes the
// registry settings, pulls the sandbox image from the registry and imports
// nothing; bad input is refused before anything is written; a joining node
// pulls the sandbox image from the cluster's repository under the name
// containerd pins.
func TestInstallImagelessPackage(t *testing.T) {
	const repo = "10.0.0.5:5000/k8s"
	newHost := func(t *testing.T) (*Host, *fakeHost, *bytes.Buffer) {
		root := t.TempDir()
		packImagelessBundle(t, filepath.Join(root, "pkg.tar.gz"))
		testCA(t, root, "ca.pem")
		if err := os.WriteFile(filepath.Join(root, "not-a-ca.pem"), []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		fake := &fakeHost{images: map[string]bool{}}
		var log bytes.Buffer
		return &Host{Root: root, Cmd: fake, Log: &log}, fake, &log
	}

	t.Run("init, CA", func(t *testing.T) {
		h, fake, log := newHost(t)
		r := &Run{Host: h, Workflow: "init", ImageRepository: repo, Opts: &Options{InstallPkgPath: "/pkg.tar.gz", RegistryCAFile: "/ca.pem"}}
		if err := InstallPackage(context.Background(), r); err != nil {
			t.Fatalf("install: %v\n%s", err, log)
		}
		cfg, _ := h.ReadFile("/etc/containerd/config.toml")
		if !strings.Contains(string(cfg), `config_path = "/etc/containerd/certs.d"`) || SandboxImage(cfg) != repo+"/pause:3.10.2" {
			t.Errorf("containerd config:\n%s", cfg)
		}
		hosts, err := h.ReadFile("/etc/containerd/certs.d/10.0.0.5:5000/hosts.toml")
		if err != nil || !strings.Contains(string(hosts), `ca = "/etc/containerd/certs.d/10.0.0.5:5000/ca.crt"`) {
			t.Errorf("hosts.toml %v:\n%s", err, hosts)
		}
		ca, _ := h.ReadFile("/etc/containerd/certs.d/10.0.0.5:5000/ca.crt")
		want, _ := h.ReadFile("/ca.pem")
		if !bytes.Equal(ca, want) {
			t.Error("CA not copied beside hosts.toml")
		}
		if fake.count("crictl pull "+repo+"/pause:3.10.2") != 1 || fake.count("ctr --namespace k8s.io images import") != 0 {
			t.Errorf("calls %v", fake.calls)
		}
		in, _ := h.LoadInstalled()
		if in == nil || in.ImageSource != bundle.ImagesFromRegistry || in.FileSHA256("/etc/containerd/certs.d/10.0.0.5:5000/hosts.toml") == "" {
			t.Errorf("installed.json %+v", in)
		}
		if err := Reset(context.Background(), h); err != nil {
			t.Fatal(err)
		}
		if h.Exists("/etc/containerd") {
			t.Error("reset left /etc/containerd (the registry settings)")
		}
	})

	t.Run("init, insecure", func(t *testing.T) {
		h, _, log := newHost(t)
		r := &Run{Host: h, Workflow: "init", ImageRepository: repo, Opts: &Options{InstallPkgPath: "/pkg.tar.gz", InsecureRegistries: []string{"10.0.0.5:5000"}}}
		if err := InstallPackage(context.Background(), r); err != nil {
			t.Fatalf("install: %v\n%s", err, log)
		}
		hosts, _ := h.ReadFile("/etc/containerd/certs.d/10.0.0.5:5000/hosts.toml")
		if !strings.Contains(string(hosts), `server = "http://10.0.0.5:5000"`) {
			t.Errorf("hosts.toml:\n%s", hosts)
		}
	})

	refusals := []struct {
		name string
		r    Run
		want string
	}{
		{"no repository", Run{Workflow: "init", Opts: &Options{}}, "--image-repository"},
		{"default repository", Run{Workflow: "init", ImageRepository: DefaultImageRepository, Opts: &Options{}}, "carries no images"},
		{"CA file missing", Run{Workflow: "init", ImageRepository: repo, Opts: &Options{RegistryCAFile: "/nope.pem"}}, "--registry-ca-file"},
		{"CA file not PEM", Run{Workflow: "init", ImageRepository: repo, Opts: &Options{RegistryCAFile: "/not-a-ca.pem"}}, "no PEM certificate"},
		{"CA and insecure for one registry", Run{Workflow: "init", ImageRepository: repo, Opts: &Options{RegistryCAFile: "/ca.pem", InsecureRegistries: []string{"10.0.0.5:5000"}}}, "not both"},
		{"insecure registry with a scheme", Run{Workflow: "init", ImageRepository: repo, Opts: &Options{InsecureRegistries: []string{"http://10.0.0.5"}}}, "--insecure-registry"},
	}
	for _, tc := range refusals {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			h, _, _ := newHost(t)
			r := tc.r
			r.Host = h
			r.Opts.InstallPkgPath = "/pkg.tar.gz"
			err := InstallPackage(context.Background(), &r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, p := range []string{"/etc/containerd", "/usr/local/bin/kubelet", InstalledPath} {
				if h.Exists(p) {
					t.Errorf("refused install wrote %s", p)
				}
			}
		})
	}

	t.Run("join", func(t *testing.T) {
		h, fake, log := newHost(t)
		r := &Run{Host: h, Workflow: "join", Opts: &Options{InstallPkgPath: "/pkg.tar.gz", RegistryCAFile: "/ca.pem"}}
		if err := InstallPackage(context.Background(), r); err != nil {
			t.Fatalf("install: %v\n%s", err, log)
		}
		if fake.count("crictl pull") != 0 || h.Exists("/etc/containerd/certs.d") {
			t.Errorf("join install pulled or wrote registry settings before knowing the repository: %v", fake.calls)
		}
		// After kubeadm join: retag-images learned the cluster's repository.
		if err := joinRegistryImages(context.Background(), r, r.Installed, repo); err != nil {
			t.Fatalf("retag-images: %v\n%s", err, log)
		}
		if fake.count("crictl pull "+repo+"/pause:3.10.2") != 1 || !fake.images["registry.k8s.io/pause:3.10.2"] {
			t.Errorf("sandbox image not pulled and tagged: %v", fake.calls)
		}
		if !h.Exists("/etc/containerd/certs.d/10.0.0.5:5000/hosts.toml") || !h.Exists("/etc/containerd/certs.d/10.0.0.5:5000/ca.crt") {
			t.Error("join: no registry settings for the cluster's repository")
		}
		in, _ := h.LoadInstalled()
		if in == nil || in.ImageRepository != repo {
			t.Errorf("installed.json %+v", in)
		}
	})
}
