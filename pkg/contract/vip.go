package contract

// edge-vip: the control plane's virtual IP, managed by edgeops on the
// masters (docs/ha.md). Every master runs it; the one holding a Lease taken
// through its own API server adds the address to its interface and
// announces it with gratuitous ARP. edgeadm writes these files; cmd/edge-vip
// reads them.
const (
	// VIPBinary is where edgeadm installs the package's bin/edge-vip.
	VIPBinary = "/usr/local/bin/edge-vip"
	// VIPUnit runs 'edge-vip run' on masters of a cluster with a managed VIP.
	VIPUnit     = "edge-vip.service"
	VIPUnitPath = "/etc/systemd/system/" + VIPUnit
	// VIPConfigDir holds the config and the kubeconfig (root-only).
	VIPConfigDir  = "/etc/edge-vip"
	VIPConfigFile = VIPConfigDir + "/config.yaml"
	// VIPKubeconfig is edge-vip's identity toward this master's own API
	// server (user VIPUser, certificate embedded; RBAC: the one Lease).
	VIPKubeconfig = VIPConfigDir + "/kubeconfig"
	VIPUser       = "edgeops:edge-vip"
	// VIPLeaseNamespace/VIPLeaseName: the Lease whose holder holds the address.
	VIPLeaseNamespace = "kube-system"
	VIPLeaseName      = "edgeops-vip"
	// VIPHealthAddress serves plain-HTTP /healthz and /status (JSON), local only.
	VIPHealthAddress = "127.0.0.1:10265"
)

// VIPConfig is the file at VIPConfigFile (YAML with these JSON names).
type VIPConfig struct {
	// Address is the virtual IP (IPv4), added as a /32 to Interface.
	Address string `json:"address"`
	// Interface carries it; empty: the interface with an address in the
	// same subnet as Address.
	Interface string `json:"interface,omitempty"`
	// NodeName is this master: its identity in the Lease.
	NodeName   string `json:"nodeName"`
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// LeaseDuration, RenewDeadline, RetryPeriod: Go durations ("4s");
	// empty: the defaults of pkg/vip.
	LeaseDuration string `json:"leaseDuration,omitempty"`
	RenewDeadline string `json:"renewDeadline,omitempty"`
	RetryPeriod   string `json:"retryPeriod,omitempty"`
	HealthListen  string `json:"healthListen,omitempty"`
}
