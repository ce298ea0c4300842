package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	certutil "k8s.io/client-go/util/cert"
	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
	"sigs.k8s.io/yaml"

	"github.com/edgeops/edgeops/pkg/contract"
)

// TunnelWait bounds the wait for edge-tunnel to answer on its health port
// (the server) or to hold a connection to a master (the agent).
const TunnelWait = 30 * time.Second

// PrepareTunnelEgress, on init of an edge cluster whose package carries
// edge-tunnel, writes kube-apiserver's egress configuration and points the
// ClusterConfiguration at it (control-plane joins inherit it). Without
// edge-tunnel in the package, the API server dials nodes directly.
func PrepareTunnelEgress(h *Host, cc *kubeadmv1.ClusterConfiguration) error {
	if !TunnelInstalled(h) {
		h.Warnf("the install package has no edge-tunnel (%s): the API server dials edge nodes directly, so logs, exec and port-forward need the masters to reach them", contract.EdgeTunnelBinary)
		return nil
	}
	applied, reason := ApplyTunnelEgress(cc)
	if !applied {
		h.Warnf("%s", reason)
		return nil
	}
	if err := WriteEgressSelector(h); err != nil {
		return err
	}
	h.Logf("[edge-tunnel] kube-apiserver sends its cluster traffic through edge-tunnel (--%s=%s)", egressSelectorFlag, contract.EgressSelectorConfigFile)
	return nil
}

// EdgeTunnelServer starts the edge-tunnel server on a master whose
// kube-apiserver uses it: a serving certificate and a kubeconfig from the
// cluster CA, the config file, the unit. It is restarted only when one of
// them changed. Running it again changes nothing.
func EdgeTunnelServer(ctx context.Context, r *Run) error {
	h := r.Host
	if !apiServerUsesTunnel(h) {
		h.Logf("[edge-tunnel] this master's kube-apiserver dials the cluster directly (no --%s=%s): no tunnel server", egressSelectorFlag, contract.EgressSelectorConfigFile)
		return nil
	}
	if !TunnelInstalled(h) {
		return fmt.Errorf("kube-apiserver sends its cluster traffic through edge-tunnel, but the install package has none (%s): install a package with edge-tunnel (this edgeadm's version)", contract.EdgeTunnelBinary)
	}
	name := r.NodeName
	if name == "" {
		name = hostnameOr(h, "master")
	}
	pkiChanged, err := tunnelServerPKI(h, name)
	if err != nil {
		return err
	}
	cfgChanged, err := writeRootOnlyYAML(h, contract.EdgeTunnelServerConfigFile, contract.EdgeTunnelServerConfig{NodeName: name})
	if err != nil {
		return err
	}
	if err := startUnit(ctx, h, contract.EdgeTunnelServerUnit, pkiChanged || cfgChanged); err != nil {
		return err
	}
	if err := waitHTTP(ctx, "http://"+contract.EdgeTunnelServerHealthAddress+"/healthz", TunnelWait, nil); err != nil {
		return fmt.Errorf("edge-tunnel server did not answer on %s within %s (%v): the API server cannot reach kubelets until it does; see journalctl -u %s",
			contract.EdgeTunnelServerHealthAddress, TunnelWait, err, contract.EdgeTunnelServerUnit)
	}
	h.Logf("[edge-tunnel] server up on :%d for agents; kube-apiserver's cluster traffic goes through %s", contract.EdgeTunnelPort, contract.EdgeTunnelSocket)
	return nil
}

// EdgeTunnelAgent starts the edge-tunnel agent on an edge node: it dials
// out to every master's server with the node's kubelet client certificate,
// so the cloud reaches this node without dialling it.
func EdgeTunnelAgent(ctx context.Context, r *Run) error {
	h := r.Host
	if !r.Opts.EnableEdge || r.Role != RoleEdge {
		return nil
	}
	if !h.Exists(contract.EdgeTunnelBinary) || !h.Exists(contract.EdgeTunnelAgentUnitPath) {
		h.Warnf("the install package has no edge-tunnel (%s): the cloud reaches this node only if the masters can dial it", contract.EdgeTunnelBinary)
		return nil
	}
	node, err := kubeletNodeName(h)
	if err != nil {
		return err
	}
	servers, err := tunnelServersOf(h)
	if err != nil {
		return err
	}
	changed, err := writeRootOnlyYAML(h, contract.EdgeTunnelAgentConfigFile, contract.EdgeTunnelAgentConfig{NodeName: node, Servers: servers})
	if err != nil {
		return err
	}
	if err := startUnit(ctx, h, contract.EdgeTunnelAgentUnit, changed); err != nil {
		return err
	}
	connected := func(body []byte) bool {
		var st struct {
			Servers []struct {
				Connected bool `json:"connected"`
			} `json:"servers"`
		}
		if json.Unmarshal(body, &st) != nil {
			return false
		}
		for _, s := range st.Servers {
			if s.Connected {
				return true
			}
		}
		return false
	}
	if err := waitHTTP(ctx, "http://"+contract.EdgeTunnelAgentHealthAddress+"/status", TunnelWait, connected); err != nil {
		h.Warnf("edge-tunnel agent holds no connection to a master after %s (%v): the cloud cannot reach this node's kubelet through the tunnel yet; it keeps trying (journalctl -u %s)",
			TunnelWait, err, contract.EdgeTunnelAgentUnit)
		return nil
	}
	h.Logf("[edge-tunnel] agent connected (masters %v): logs, exec and port-forward reach this node through its outgoing connection", servers)
	return nil
}

// kubeletNodeName is the node of the kubelet's client certificate: the
// identity the tunnel servers check the agent against.
func kubeletNodeName(h *Host) (string, error) {
	b, err := h.ReadFile(contract.KubeletClientCert)
	if err != nil {
		return "", fmt.Errorf("read the kubelet's client certificate: %w", err)
	}
	certs, err := certutil.ParseCertsPEM(b)
	if err != nil || len(certs) == 0 {
		return "", fmt.Errorf("parse %s: %v", contract.KubeletClientCert, err)
	}
	name, ok := strings.CutPrefix(certs[0].Subject.CommonName, "system:node:")
	if !ok || name == "" {
		return "", fmt.Errorf("%s is for %q, not a node", contract.KubeletClientCert, certs[0].Subject.CommonName)
	}
	return name, nil
}

// tunnelServersOf are the masters' tunnel addresses: the hosts of the API
// servers edge-proxy was given (the agent then follows edge-proxy's list).
func tunnelServersOf(h *Host) ([]string, error) {
	var pc contract.EdgeProxyConfig
	b, err := h.ReadFile(contract.EdgeProxyConfigFile)
	if err != nil {
		return nil, fmt.Errorf("read %s (the API servers edge-proxy knows): %w", contract.EdgeProxyConfigFile, err)
	}
	if err := yaml.Unmarshal(b, &pc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", contract.EdgeProxyConfigFile, err)
	}
	var out []string
	for _, s := range pc.Servers {
		u, err := url.Parse(s)
		if err != nil || u.Hostname() == "" {
			continue
		}
		hp := net.JoinHostPort(u.Hostname(), strconv.Itoa(contract.EdgeTunnelPort))
		if !contains(out, hp) {
			out = append(out, hp)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no API server", contract.EdgeProxyConfigFile)
	}
	return out, nil
}

// writeRootOnlyYAML writes cfg as YAML (0600, folder 0700) and reports whether it changed.
func writeRootOnlyYAML(h *Host, path string, cfg any) (bool, error) {
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return false, fmt.Errorf("encode %s: %w", path, err)
	}
	if old, err := h.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := mkdirRootOnly(h, filepath.Dir(path)); err != nil {
		return false, err
	}
	if err := h.WriteFile(path, data, 0o600); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

// startUnit enables and starts a unit, restarting it when its files changed.
func startUnit(ctx context.Context, h *Host, unit string, restart bool) error {
	last := []string{"enable", "--now", unit}
	if restart {
		last = []string{"restart", unit}
	}
	for _, args := range [][]string{{"daemon-reload"}, {"enable", unit}, last} {
		if _, err := h.Cmd.Run(ctx, "systemctl", args...); err != nil {
			return fmt.Errorf("systemctl %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

// waitHTTP polls a local plain-HTTP URL until it answers 200 (and ok accepts the body).
func waitHTTP(ctx context.Context, u string, timeout time.Duration, ok func([]byte) bool) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err
			return false, nil
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			last = fmt.Errorf("HTTP %d", resp.StatusCode)
			return false, nil
		}
		if ok != nil && !ok(body.Bytes()) {
			last = fmt.Errorf("not yet: %s", strings.TrimSpace(body.String()))
			return false, nil
		}
		return true, nil
	})
	if err != nil && last != nil {
		return last
	}
	return err
}
