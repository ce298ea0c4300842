package inventory

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeops/edgeops/bundles"
)

// ApplyDefaults fills empty fields with their defaults and makes local paths
// absolute: "~/" is the user's home, a relative path is relative to the
// inventory file's folder (the working directory when File is empty).
// Calling it twice changes nothing.
func (inv *Inventory) ApplyDefaults() {
	c := &inv.Cluster
	setDefault(&c.Name, DefaultClusterName)
	// The default version is the default package's (bundles/versions.yaml).
	setDefault(&c.KubernetesVersion, bundles.KubernetesVersion())
	setDefault(&c.ImageRepository, DefaultImageRepository)
	setDefault(&c.PodCIDR, DefaultPodCIDR)
	setDefault(&c.ServiceCIDR, DefaultServiceCIDR)
	if c.VIP != nil && c.ControlPlaneEndpoint == "" && c.VIP.Address != "" {
		c.ControlPlaneEndpoint = c.VIP.Address
	}
	if c.EnableEdge == nil {
		t := true
		c.EnableEdge = &t
	}
	c.InstallPackage.SHA256 = strings.ToLower(c.InstallPackage.SHA256)

	s := &inv.SSH
	setDefault(&s.User, DefaultSSHUser)
	if s.Port == 0 {
		s.Port = DefaultSSHPort
	}
	setDefault(&s.KnownHosts, DefaultKnownHosts)
	if s.HostKeyPolicy == "" {
		s.HostKeyPolicy = HostKeyStrict
	}
	if inv.Concurrency.Limit == 0 {
		inv.Concurrency.Limit = DefaultConcurrency
	}
	if inv.Concurrency.Uploads == 0 {
		inv.Concurrency.Uploads = DefaultUploads
	}
	inv.resolvePaths()
}

func setDefault(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

func (inv *Inventory) resolvePaths() {
	base := ""
	if inv.File != "" {
		base = filepath.Dir(inv.File)
	} else if wd, err := os.Getwd(); err == nil {
		base = wd
	}
	r := func(p *string) { *p = resolvePath(base, *p) }
	c := &inv.Cluster
	r(&c.InstallPackage.Path)
	r(&c.EdgeManifestsDir)
	r(&c.CNIManifest)
	r(&c.ContainerRuntime.RegistryCAFile)
	r(&c.Kubeadm.PatchesDir)
	resolveSSH(&inv.SSH, r)
	for _, h := range inv.Hosts {
		if h != nil && h.SSH != nil {
			resolveSSH(h.SSH, r)
		}
	}
}

func resolveSSH(s *SSH, r func(*string)) {
	for i := range s.IdentityFiles {
		r(&s.IdentityFiles[i])
	}
	r(&s.PasswordFile)
	r(&s.KnownHosts)
	if s.Sudo != nil {
		r(&s.Sudo.PasswordFile)
	}
	for b, depth := s.Bastion, 0; b != nil && depth < maxBastionDepth; b, depth = b.Bastion, depth+1 {
		for i := range b.IdentityFiles {
			r(&b.IdentityFiles[i])
		}
		r(&b.PasswordFile)
	}
}

// resolvePath expands "~" and anchors a relative path at base. Empty stays empty.
func resolvePath(base, p string) string {
	if p == "" {
		return ""
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	if !filepath.IsAbs(p) && base != "" {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}
