package agent

import (
	"crypto/x509"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	certutil "k8s.io/client-go/util/cert"
	kubeadmapi "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm"
	"k8s.io/kubernetes/cmd/kubeadm/app/util/pkiutil"

	"github.com/edgeops/edgeops/pkg/contract"
)

// edgeProxyPKIValidity: the node-local CA and serving certificate outlive
// the node (nothing rotates them; a re-join makes new ones if they expire).
const edgeProxyPKIValidity = 10 * 365 * 24 * time.Hour

// ensureEdgeProxyPKI makes the node-local CA and edge-proxy's serving
// certificate (127.0.0.1, localhost), keeping valid ones from an earlier run.
// The CA signs nothing else; its key stays in the root-only folder.
func ensureEdgeProxyPKI(h *Host) (created bool, err error) {
	dir := h.Path(filepath.Dir(contract.EdgeProxyCAFile))
	if c, _, err := pkiutil.TryLoadCertAndKeyFromDisk(dir, "serving"); err == nil && time.Until(c.NotAfter) > 30*24*time.Hour {
		if ca, err := pkiutil.TryLoadCertFromDisk(dir, "ca"); err == nil && c.CheckSignatureFrom(ca) == nil {
			return false, nil
		}
	}
	notAfter := time.Now().Add(edgeProxyPKIValidity)
	ca, caKey, err := pkiutil.NewCertificateAuthority(&pkiutil.CertConfig{
		Config:              certutil.Config{CommonName: "edge-proxy-ca@" + hostnameOr(h, "node")},
		NotAfter:            notAfter,
		EncryptionAlgorithm: kubeadmapi.EncryptionAlgorithmECDSAP256,
	})
	if err != nil {
		return false, fmt.Errorf("edge-proxy node-local CA: %w", err)
	}
	cert, key, err := pkiutil.NewCertAndKey(ca, caKey, &pkiutil.CertConfig{
		Config: certutil.Config{
			CommonName: "edge-proxy",
			AltNames:   certutil.AltNames{IPs: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}},
			Usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		},
		NotAfter:            notAfter,
		EncryptionAlgorithm: kubeadmapi.EncryptionAlgorithmECDSAP256,
	})
	if err != nil {
		return false, fmt.Errorf("edge-proxy serving certificate: %w", err)
	}
	if err := mkdirPrivate(h, contract.EdgeProxyConfigDir, filepath.Dir(contract.EdgeProxyCAFile)); err != nil {
		return false, err
	}
	if err := pkiutil.WriteCertAndKey(dir, "ca", ca, caKey); err != nil {
		return false, fmt.Errorf("write %s: %w", contract.EdgeProxyCAFile, err)
	}
	if err := pkiutil.WriteCertAndKey(dir, "serving", cert, key); err != nil {
		return false, fmt.Errorf("write %s: %w", contract.EdgeProxyServingCert, err)
	}
	return true, nil
}

func hostnameOr(h *Host, def string) string {
	if b, err := h.ReadFile("/etc/hostname"); err == nil {
		if n := strings.TrimSpace(string(b)); n != "" {
			return n
		}
	}
	return def
}

// mkdirPrivate makes dir and its parent top root-only (0700), whatever
// modes they had: top is a component's config folder (/etc/edge-proxy,
// /etc/edge-tunnel), dir a folder in it (or top itself).
func mkdirPrivate(h *Host, top, dir string) error {
	if err := mkdirRootOnly(h, top); err != nil {
		return err
	}
	return mkdirRootOnly(h, dir)
}
