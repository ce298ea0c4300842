package phases

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/edgeops/edgeops/pkg/contract"
)

// The edge components' /status documents, only the fields status judges
// (the full types are in pkg/edgeproxy, pkg/tunnel and pkg/vip, which
// edgeops does not link; a test checks these against them).
type (
	proxyStatus struct {
		Servers []string `json:"servers"`
		Current string   `json:"current"`
		Online  bool     `json:"online"`
	}
	tunnelAgentStatus struct {
		Servers []struct {
			Address   string `json:"address"`
			Connected bool   `json:"connected"`
			LastError string `json:"lastError"`
		} `json:"servers"`
	}
	tunnelServerStatus struct {
		Agents []struct {
			Node string `json:"node"`
		} `json:"agents"`
		Synced bool `json:"synced"`
	}
	vipStatus struct {
		Address string `json:"address"`
		Leader  bool   `json:"leader"`
		Holder  string `json:"holder"`
		Holding bool   `json:"holding"`
	}
)

// judgeStatus reads a component's /status: a short detail for the table,
// and a problem when the component is up but not doing its job.
func judgeStatus(name string, body []byte) (detail string, problem *Problem, err error) {
	switch name {
	case unitEdgeProxy:
		var st proxyStatus
		if err := json.Unmarshal(body, &st); err != nil {
			return "", nil, err
		}
		if !st.Online {
			return "offline", &Problem{
				Message: fmt.Sprintf("edge-proxy reaches no API server (of %s): the node runs on its cache", strings.Join(st.Servers, ", ")),
				Fix:     "check that the masters' API servers are up and that the host reaches them on their port (6443)"}, nil
		}
		return "via " + st.Current, nil, nil
	case unitTunnelAgent:
		var st tunnelAgentStatus
		if err := json.Unmarshal(body, &st); err != nil {
			return "", nil, err
		}
		var down []string
		for _, s := range st.Servers {
			if !s.Connected {
				down = append(down, s.Address+" ("+firstNonEmpty(s.LastError, "not connected")+")")
			}
		}
		detail := fmt.Sprintf("%d/%d masters", len(st.Servers)-len(down), len(st.Servers))
		switch {
		case len(st.Servers) == 0:
			return detail, &Problem{Message: "the edge-tunnel agent knows no master",
				Fix: fmt.Sprintf("check %s and edge-proxy's list of API servers (%s)", contract.EdgeTunnelAgentConfigFile, contract.EdgeProxyServersFile)}, nil
		case len(down) > 0:
			return detail, &Problem{Message: "the edge-tunnel agent is not connected to " + strings.Join(down, ", "),
				Fix: fmt.Sprintf("check those masters' %s and that the host reaches their port %d", contract.EdgeTunnelServerUnit, contract.EdgeTunnelPort)}, nil
		}
		return detail, nil, nil
	case unitTunnelServer:
		var st tunnelServerStatus
		if err := json.Unmarshal(body, &st); err != nil {
			return "", nil, err
		}
		detail := fmt.Sprintf("%d agents", len(st.Agents))
		if !st.Synced {
			return detail, &Problem{Message: "the edge-tunnel server has not synced the cluster's nodes: it cannot route to them",
				Fix: fmt.Sprintf("journalctl -u %s on the host (it watches Nodes with %s)", contract.EdgeTunnelServerUnit, contract.EdgeTunnelKubeconfig)}, nil
		}
		return detail, nil, nil
	case unitVIP:
		var st vipStatus
		if err := json.Unmarshal(body, &st); err != nil {
			return "", nil, err
		}
		switch {
		case st.Holder == "":
			return "no holder", &Problem{Message: fmt.Sprintf("no master holds the VIP %s", st.Address),
				Fix: fmt.Sprintf("journalctl -u %s on the masters (the Lease %s/%s)", contract.VIPUnit, contract.VIPLeaseNamespace, contract.VIPLeaseName)}, nil
		case st.Leader && !st.Holding:
			return "leads, address missing", &Problem{Message: fmt.Sprintf("edge-vip leads but %s is not on its interface", st.Address),
				Fix: fmt.Sprintf("journalctl -u %s on the host (ip -4 addr shows the interfaces)", contract.VIPUnit)}, nil
		case st.Holding:
			return "holds " + st.Address, nil, nil
		}
		return "held by " + st.Holder, nil, nil
	}
	return "", nil, nil
}
