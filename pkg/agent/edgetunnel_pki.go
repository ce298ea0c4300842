package agent

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
	kubeadmapi "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm"
	kubeconfigutil "k8s.io/kubernetes/cmd/kubeadm/app/util/kubeconfig"
	"k8s.io/kubernetes/cmd/kubeadm/app/util/pkiutil"

	"github.com/edgeops/edgeops/pkg/contract"
)

// clusterPKIDir is kubeadm's certificate folder on a master.
const clusterPKIDir = "/etc/kubernetes/pki"

// tunnelServerPKI makes what an edge-tunnel server needs from the cluster
// CA on this master: its serving certificate for agents (every address of
// the host and its name) and its kubeconfig for the local API server. Both
// are signed until the CA itself expires, so nothing needs rotating before
// the cluster's CA does. Valid ones from an earlier run are kept.
func tunnelServerPKI(h *Host, nodeName string) (changed bool, err error) {
	pki := h.Path(clusterPKIDir)
	ca, caKey, err := pkiutil.TryLoadCertAndKeyFromDisk(pki, "ca")
	if err != nil {
		return false, fmt.Errorf("the cluster CA (%s/ca.crt, ca.key) is needed to sign edge-tunnel's certificates: %w", clusterPKIDir, err)
	}
	ips, names := hostSANs(h, nodeName)
	dir := h.Path(filepath.Dir(contract.EdgeTunnelServingCert))
	if !servingCertCovers(dir, ca, ips, names) {
		cert, key, err := pkiutil.NewCertAndKey(ca, caKey, &pkiutil.CertConfig{
			Config: certutil.Config{
				CommonName: "edge-tunnel-server@" + nodeName,
				AltNames:   certutil.AltNames{IPs: ips, DNSNames: names},
				Usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			},
			NotAfter:            ca.NotAfter,
			EncryptionAlgorithm: kubeadmapi.EncryptionAlgorithmECDSAP256,
		})
		if err != nil {
			return false, fmt.Errorf("edge-tunnel serving certificate: %w", err)
		}
		if err := mkdirPrivate(h, contract.EdgeTunnelConfigDir, filepath.Dir(contract.EdgeTunnelServingCert)); err != nil {
			return false, err
		}
		if err := pkiutil.WriteCertAndKey(dir, "server", cert, key); err != nil {
			return false, fmt.Errorf("write %s: %w", contract.EdgeTunnelServingCert, err)
		}
		changed = true
	}
	kcChanged, err := localAPIKubeconfig(h, contract.EdgeTunnelKubeconfig, contract.EdgeTunnelServerUser, ca, caKey)
	return changed || kcChanged, err
}

// localAPIKubeconfig writes a master-local component's credential toward
// this master's own API server (at the address kubeadm gave its controller
// manager, so the component never depends on another master): a client
// certificate for user, no group, signed by the cluster CA. RBAC grants the
// user what it needs. A valid one is kept.
func localAPIKubeconfig(h *Host, path, user string, ca *x509.Certificate, caKey crypto.Signer) (changed bool, err error) {
	local, err := clientcmd.LoadFromFile(h.Path(controllerManagerKubeconfig))
	if err != nil {
		return false, fmt.Errorf("read %s (the local API endpoint): %w", controllerManagerKubeconfig, err)
	}
	server := ""
	for _, c := range local.Clusters {
		server = c.Server
	}
	if server == "" {
		return false, fmt.Errorf("%s names no API server", controllerManagerKubeconfig)
	}
	if kubeconfigCurrent(h.Path(path), server, ca) {
		return false, nil
	}
	cert, key, err := pkiutil.NewCertAndKey(ca, caKey, &pkiutil.CertConfig{
		Config:              certutil.Config{CommonName: user, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		NotAfter:            ca.NotAfter,
		EncryptionAlgorithm: kubeadmapi.EncryptionAlgorithmECDSAP256,
	})
	if err != nil {
		return false, fmt.Errorf("client certificate for %s: %w", user, err)
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return false, fmt.Errorf("client key for %s: %w", user, err)
	}
	kc := kubeconfigutil.CreateWithCerts(server, "kubernetes", user, pkiutil.EncodeCertPEM(ca), keyPEM, pkiutil.EncodeCertPEM(cert))
	if err := mkdirRootOnly(h, filepath.Dir(path)); err != nil {
		return false, err
	}
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return false, fmt.Errorf("encode %s: %w", path, err)
	}
	if err := h.WriteFile(path, data, 0o600); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

// kubeconfigCurrent reports whether the kubeconfig at path points at server
// with a client certificate from ca that has 30 days left.
func kubeconfigCurrent(path, server string, ca *x509.Certificate) bool {
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return false
	}
	for _, c := range kc.Clusters {
		if c.Server != server {
			return false
		}
	}
	for _, a := range kc.AuthInfos {
		certs, err := certutil.ParseCertsPEM(a.ClientCertificateData)
		if err != nil || len(certs) == 0 || certs[0].CheckSignatureFrom(ca) != nil || time.Until(certs[0].NotAfter) < 30*24*time.Hour {
			return false
		}
	}
	return len(kc.AuthInfos) > 0
}

// servingCertCovers reports whether the serving certificate on disk is
// signed by ca, names every address and name, and has 30 days left.
func servingCertCovers(dir string, ca *x509.Certificate, ips []net.IP, names []string) bool {
	c, _, err := pkiutil.TryLoadCertAndKeyFromDisk(dir, "server")
	if err != nil || c.CheckSignatureFrom(ca) != nil || time.Until(c.NotAfter) < 30*24*time.Hour {
		return false
	}
	for _, ip := range ips {
		if c.VerifyHostname(ip.String()) != nil {
			return false
		}
	}
	for _, n := range names {
		if c.VerifyHostname(n) != nil {
			return false
		}
	}
	return true
}

// hostSANs are this host's global unicast addresses and its names: agents
// dial a master by the address its API server advertises.
func hostSANs(h *Host, nodeName string) ([]net.IP, []string) {
	var ips []net.IP
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() {
				ips = append(ips, n.IP)
			}
		}
	}
	var names []string
	for _, n := range []string{nodeName, hostnameOr(h, "")} {
		if n != "" && !contains(names, n) {
			names = append(names, n)
		}
	}
	return ips, names
}

// mkdirRootOnly makes a folder and makes it 0700.
func mkdirRootOnly(h *Host, dir string) error {
	if err := os.MkdirAll(h.Path(dir), 0o700); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	if err := os.Chmod(h.Path(dir), 0o700); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return nil
}
