package phases

import (
	"context"
	"encoding/json"
	"fmt"
)

// nodeStatus is one node as the API server sees it.
type nodeStatus struct {
	Name  string
	Ready bool
	IP    string
	// ReadyMessage says why a node is not Ready; the versions are the
	// running kubelet's and container runtime's (status shows them).
	ReadyMessage   string
	KubeletVersion string
	RuntimeVersion string // "containerd://2.1.4"
}

// kubectlCmd runs kubectl on a master with the admin kubeconfig.
func kubectlCmd(args ...string) string {
	return "PATH=$PATH:/usr/local/bin:/usr/bin kubectl --kubeconfig /etc/kubernetes/admin.conf " + command(args...)
}

// parseNodes reads `kubectl get nodes -o json`.
func parseNodes(data []byte) (map[string]nodeStatus, error) {
	var list struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Status struct {
				Conditions []struct {
					Type    string `json:"type"`
					Status  string `json:"status"`
					Message string `json:"message"`
				} `json:"conditions"`
				Addresses []struct {
					Type    string `json:"type"`
					Address string `json:"address"`
				} `json:"addresses"`
				NodeInfo struct {
					KubeletVersion          string `json:"kubeletVersion"`
					ContainerRuntimeVersion string `json:"containerRuntimeVersion"`
				} `json:"nodeInfo"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("node list: %w", err)
	}
	nodes := map[string]nodeStatus{}
	for _, it := range list.Items {
		n := nodeStatus{Name: it.Metadata.Name, KubeletVersion: it.Status.NodeInfo.KubeletVersion, RuntimeVersion: it.Status.NodeInfo.ContainerRuntimeVersion}
		for _, c := range it.Status.Conditions {
			if c.Type == "Ready" {
				n.Ready = c.Status == "True"
				n.ReadyMessage = c.Message
			}
		}
		for _, a := range it.Status.Addresses {
			if a.Type == "InternalIP" && n.IP == "" {
				n.IP = a.Address
			}
		}
		nodes[n.Name] = n
	}
	return nodes, nil
}

// listNodes asks the API server, through kubectl on master m, for the nodes.
func listNodes(ctx context.Context, m *Host) (map[string]nodeStatus, error) {
	out, err := m.Remote.Run(ctx, kubectlCmd("get", "nodes", "-o", "json", "--request-timeout=10s"), nil)
	if err != nil {
		return nil, fmt.Errorf("list nodes on %s: %w", m.Addr(), err)
	}
	return parseNodes(out)
}
