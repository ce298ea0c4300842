package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/edgeops/edgeops/pkg/contract"
)

// EdgeProxyURL is where the kubelet, kube-proxy and flannel of an edge node reach the API.
const EdgeProxyURL = contract.EdgeProxyURL

// EdgeProxyWait bounds the wait for edge-proxy to answer through to an API server.
const EdgeProxyWait = 60 * time.Second

// EdgeNode sets up an edge node after join: edge-proxy (node-local CA and
// serving certificate, config, unit), and once it answers /readyz through
// to an API server, the kubelet is switched to it. Until then, or when the
// package has no edge-proxy, the kubelet keeps talking to the API server
// directly and a warning says why. Running it again changes nothing.
func EdgeNode(ctx context.Context, r *Run) error {
	if !r.Opts.EnableEdge || r.Role != RoleEdge {
		r.Host.Logf("[edge] not an edge node (role %s): nothing to do", r.Role)
		return nil
	}
	h := r.Host
	if r.Opts.EdgeManifestsDir != "" {
		// The edge YAML is the cluster's (applied by init); a join only checked the folder.
		h.Logf("[edge] --%s %s: checked; the edge components' YAML is applied once for the cluster by edgeadm init, not on a joining node", FlagEdgeManifestsDir, r.Opts.EdgeManifestsDir)
	}
	if !h.Exists(contract.EdgeProxyBinary) || !h.Exists(contract.EdgeProxyUnitPath) {
		h.Warnf("the install package has no edge-proxy (%s, %s): the kubelet talks to the API server directly, without autonomy", contract.EdgeProxyBinary, contract.EdgeProxyUnitPath)
		return nil
	}
	kc, err := clientcmd.LoadFromFile(h.Path(KubeletKubeconfig))
	if err != nil {
		return fmt.Errorf("read %s: %w", KubeletKubeconfig, err)
	}
	cfg := contract.EdgeProxyConfig{NodeName: r.NodeName}
	if cfg.NodeName == "" {
		cfg.NodeName = hostnameOr(h, "")
	}
	if prev, err := h.ReadFile(contract.EdgeProxyConfigFile); err == nil {
		// A re-run: keep the servers the first run found (kubelet.conf names edge-proxy now).
		var old contract.EdgeProxyConfig
		if yaml.Unmarshal(prev, &old) == nil {
			cfg.Servers = old.Servers
		}
	}
	for _, cl := range kc.Clusters {
		if cl.Server != EdgeProxyURL && !contains(cfg.Servers, cl.Server) {
			cfg.Servers = append(cfg.Servers, cl.Server)
		}
	}
	if len(cfg.Servers) == 0 {
		return fmt.Errorf("%s names no API server, and %s none from an earlier run", KubeletKubeconfig, contract.EdgeProxyConfigFile)
	}
	created, err := ensureEdgeProxyPKI(h)
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := mkdirPrivate(h, contract.EdgeProxyConfigDir, contract.EdgeProxyConfigDir); err != nil {
		return err
	}
	if err := h.WriteFile(contract.EdgeProxyConfigFile, data, 0o600); err != nil {
		return err
	}
	for _, args := range [][]string{{"daemon-reload"}, {"enable", contract.EdgeProxyUnit}, {"restart", contract.EdgeProxyUnit}} {
		if _, err := h.Cmd.Run(ctx, "systemctl", args...); err != nil {
			return fmt.Errorf("systemctl %v: %w", args, err)
		}
	}
	ca, err := h.ReadFile(contract.EdgeProxyCAFile)
	if err != nil {
		return err
	}
	if err := waitHealthy(ctx, ca, EdgeProxyURL+"/readyz", EdgeProxyWait); err != nil {
		h.Warnf("edge-proxy did not answer %s/readyz within %s (%v): the kubelet keeps talking to %v directly; see journalctl -u %s",
			EdgeProxyURL, EdgeProxyWait, err, cfg.Servers, contract.EdgeProxyUnit)
		return nil
	}
	switched := false
	for _, cl := range kc.Clusters {
		if cl.Server != EdgeProxyURL || string(cl.CertificateAuthorityData) != string(ca) || created {
			cl.Server, cl.CertificateAuthorityData, cl.CertificateAuthority = EdgeProxyURL, ca, ""
			switched = true
		}
	}
	if !switched {
		h.Logf("[edge] edge-proxy answers at %s (servers %v); the kubelet already talks to it", EdgeProxyURL, cfg.Servers)
		return nil
	}
	if err := clientcmd.WriteToFile(*kc, h.Path(KubeletKubeconfig)); err != nil {
		return fmt.Errorf("switch the kubelet to edge-proxy: %w", err)
	}
	if _, err := h.Cmd.Run(ctx, "systemctl", "restart", "kubelet.service"); err != nil {
		return fmt.Errorf("restart kubelet: %w", err)
	}
	h.Logf("[edge] the kubelet now talks to edge-proxy at %s (servers %v; it follows the cluster's API servers and caches for offline use)", EdgeProxyURL, cfg.Servers)
	return nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// waitHealthy polls a health URL over TLS, trusting caPEM.
func waitHealthy(ctx context.Context, caPEM []byte, healthURL string, timeout time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var last error
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, healthURL, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err
			return false, nil
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			last = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil && last != nil {
		return last
	}
	return err
}
