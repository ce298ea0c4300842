package contract

// edge-tunnel: the cloud reaches edge nodes it cannot dial (docs/edge.md).
// A server runs on every master; kube-apiserver's egress selector sends its
// "cluster" traffic to it (HTTP CONNECT on a Unix socket). An agent on every
// edge node dials out to every master's server (mutual TLS: the node's
// kubelet client certificate against the cluster CA) and carries the
// server's streams to its own node. edgeadm writes these files; cmd/edge-tunnel
// reads them.
const (
	// EdgeTunnelBinary is where edgeadm installs the package's bin/edge-tunnel.
	EdgeTunnelBinary = "/usr/local/bin/edge-tunnel"
	// EdgeTunnelServerUnit runs 'edge-tunnel server' on masters.
	EdgeTunnelServerUnit     = "edge-tunnel-server.service"
	EdgeTunnelServerUnitPath = "/etc/systemd/system/" + EdgeTunnelServerUnit
	// EdgeTunnelAgentUnit runs 'edge-tunnel agent' on edge nodes.
	EdgeTunnelAgentUnit     = "edge-tunnel-agent.service"
	EdgeTunnelAgentUnitPath = "/etc/systemd/system/" + EdgeTunnelAgentUnit
	// EdgeTunnelConfigDir holds the config files and the server's PKI (root-only).
	EdgeTunnelConfigDir        = "/etc/edge-tunnel"
	EdgeTunnelServerConfigFile = EdgeTunnelConfigDir + "/server.yaml"
	EdgeTunnelAgentConfigFile  = EdgeTunnelConfigDir + "/agent.yaml"
	// EdgeTunnelServingCert/Key: the server's certificate toward agents,
	// signed by the cluster CA, for the master's addresses and hostname.
	EdgeTunnelServingCert = EdgeTunnelConfigDir + "/pki/server.crt"
	EdgeTunnelServingKey  = EdgeTunnelConfigDir + "/pki/server.key"
	// EdgeTunnelKubeconfig is the server's identity toward its local API
	// server (user EdgeTunnelServerUser, certificate embedded): it watches Nodes.
	EdgeTunnelKubeconfig = EdgeTunnelConfigDir + "/server.kubeconfig"
	// EdgeTunnelServerUser is that identity; RBAC lets it get/list/watch Nodes only.
	EdgeTunnelServerUser = "edgeops:edge-tunnel-server"
	// EdgeTunnelPort is where servers listen for agents (TLS, every address).
	EdgeTunnelPort = 10262
	// EdgeTunnelSocketDir/EdgeTunnelSocket: the Unix socket kube-apiserver's
	// egress selector sends HTTP CONNECT requests to (mounted into its pod).
	EdgeTunnelSocketDir = "/run/edge-tunnel"
	EdgeTunnelSocket    = EdgeTunnelSocketDir + "/egress.sock"
	// EgressSelectorDir/EgressSelectorConfigFile: kube-apiserver's
	// --egress-selector-config-file (mounted read-only into its pod).
	EgressSelectorDir        = "/etc/kubernetes/edge-tunnel"
	EgressSelectorConfigFile = EgressSelectorDir + "/egress-selector.yaml"
	// Plain-HTTP /healthz and /status (JSON), local only.
	EdgeTunnelServerHealthAddress = "127.0.0.1:10263"
	EdgeTunnelAgentHealthAddress  = "127.0.0.1:10264"
)

// EdgeTunnelServerConfig is the file at EdgeTunnelServerConfigFile (YAML
// with these JSON names). Empty fields take the defaults above.
type EdgeTunnelServerConfig struct {
	// NodeName is the master the server runs on (for its logs and status).
	NodeName string `json:"nodeName"`
	// Listen is the agents' TLS address (default ":10262").
	Listen string `json:"listen,omitempty"`
	// SocketPath is the egress selector's Unix socket.
	SocketPath      string `json:"socketPath,omitempty"`
	HealthListen    string `json:"healthListen,omitempty"`
	ServingCertFile string `json:"servingCertFile,omitempty"`
	ServingKeyFile  string `json:"servingKeyFile,omitempty"`
	// ClusterCAFile verifies the agents' (kubelet) client certificates.
	ClusterCAFile string `json:"clusterCAFile,omitempty"`
	// Kubeconfig reaches the local API server to watch Nodes (addresses, pod CIDRs).
	Kubeconfig string `json:"kubeconfig,omitempty"`
}

// EdgeTunnelAgentConfig is the file at EdgeTunnelAgentConfigFile.
type EdgeTunnelAgentConfig struct {
	// NodeName is this node; it must be the node of the client certificate.
	NodeName string `json:"nodeName"`
	// Servers are the tunnel servers known at join (host:port). When
	// ServersFile names masters, the agent follows those instead.
	Servers []string `json:"servers"`
	// ServersFile is edge-proxy's persisted list of API servers
	// (EdgeProxyServersFile: {"servers": ["https://host:6443", ...]}); the
	// agent re-reads it and dials host:EdgeTunnelPort of each.
	ServersFile string `json:"serversFile,omitempty"`
	// ClusterCAFile verifies the servers.
	ClusterCAFile string `json:"clusterCAFile,omitempty"`
	// ClientCertFile is the node's identity (kubelet client cert and key in one PEM, re-read on each dial).
	ClientCertFile string `json:"clientCertFile,omitempty"`
	HealthListen   string `json:"healthListen,omitempty"`
}

// EdgeProxyServersFile is edge-proxy's persisted list of API servers: every
// master it learned from the cluster (default/kubernetes endpoints).
const EdgeProxyServersFile = EdgeProxyDataDir + "/servers.json"
