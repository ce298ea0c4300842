package agent

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// RegistryHostsDir is containerd's registry config_path: one folder per
// registry host[:port] holding hosts.toml (and the registry's CA).
const RegistryHostsDir = "/etc/containerd/certs.d"

// RegistryHost is the registry part of an image repository:
// "10.0.0.5:5000/k8s" -> "10.0.0.5:5000".
func RegistryHost(imageRepository string) string {
	h, _, _ := strings.Cut(imageRepository, "/")
	return h
}

var hostPortRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)

// checkRegistryHost accepts host[:port] (a DNS name or IPv4 address); no
// scheme, path or user, which containerd's hosts folders cannot name.
func checkRegistryHost(flag, s string) error {
	if strings.Contains(s, "://") || strings.Contains(s, "/") || !hostPortRE.MatchString(s) {
		return fmt.Errorf("--%s %q: want a registry as host[:port], such as 10.0.0.5:5000 (no scheme or path)", flag, s)
	}
	if _, p, err := net.SplitHostPort(s); err == nil {
		if n, _ := strconv.Atoi(p); n < 1 || n > 65535 {
			return fmt.Errorf("--%s %q: port out of range", flag, s)
		}
	}
	return nil
}

// readRegistryCA reads and checks --registry-ca-file: PEM with at least
// one certificate, so a wrong file is refused before anything changes.
func readRegistryCA(h *Host, file string) ([]byte, error) {
	data, err := h.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", FlagRegistryCAFile, err)
	}
	rest, n := data, 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return nil, fmt.Errorf("--%s %s: certificate %d: %w", FlagRegistryCAFile, file, n+1, err)
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("--%s %s: no PEM certificate in it (want the registry's CA certificate, -----BEGIN CERTIFICATE-----)", FlagRegistryCAFile, file)
	}
	return data, nil
}

// checkRegistryOptions validates the registry flags before the install
// writes anything.
func (o *Options) checkRegistryOptions(h *Host) error {
	var errs []error
	for _, r := range o.InsecureRegistries {
		if err := checkRegistryHost(FlagInsecureRegistry, r); err != nil {
			errs = append(errs, err)
		}
	}
	if o.RegistryCAFile != "" {
		if _, err := readRegistryCA(h, o.RegistryCAFile); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RenderHostsTOML is containerd's hosts.toml for one registry: plain http
// when insecure, else https verified with caPath ("" for the system CAs).
// Only pull and resolve: the node never pushes.
func RenderHostsTOML(host string, insecure bool, caPath string) []byte {
	scheme := "https"
	if insecure {
		scheme = "http"
	}
	server := scheme + "://" + host
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by edgeadm: how containerd reaches %s.\n", host)
	fmt.Fprintf(&b, "server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", server, server)
	if caPath != "" && !insecure {
		fmt.Fprintf(&b, "  ca = %q\n", caPath)
	}
	return []byte(b.String())
}

// RenderRegistryConfigPath points containerd's CRI image service at
// RegistryHostsDir (containerd 2.x, config version 3). A config that
// already sets config_path is left alone.
func RenderRegistryConfigPath(cfg []byte) []byte {
	s := string(cfg)
	if strings.Contains(s, "config_path") {
		return cfg
	}
	section := "[plugins.'io.containerd.cri.v1.images'.registry]"
	if !strings.Contains(s, "version = 3") {
		section = `[plugins."io.containerd.grpc.v1.cri".registry]`
	}
	return []byte(strings.TrimRight(s, "\n") + "\n\n  " + section + "\n    config_path = " + strconv.Quote(RegistryHostsDir) + "\n")
}

// usesRegistry tells whether containerd needs the registry settings: an
// image-less package, or registry flags given.
func (r *Run) usesRegistry(m *bundle.Manifest) bool {
	return m.NoImages() || r.Opts.RegistryCAFile != "" || len(r.Opts.InsecureRegistries) > 0
}

// checkImageSource refuses, before anything is installed, an image-less
// package without a registry to pull from, and bad registry flags.
func (r *Run) checkImageSource(m *bundle.Manifest, pkg string) error {
	if err := r.Opts.checkRegistryOptions(r.Host); err != nil {
		return err
	}
	if host := RegistryHost(installRepository(r)); host != "" && r.Opts.RegistryCAFile != "" {
		for _, h := range r.Opts.InsecureRegistries {
			if h == host {
				return fmt.Errorf("registry %s: give --%s or --%s, not both", host, FlagRegistryCAFile, FlagInsecureRegistry)
			}
		}
	}
	if !m.NoImages() || r.Workflow != "init" {
		return nil // a joining node learns the repository from the cluster
	}
	if r.ImageRepository == "" || r.ImageRepository == DefaultImageRepository {
		return fmt.Errorf("package %s carries no images (imageSource: registry): pass --image-repository HOST[:PORT]/PATH "+
			"naming a registry that holds them (edgeops bundle inspect lists them), or use the full package", pkg)
	}
	return nil
}

// writeRegistryHosts writes hosts.toml for every --insecure-registry and,
// with --registry-ca-file, for the registry of repo (with the CA beside it).
// hosts.toml is read at each pull: containerd needs no restart.
func writeRegistryHosts(r *Run, repo string, in *Installed) error {
	write := func(p string, data []byte) error {
		if err := r.Host.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		if in != nil {
			in.Files = appendFile(in.Files, InstalledFile{Path: p, SHA256: sha256Hex(data)})
		}
		return nil
	}
	for _, h := range r.Opts.InsecureRegistries {
		if err := write(RegistryHostsDir+"/"+h+"/hosts.toml", RenderHostsTOML(h, true, "")); err != nil {
			return err
		}
		r.Host.Logf("[registry] %s: plain http (--%s)", h, FlagInsecureRegistry)
	}
	if r.Opts.RegistryCAFile == "" || repo == "" {
		return nil
	}
	host := RegistryHost(repo)
	for _, h := range r.Opts.InsecureRegistries {
		if h == host {
			return fmt.Errorf("registry %s: give --%s or --%s, not both", host, FlagRegistryCAFile, FlagInsecureRegistry)
		}
	}
	ca, err := readRegistryCA(r.Host, r.Opts.RegistryCAFile)
	if err != nil {
		return err
	}
	dir := RegistryHostsDir + "/" + host
	if err := write(dir+"/ca.crt", ca); err != nil {
		return err
	}
	if err := write(dir+"/hosts.toml", RenderHostsTOML(host, false, dir+"/ca.crt")); err != nil {
		return err
	}
	r.Host.Logf("[registry] %s: https with the CA from %s", host, r.Opts.RegistryCAFile)
	return nil
}

func appendFile(fs []InstalledFile, f InstalledFile) []InstalledFile {
	for i := range fs {
		if fs[i].Path == f.Path {
			fs[i] = f
			return fs
		}
	}
	return append(fs, f)
}

var sandboxLine = regexp.MustCompile(`(?m)^\s*sandbox(_image)?\s*=\s*["']([^"']+)["']`)

// SandboxImage is the pod sandbox (pause) image containerd's config pins.
func SandboxImage(cfg []byte) string {
	if m := sandboxLine.FindSubmatch(cfg); m != nil {
		return string(m[2])
	}
	return ""
}

// pullImage pulls an image through containerd's CRI, as the kubelet would
// (the same registry settings); the error says which flags set them.
func pullImage(ctx context.Context, h *Host, ref string) error {
	if _, err := h.Cmd.Run(ctx, "crictl", "pull", ref); err != nil {
		return fmt.Errorf("pull %s from its registry: %w (is the registry reachable from this host, and does it hold the image? "+
			"a registry with its own CA needs --%s, a plain http one --%s %s)", ref, err, FlagRegistryCAFile, FlagInsecureRegistry, RegistryHost(ref))
	}
	return nil
}

// prepareRegistryInstall is the install of an image-less package on init:
// registry settings, then the sandbox image pulled at once, so a registry
// that does not answer fails here with the flags to check, not in kubeadm.
func prepareRegistryInstall(ctx context.Context, r *Run, in *Installed) error {
	in.ImageSource = bundle.ImagesFromRegistry
	repo := installRepository(r)
	if err := writeRegistryHosts(r, repo, in); err != nil {
		return err
	}
	if repo == "" {
		r.Host.Logf("[install-package] package without images: this node pulls them from the cluster's image repository")
		return nil
	}
	cfg, err := r.Host.ReadFile("/etc/containerd/config.toml")
	if err != nil {
		return fmt.Errorf("read containerd config: %w", err)
	}
	if s := SandboxImage(cfg); s != "" {
		if err := pullImage(ctx, r.Host, s); err != nil {
			return err
		}
	}
	r.Host.Logf("[install-package] package without images: images come from %s", repo)
	return nil
}

// installRepository is the image repository known at install: init's
// --image-repository; a joining node learns it from the cluster later.
func installRepository(r *Run) string {
	if r.Workflow != "init" || r.ImageRepository == DefaultImageRepository {
		return ""
	}
	return r.ImageRepository
}

// joinRegistryImages is retag-images for an image-less package: the
// registry settings for the cluster's repository, and the sandbox image
// containerd pins (registry.k8s.io/pause:TAG, written before the node knew
// the repository) pulled from that repository and tagged with that name.
func joinRegistryImages(ctx context.Context, r *Run, in *Installed, repo string) error {
	if repo == "" || repo == DefaultImageRepository {
		r.Host.Warnf("package without images and the cluster's image repository is %s: images are pulled from there", DefaultImageRepository)
		return nil
	}
	if err := writeRegistryHosts(r, repo, in); err != nil {
		return err
	}
	cfg, err := r.Host.ReadFile("/etc/containerd/config.toml")
	if err != nil {
		return fmt.Errorf("read containerd config: %w", err)
	}
	sandbox := SandboxImage(cfg)
	from := RetagName(sandbox, repo)
	if sandbox == "" || from == "" || strings.HasPrefix(sandbox, strings.TrimSuffix(repo, "/")+"/") {
		return nil
	}
	if err := pullImage(ctx, r.Host, from); err != nil {
		return err
	}
	if _, err := r.Host.Cmd.Run(ctx, "ctr", "--namespace", "k8s.io", "images", "tag", "--force", from, sandbox); err != nil {
		return fmt.Errorf("tag image %s as %s: %w", from, sandbox, err)
	}
	in.ImageRepository = repo
	r.Host.Logf("[retag-images] images come from %s; sandbox image %s pulled as %s", repo, from, sandbox)
	return r.Host.SaveInstalled(in)
}
