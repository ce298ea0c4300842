package contract

// edge-proxy: the node-local API endpoint on edge nodes (docs/edge.md).
// edgeadm installs and configures it on join; cmd/edge-proxy reads these
// defaults. Both sides import them from here so they cannot drift apart.
const (
	// EdgeProxyBinary is where edgeadm installs the program from the package's bin/edge-proxy.
	EdgeProxyBinary = "/usr/local/bin/edge-proxy"
	// EdgeProxyUnit is its systemd unit (ordered before the kubelet, needing neither it nor containerd).
	EdgeProxyUnit     = "edge-proxy.service"
	EdgeProxyUnitPath = "/etc/systemd/system/" + EdgeProxyUnit
	// EdgeProxyConfigDir holds the config file and the node-local PKI.
	EdgeProxyConfigDir = "/etc/edge-proxy"
	// EdgeProxyConfigFile is its YAML configuration (0600), written by edgeadm.
	EdgeProxyConfigFile = EdgeProxyConfigDir + "/config.yaml"
	// EdgeProxyCAFile is the node-local CA that signs edge-proxy's serving
	// certificate; local clients (kubelet.conf, kube-proxy, flannel) trust it.
	// Its key never leaves EdgeProxyCAKeyFile (0600).
	EdgeProxyCAFile    = EdgeProxyConfigDir + "/pki/ca.crt"
	EdgeProxyCAKeyFile = EdgeProxyConfigDir + "/pki/ca.key"
	// EdgeProxyServingCert/Key: for 127.0.0.1 and localhost, signed by the node-local CA.
	EdgeProxyServingCert = EdgeProxyConfigDir + "/pki/serving.crt"
	EdgeProxyServingKey  = EdgeProxyConfigDir + "/pki/serving.key"
	// EdgeProxyDataDir holds the cache and the persisted list of API servers.
	EdgeProxyDataDir = "/var/lib/edge-proxy"
	// EdgeProxyAddress is where it serves the Kubernetes API (HTTPS) and
	// EdgeProxyURL the URL clients on the node use.
	EdgeProxyAddress = "127.0.0.1:10268"
	EdgeProxyURL     = "https://" + EdgeProxyAddress
	// EdgeProxyHealthAddress serves plain-HTTP /healthz (the process is up)
	// and /status (JSON: servers, the one in use, online, cache bytes), local only.
	EdgeProxyHealthAddress = "127.0.0.1:10267"
	// KubeletClientCert is the kubelet's rotating client certificate and key
	// (one PEM): the identity edge-proxy forwards the kubelet's requests with.
	KubeletClientCert = "/var/lib/kubelet/pki/kubelet-client-current.pem"
	// ClusterCAFile is the cluster CA on every joined node.
	ClusterCAFile = "/etc/kubernetes/pki/ca.crt"
)

// EdgeProxyConfig is the file at EdgeProxyConfigFile (YAML with these JSON
// names, read with sigs.k8s.io/yaml). Empty fields take the defaults above.
type EdgeProxyConfig struct {
	// NodeName is the node edge-proxy serves: only a client certificate for
	// system:node:<NodeName> is forwarded with the node's identity.
	NodeName string `json:"nodeName"`
	// Servers are the API servers known at join (https://host:port). The
	// list then follows the cluster (default/kubernetes endpoints) and is
	// persisted in DataDir; these are the seed when nothing is persisted.
	Servers []string `json:"servers"`
	// ClusterCAFile verifies the API servers and the clients' certificates.
	ClusterCAFile string `json:"clusterCAFile,omitempty"`
	// ClientCertFile is the node's identity toward the API servers (cert and key in one PEM, reloaded when it changes).
	ClientCertFile  string `json:"clientCertFile,omitempty"`
	ServingCertFile string `json:"servingCertFile,omitempty"`
	ServingKeyFile  string `json:"servingKeyFile,omitempty"`
	DataDir         string `json:"dataDir,omitempty"`
	// CacheMaxBytes bounds the on-disk cache (default 256 MiB).
	CacheMaxBytes int64  `json:"cacheMaxBytes,omitempty"`
	Listen        string `json:"listen,omitempty"`
	HealthListen  string `json:"healthListen,omitempty"`
}
