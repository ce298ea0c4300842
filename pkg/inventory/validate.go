package inventory

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/pkg/contract"
)

// validator runs the checks that need decoded values. Each check names the
// field path; the collector adds the line.
type validator struct {
	inv *Inventory
	c   *collector
}

func (v *validator) fail(field, value, problem, expected string) {
	if v.c.suppressed(field) {
		return
	}
	v.c.add(field, value, problem, expected)
}

func (v *validator) validate() {
	inv := v.inv
	if inv.APIVersion != "" && inv.APIVersion != APIVersion {
		v.fail("apiVersion", inv.APIVersion, "unsupported", APIVersion)
	}
	if inv.Kind != "" && inv.Kind != Kind {
		v.fail("kind", inv.Kind, "unsupported", Kind)
	}
	v.cluster()
	v.ssh("ssh", &inv.SSH)
	v.hosts()
	v.concurrency()
}

// explicitZeros catches ports and limits written as 0, before defaults hide them.
func (v *validator) explicitZeros() {
	inv := v.inv
	zero := func(field string, val int) {
		if val == 0 && v.c.explicit(field) {
			v.fail(field, "0", "out of range", "1 to 65535 (or leave it out for the default)")
		}
	}
	bastions := func(field string, b *Bastion) {
		for depth := 0; b != nil && depth < maxBastionDepth; b, depth = b.Bastion, depth+1 {
			field += ".bastion"
			zero(field+".port", b.Port)
		}
	}
	zero("ssh.port", inv.SSH.Port)
	bastions("ssh", inv.SSH.Bastion)
	for i, h := range inv.Hosts {
		if h == nil {
			continue
		}
		zero(fmt.Sprintf("hosts[%d].port", i), h.Port)
		if h.SSH != nil {
			zero(fmt.Sprintf("hosts[%d].ssh.port", i), h.SSH.Port)
			bastions(fmt.Sprintf("hosts[%d].ssh", i), h.SSH.Bastion)
		}
	}
	for _, f := range []string{"concurrency.limit", "concurrency.uploads"} {
		val := inv.Concurrency.Limit
		if f == "concurrency.uploads" {
			val = inv.Concurrency.Uploads
		}
		if val == 0 && v.c.explicit(f) {
			v.fail(f, "0", "out of range", "at least 1 (or leave it out for the default)")
		}
	}
}

func (v *validator) cluster() {
	c := &v.inv.Cluster
	if !dnsLabelRE.MatchString(c.Name) {
		v.fail("cluster.name", c.Name, "invalid", "a DNS label: lower-case letters, digits and '-', at most 63")
	}
	if !versionRE.MatchString(c.KubernetesVersion) {
		v.fail("cluster.kubernetesVersion", c.KubernetesVersion, "invalid", "a version such as "+bundles.KubernetesVersion())
	}
	if !imageRepoRE.MatchString(c.ImageRepository) {
		v.fail("cluster.imageRepository", c.ImageRepository, "invalid",
			"a registry and path without scheme, such as registry.k8s.io or registry.example.com:5000/k8s")
	}
	pod := v.cidr("cluster.podCIDR", c.PodCIDR)
	svc := v.cidr("cluster.serviceCIDR", c.ServiceCIDR)
	if pod.IsValid() && pod.Addr().Is4() && pod.Bits() > 24 {
		v.fail("cluster.podCIDR", c.PodCIDR, "too small", "a network of /24 or larger (each node gets a /24)")
	}
	if svc.IsValid() && ((svc.Addr().Is4() && svc.Bits() < 12) || (svc.Addr().Is6() && svc.Bits() < 108)) {
		v.fail("cluster.serviceCIDR", c.ServiceCIDR, "too large", "a prefix of /12 or longer (IPv6: /108 or longer), as the API server requires")
	}
	if pod.IsValid() && svc.IsValid() {
		if pod.Addr().Is4() != svc.Addr().Is4() {
			v.fail("cluster.serviceCIDR", c.ServiceCIDR, "different IP family from cluster.podCIDR "+c.PodCIDR, "both IPv4 or both IPv6")
		} else if pod.Overlaps(svc) {
			v.fail("cluster.serviceCIDR", c.ServiceCIDR, "overlaps cluster.podCIDR "+c.PodCIDR, "separate pod and service networks")
		}
	}
	v.endpoint(pod, svc)
	v.vip(pod, svc)
	for i, san := range c.APIServerCertExtraSANs {
		if !isSAN(san) {
			v.fail(fmt.Sprintf("cluster.apiserverCertExtraSANs[%d]", i), san, "invalid", "an IP address or DNS name")
		}
	}
	v.installPackage()
	if s := c.EdgeEvictionTolerationSeconds; s != nil && *s < 1 {
		v.fail("cluster.edgeEvictionTolerationSeconds", fmt.Sprint(*s), "out of range", "at least 1 second (or leave it out for the default, 86400: a day)")
	}
	if c.EdgeManifestsDir != "" {
		v.edgeManifestsDir(c.EdgeManifestsDir)
	}
	if c.CNIManifest != "" {
		v.localFile("cluster.cniManifest", c.CNIManifest)
	}
	if rb := c.ContainerRuntime.RuntimeBinary; rb != "" && (!strings.HasPrefix(rb, "/") || strings.ContainsAny(rb, " \t\n")) {
		v.fail("cluster.containerRuntime.runtimeBinary", rb, "invalid", "an absolute path on the hosts, such as /usr/local/sbin/runc")
	}
	if c.ContainerRuntime.RegistryCAFile != "" {
		v.localFile("cluster.containerRuntime.registryCAFile", c.ContainerRuntime.RegistryCAFile)
	}
	for i, r := range c.ContainerRuntime.InsecureRegistries {
		// A registry host as containerd's certs.d names it: imageRepository's first element.
		if strings.Contains(r, "/") || !imageRepoRE.MatchString(r) {
			v.fail(fmt.Sprintf("cluster.containerRuntime.insecureRegistries[%d]", i), r, "invalid", "a registry host[:port] without scheme or path, such as 10.0.0.5:5000")
		}
	}
	if c.Kubeadm.PatchesDir != "" {
		v.localDir("cluster.kubeadm.patchesDir", c.Kubeadm.PatchesDir)
	}
	v.kubeadmArgs("cluster.kubeadm.initArgs", c.Kubeadm.InitArgs)
	v.kubeadmArgs("cluster.kubeadm.joinArgs", c.Kubeadm.JoinArgs)
}

func (v *validator) cidr(field, s string) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		v.fail(field, s, "invalid CIDR", "a network such as 10.244.0.0/16")
		return netip.Prefix{}
	}
	if p.Masked() != p {
		v.fail(field, s, "has host bits set", "the network address "+p.Masked().String())
		return netip.Prefix{}
	}
	return p
}

func (v *validator) endpoint(pod, svc netip.Prefix) {
	ep := v.inv.Cluster.ControlPlaneEndpoint
	const field = "cluster.controlPlaneEndpoint"
	if ep == "" {
		if n := len(v.inv.Masters()); n > 1 {
			v.fail(field, "", fmt.Sprintf("missing with %d masters", n),
				"a VIP or DNS name in front of the masters (host or host:port), used by every node")
		}
		return
	}
	host, port := ep, ""
	if h, p, err := net.SplitHostPort(ep); err == nil {
		host, port = h, p
	}
	n, perr := strconv.Atoi(port)
	if !isHostAddress(host) || (port != "" && perr != nil) {
		v.fail(field, ep, "invalid", "an IP address or DNS name, optionally with :port")
		return
	}
	if port != "" && (n < 1 || n > 65535) {
		v.fail(field, ep, "port out of range", "a port from 1 to 65535")
	}
	v.outsideClusterNets(field, host, pod, svc)
}

// vip checks the managed VIP: an IPv4 address (it is announced with ARP),
// the control-plane endpoint's host, and no host's own address. That it lies
// in the masters' subnet is checked on the masters (preflight).
func (v *validator) vip(pod, svc netip.Prefix) {
	c := v.inv.Cluster
	if c.VIP == nil {
		return
	}
	const field = "cluster.vip.address"
	a, err := netip.ParseAddr(c.VIP.Address)
	if err != nil || !a.Is4() || a.IsLoopback() || a.IsUnspecified() || a.IsMulticast() {
		v.fail(field, c.VIP.Address, "invalid", "an unused IPv4 address on the masters' network (edge-vip announces it with ARP)")
		return
	}
	if c.VIP.Interface != "" && !ifaceRE.MatchString(c.VIP.Interface) {
		v.fail("cluster.vip.interface", c.VIP.Interface, "invalid", "a network interface name such as eth0 (or leave it out to use the one in the VIP's subnet)")
	}
	host := c.ControlPlaneEndpoint
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !sameAddress(host, c.VIP.Address) {
		v.fail("cluster.controlPlaneEndpoint", c.ControlPlaneEndpoint, "is not cluster.vip.address "+c.VIP.Address,
			"the VIP (host or host:port), or leave controlPlaneEndpoint out: it defaults to the VIP")
	}
	for i, h := range v.inv.Hosts {
		if h != nil && (sameAddress(h.Address, c.VIP.Address) || sameAddress(h.AdvertiseAddress(), c.VIP.Address)) {
			v.fail(field, c.VIP.Address, fmt.Sprintf("is the address of hosts[%d]", i), "an address no host has: the VIP moves between masters")
		}
	}
	if len(v.inv.Masters()) == 0 {
		v.fail(field, c.VIP.Address, "set without a master", "at least one host with role master")
	}
	v.outsideClusterNets(field, c.VIP.Address, pod, svc)
}

// ifaceRE is a Linux interface name (at most 15 bytes, no '/' or space).
var ifaceRE = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{1,15}$`)

// Warnings are what is valid but unwise in the inventory, one sentence each.
func (inv *Inventory) Warnings() []string {
	var w []string
	if n := len(inv.Masters()); n > 1 && n%2 == 0 {
		w = append(w, fmt.Sprintf("%d masters: etcd needs a majority (%d of %d) to work, so %d masters survive no more failures than %d; use an odd number (3 or 5)",
			n, n/2+1, n, n, n-1))
	}
	return w
}

// outsideClusterNets flags a host-network address that falls in the pod or service network.
func (v *validator) outsideClusterNets(field, addr string, pod, svc netip.Prefix) {
	a, ok := addrOf(addr)
	if !ok {
		return
	}
	for _, n := range []struct {
		name string
		p    netip.Prefix
	}{{"cluster.podCIDR", pod}, {"cluster.serviceCIDR", svc}} {
		if n.p.IsValid() && n.p.Contains(a) {
			v.fail(field, addr, "overlaps "+n.name+" "+n.p.String(),
				"host addresses outside the pod and service networks (change the host network or the CIDR)")
		}
	}
}

func (v *validator) installPackage() {
	p := v.inv.Cluster.InstallPackage
	const field = "cluster.installPackage"
	switch {
	case p.Path == "" && p.URL == "":
		v.fail(field, "", "missing", "path: a local install package file, or url: an http(s) URL (build one with `make bundle`)")
	case p.Path != "" && p.URL != "":
		v.fail(field, "", "both path and url set", "one of path or url")
	case p.URL != "":
		src, err := contract.ParseSource(p.URL)
		switch {
		case err != nil || !src.IsURL():
			shown := p.URL
			if strings.Contains(shown, "@") {
				shown = "<redacted>" // it may hold a password
			}
			v.fail(field+".url", shown, "invalid", "an http://, https:// or ftp:// URL naming the package file")
		case hasPassword(src):
			// A password would sit in plain text in the inventory (a user name alone is fine).
			v.fail(field+".url", "<redacted>", "credentials in the URL are not allowed",
				"a URL the hosts can fetch without credentials (e.g. a mirror on the cluster network, anonymous ftp)")
		case p.SHA256 == "" && src.NeedsChecksum():
			// The package runs as root on every host: without TLS only its sha256 vouches for it.
			v.fail(field+".sha256", "", "missing",
				"the package's sha256 (sha256sum FILE): a plain "+string(src.Kind)+":// download has no TLS, the checksum is what vouches for it")
		case p.SHA256 == "":
			v.fail(field+".sha256", "", "missing",
				"the package's sha256 (sha256sum FILE): each host checks what it downloads")
		}
	default:
		v.localFile(field+".path", p.Path)
	}
	if p.SHA256 != "" && !sha256RE.MatchString(p.SHA256) {
		v.fail(field+".sha256", p.SHA256, "invalid", "64 hexadecimal digits (sha256sum of the package)")
	}
}

// hasPassword reports a URL with a password in it.
func hasPassword(s contract.Source) bool {
	_, ok := s.URL.User.Password()
	return ok
}

// kubeadmArgs checks pass-through flags: well formed, not ones edgeops sets, no secrets.
func (v *validator) kubeadmArgs(field string, args []string) {
	owned := map[string]string{
		"config": "edgeops writes kubeadm's configuration", "control-plane": "set by the host's role",
		"upload-certs": "set by edgeops for several masters", "skip-token-print": "always set by edgeops",
		"kubernetes-version": "cluster.kubernetesVersion", "image-repository": "cluster.imageRepository",
		"pod-network-cidr": "cluster.podCIDR", "service-cidr": "cluster.serviceCIDR",
		"control-plane-endpoint": "cluster.controlPlaneEndpoint", "apiserver-cert-extra-sans": "cluster.apiserverCertExtraSANs",
		"apiserver-advertise-address": "hosts[].apiserverAdvertiseAddress", "node-name": "hosts[].hostname",
		"patches": "cluster.kubeadm.patchesDir",
	}
	secret := map[string]bool{"token": true, "certificate-key": true, "discovery-token": true,
		"tls-bootstrap-token": true, "discovery-token-ca-cert-hash": true}
	for i, a := range args {
		f := fmt.Sprintf("%s[%d]", field, i)
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		// As kubeadm's flag parsing may read it (--certificate_key is
		// --certificate-key), and so that no spelling slips a secret past.
		name = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), "_", "-"))
		switch {
		case secret[name]:
			// Never echo it: the value is a secret.
			v.fail(f, "--"+name, "a secret on the command line is not allowed",
				"nothing: edgeops passes tokens and keys to edgeadm in a root-only file")
		case !strings.HasPrefix(a, "--") || name == "":
			// Not echoed: a value standing alone may be the secret of the
			// flag before it (["--token", "abcdef.…"]).
			v.fail(f, notAFlag, "invalid", "a kubeadm flag written --name=value, value and flag in one element")
		case owned[name] != "":
			v.fail(f, "--"+name, "set by edgeops", owned[name])
		}
	}
}

func (v *validator) concurrency() {
	c := v.inv.Concurrency
	if c.Limit < 1 || c.Limit > 1000 {
		v.fail("concurrency.limit", strconv.Itoa(c.Limit), "out of range", "1 to 1000")
	}
	if c.Uploads < 1 || c.Uploads > 100 {
		v.fail("concurrency.uploads", strconv.Itoa(c.Uploads), "out of range", "1 to 100")
	}
}

func (v *validator) port(field string, p int) {
	if p < 0 || p > 65535 {
		v.fail(field, strconv.Itoa(p), "out of range", "1 to 65535")
	}
}

// localFile checks a local regular file exists.
func (v *validator) localFile(field, path string) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		v.fail(field, path, "file not found", "an existing local file (relative paths start at the inventory's folder)")
	case !st.Mode().IsRegular():
		v.fail(field, path, "not a regular file", "a local file")
	}
}

func (v *validator) localDir(field, path string) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		v.fail(field, path, "folder not found", "an existing local folder (relative paths start at the inventory's folder)")
	case !st.IsDir():
		v.fail(field, path, "not a folder", "a local folder")
	}
}

// privateFile checks a key or secret file exists and only its owner can read it.
func (v *validator) privateFile(field, path string) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		v.fail(field, path, "file not found", "an existing file (relative paths start at the inventory's folder)")
	case !st.Mode().IsRegular():
		v.fail(field, path, "not a regular file", "a key or secret file")
	case st.Mode().Perm()&0o077 != 0:
		v.fail(field, path, fmt.Sprintf("is group/world accessible (mode %04o)", st.Mode().Perm()),
			"mode 0600: run chmod 600 "+path)
	}
}
