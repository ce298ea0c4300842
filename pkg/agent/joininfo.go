package agent

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	bootstraptokenv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/bootstraptoken/v1"
	tokenphase "k8s.io/kubernetes/cmd/kubeadm/app/phases/bootstraptoken/node"
	"k8s.io/kubernetes/cmd/kubeadm/app/phases/copycerts"
	configutil "k8s.io/kubernetes/cmd/kubeadm/app/util/config"
	"k8s.io/kubernetes/cmd/kubeadm/app/util/pubkeypin"

	"github.com/edgeops/edgeops/pkg/joininfo"
)

// certsTTL is how long kubeadm keeps uploaded control-plane certificates
// (the kubeadm-certs Secret is owned by a token that lives this long).
const certsTTL = 2 * time.Hour

// DefaultTokenTTL is kubeadm's default bootstrap token lifetime.
const DefaultTokenTTL = 24 * time.Hour

// InitSecrets are the secrets init chose, for the join information.
type InitSecrets struct {
	Token          string
	TokenTTL       time.Duration
	CertificateKey string
}

// clusterIdentity reads the API endpoint and CA hash from a kubeconfig.
func clusterIdentity(kubeconfig string) (endpoint string, caHash string, err error) {
	kc, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return "", "", fmt.Errorf("read %s: %w", kubeconfig, err)
	}
	ctx, ok := kc.Contexts[kc.CurrentContext]
	if !ok {
		return "", "", fmt.Errorf("%s: no current context", kubeconfig)
	}
	cl, ok := kc.Clusters[ctx.Cluster]
	if !ok {
		return "", "", fmt.Errorf("%s: no cluster %q", kubeconfig, ctx.Cluster)
	}
	u, err := url.Parse(cl.Server)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("%s: server %q is not a URL", kubeconfig, cl.Server)
	}
	block, _ := pem.Decode(cl.CertificateAuthorityData)
	if block == nil {
		return "", "", fmt.Errorf("%s: no certificate-authority-data", kubeconfig)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", "", fmt.Errorf("%s: CA certificate: %w", kubeconfig, err)
	}
	return u.Host, pubkeypin.Hash(ca), nil
}

// buildJoinInfo assembles the join information from what init or token create chose.
func buildJoinInfo(ctx context.Context, h *Host, s InitSecrets) (joininfo.Info, error) {
	endpoint, hash, err := clusterIdentity(h.Path(AdminKubeconfig))
	if err != nil {
		return joininfo.Info{}, err
	}
	info := joininfo.Info{APIServerEndpoint: endpoint, Token: s.Token, CACertHashes: []string{hash}, CertificateKey: s.CertificateKey}
	ttl := s.TokenTTL
	if s.CertificateKey != "" && (ttl == 0 || ttl > certsTTL) {
		ttl = certsTTL
	}
	if ttl > 0 {
		info.TokenExpires = time.Now().UTC().Add(ttl).Truncate(time.Second)
	}
	if c, _, err := clients(h.Path(AdminKubeconfig)); err == nil {
		if cc, err := clusterConfig(ctx, c); err == nil {
			info.KubernetesVersion = cc.KubernetesVersion
		}
	}
	return info, info.Validate()
}

// WriteJoinInfo writes the join information init chose (root-only).
func WriteJoinInfo(ctx context.Context, h *Host, path string, s InitSecrets) error {
	info, err := buildJoinInfo(ctx, h, s)
	if err != nil {
		return fmt.Errorf("join information: %w", err)
	}
	if err := joininfo.WriteFile(h.Path(path), info); err != nil {
		return err
	}
	h.Logf("[join-info] wrote %s (0600): %s", path, info)
	return nil
}

// MintJoinInfo creates a fresh bootstrap token (and, with uploadCerts, a new
// certificate key with the control-plane certificates re-uploaded) and
// writes the join information. Run on a control-plane node.
func MintJoinInfo(ctx context.Context, h *Host, path string, uploadCerts bool, ttl time.Duration, description string) error {
	c, _, err := clients(h.Path(AdminKubeconfig))
	if err != nil {
		return err
	}
	tok, err := bootstraputil.GenerateBootstrapToken()
	if err != nil {
		return fmt.Errorf("generate token: %w", err)
	}
	bts, err := bootstraptokenv1.NewBootstrapTokenString(tok)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	bt := bootstraptokenv1.BootstrapToken{
		Token: bts, TTL: &metav1.Duration{Duration: ttl}, Description: description,
		Usages: []string{"signing", "authentication"},
		Groups: []string{"system:bootstrappers:kubeadm:default-node-token"},
	}
	if err := tokenphase.CreateNewTokens(c, []bootstraptokenv1.BootstrapToken{bt}); err != nil {
		return fmt.Errorf("create bootstrap token: %w", err)
	}
	s := InitSecrets{Token: tok, TokenTTL: ttl}
	if uploadCerts {
		cfg, err := configutil.FetchInitConfigurationFromCluster(c, quietPrinter{}, "upload-certs", false, false, false, false)
		if err != nil {
			return fmt.Errorf("read kubeadm-config: %w", err)
		}
		key, err := copycerts.CreateCertificateKey()
		if err != nil {
			return fmt.Errorf("create certificate key: %w", err)
		}
		if err := copycerts.UploadCerts(c, cfg, key); err != nil {
			return fmt.Errorf("upload control-plane certificates: %w", err)
		}
		s.CertificateKey = key
	}
	return WriteJoinInfo(ctx, h, path, s)
}
