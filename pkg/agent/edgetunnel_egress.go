package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"

	"github.com/edgeops/edgeops/pkg/contract"
)

// egressSelectorFlag is kube-apiserver's flag for the egress configuration.
const egressSelectorFlag = "egress-selector-config-file"

// EgressSelectorYAML sends kube-apiserver's "cluster" traffic (kubelets,
// pods, services, webhooks) to the local edge-tunnel server as HTTP CONNECT
// on its Unix socket; etcd and the control plane stay direct.
func EgressSelectorYAML() []byte {
	return []byte(`# Written by edgeadm: kube-apiserver reaches the cluster (kubelets, pods,
# webhooks) through the local edge-tunnel server (docs/edge.md).
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: ` + contract.EdgeTunnelSocket + "\n")
}

// TunnelInstalled reports whether the package installed edge-tunnel.
func TunnelInstalled(h *Host) bool {
	return h.Exists(contract.EdgeTunnelBinary) && h.Exists(contract.EdgeTunnelServerUnitPath)
}

// WriteEgressSelector writes the egress configuration kube-apiserver reads.
// Every master of an edge cluster needs it before kubeadm writes the API
// server's manifest (init, and a control-plane join, whose manifest follows
// the cluster's ClusterConfiguration); on any other host it is harmless.
func WriteEgressSelector(h *Host) error {
	if err := os.MkdirAll(h.Path(contract.EgressSelectorDir), 0o755); err != nil {
		return fmt.Errorf("make %s: %w", contract.EgressSelectorDir, err)
	}
	if err := h.WriteFile(contract.EgressSelectorConfigFile, EgressSelectorYAML(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", contract.EgressSelectorConfigFile, err)
	}
	return nil
}

// ApplyTunnelEgress points kube-apiserver's egress selector at edge-tunnel:
// the flag and the two host mounts (the configuration, read-only; the
// socket's folder). A user's own egress configuration wins: then the tunnel
// is not used and the returned reason says so.
func ApplyTunnelEgress(cc *kubeadmv1.ClusterConfiguration) (applied bool, reason string) {
	for _, a := range cc.APIServer.ExtraArgs {
		if a.Name == egressSelectorFlag && a.Value != contract.EgressSelectorConfigFile {
			return false, fmt.Sprintf("apiServer.extraArgs sets %s=%s: the user's egress configuration is kept and edge-tunnel is not used", egressSelectorFlag, a.Value)
		}
	}
	cc.APIServer.ExtraArgs = setArg(cc.APIServer.ExtraArgs, egressSelectorFlag, contract.EgressSelectorConfigFile)
	for _, m := range []kubeadmv1.HostPathMount{
		{Name: "edge-tunnel-egress", HostPath: contract.EgressSelectorDir, MountPath: contract.EgressSelectorDir, ReadOnly: true, PathType: corev1.HostPathDirectory},
		{Name: "edge-tunnel-socket", HostPath: contract.EdgeTunnelSocketDir, MountPath: contract.EdgeTunnelSocketDir, PathType: corev1.HostPathDirectoryOrCreate},
	} {
		if !hasVolume(cc.APIServer.ExtraVolumes, m.Name) {
			cc.APIServer.ExtraVolumes = append(cc.APIServer.ExtraVolumes, m)
		}
	}
	return true, ""
}

func hasVolume(vs []kubeadmv1.HostPathMount, name string) bool {
	for _, v := range vs {
		if v.Name == name {
			return true
		}
	}
	return false
}

// apiServerUsesTunnel reports whether this master's kube-apiserver sends
// its cluster traffic through edge-tunnel (its manifest names our egress
// configuration): then the server must run here.
func apiServerUsesTunnel(h *Host) bool {
	b, err := h.ReadFile(filepath.Join("/etc/kubernetes/manifests", "kube-apiserver.yaml"))
	return err == nil && strings.Contains(string(b), egressSelectorFlag+"="+contract.EgressSelectorConfigFile)
}
