// Package inventory reads, defaults and validates an edgeops inventory
// (hosts.yaml) and selects hosts from it. Load finds every problem in one
// pass, before any host is touched, and names each by file, line and field path.
package inventory

// APIVersion and Kind are optional in a file; when present they must match.
const (
	APIVersion = "edgeops.io/v1"
	Kind       = "Inventory"
)

// Defaults applied by Load to fields left empty.
const (
	DefaultClusterName     = "edgeops"
	DefaultImageRepository = "registry.k8s.io"
	DefaultPodCIDR         = "10.244.0.0/16"
	DefaultServiceCIDR     = "10.96.0.0/12"
	DefaultAPIServerPort   = 6443
	DefaultSSHUser         = "root"
	DefaultSSHPort         = 22
	DefaultKnownHosts      = "~/.ssh/known_hosts"
	DefaultConcurrency     = 10
	DefaultUploads         = 5
)

// Inventory is the whole hosts.yaml. After Load, every local path in it is
// absolute and every default is filled in.
type Inventory struct {
	APIVersion  string      `yaml:"apiVersion,omitempty" json:"apiVersion,omitempty"`
	Kind        string      `yaml:"kind,omitempty" json:"kind,omitempty"`
	Cluster     Cluster     `yaml:"cluster" json:"cluster"`
	SSH         SSH         `yaml:"ssh" json:"ssh"`
	Hosts       []*Host     `yaml:"hosts" json:"hosts"`
	Concurrency Concurrency `yaml:"concurrency" json:"concurrency"`

	// File is the absolute path the inventory was loaded from ("" when built in code).
	File string `yaml:"-" json:"file,omitempty"`
}

// Cluster is what kubeadm and edgeadm need to know about the cluster.
type Cluster struct {
	Name              string `yaml:"name" json:"name"`
	KubernetesVersion string `yaml:"kubernetesVersion" json:"kubernetesVersion"`
	ImageRepository   string `yaml:"imageRepository" json:"imageRepository"`
	PodCIDR           string `yaml:"podCIDR" json:"podCIDR"`
	ServiceCIDR       string `yaml:"serviceCIDR" json:"serviceCIDR"`
	// ControlPlaneEndpoint is "host" or "host:port" (a VIP or DNS name in front of
	// the masters). Required with more than one master.
	ControlPlaneEndpoint   string   `yaml:"controlPlaneEndpoint" json:"controlPlaneEndpoint,omitempty"`
	APIServerCertExtraSANs []string `yaml:"apiserverCertExtraSANs" json:"apiserverCertExtraSANs,omitempty"`
	// VIP is a virtual IP edgeops keeps on one healthy master (edge-vip:
	// Lease election, gratuitous ARP; docs/ha.md). controlPlaneEndpoint
	// defaults to it.
	VIP *VIP `yaml:"vip" json:"vip,omitempty"`
	// EnableEdge installs the edge components; nil means the default, true.
	EnableEdge *bool `yaml:"enableEdge" json:"enableEdge,omitempty"`
	// EdgeEvictionTolerationSeconds: how long pods stay bound to a not-ready
	// or unreachable node before the cloud evicts them (edge clusters; default
	// 86400, a day; docs/edge.md has the trade-off).
	EdgeEvictionTolerationSeconds *int           `yaml:"edgeEvictionTolerationSeconds" json:"edgeEvictionTolerationSeconds,omitempty"`
	InstallPackage                InstallPackage `yaml:"installPackage" json:"installPackage"`
	// EdgeManifestsDir is a local folder of edge-component YAML that overrides the package's.
	EdgeManifestsDir string `yaml:"edgeManifestsDir" json:"edgeManifestsDir,omitempty"`
	// CNIManifest is a local CNI YAML used instead of the package's flannel.
	CNIManifest      string           `yaml:"cniManifest" json:"cniManifest,omitempty"`
	ContainerRuntime ContainerRuntime `yaml:"containerRuntime" json:"containerRuntime"`
	Kubeadm          Kubeadm          `yaml:"kubeadm" json:"kubeadm"`
}

// VIP is the control plane's virtual IP, managed by edgeops on the masters.
type VIP struct {
	// Address is an IPv4 address in the masters' subnet that no host has.
	Address string `yaml:"address" json:"address"`
	// Interface carries it on every master; empty: the interface whose
	// subnet contains Address (found on each master).
	Interface string `yaml:"interface" json:"interface,omitempty"`
}

// EdgeEnabled reports whether edge components are installed (default true).
func (c *Cluster) EdgeEnabled() bool { return c.EnableEdge == nil || *c.EnableEdge }

// InstallPackage is the offline install package: a local file or an http(s) URL.
type InstallPackage struct {
	Path   string `yaml:"path" json:"path,omitempty"`
	URL    string `yaml:"url" json:"url,omitempty"`
	SHA256 string `yaml:"sha256" json:"sha256,omitempty"`
}

// Source is the path or the URL, whichever is set.
func (p InstallPackage) Source() string {
	if p.URL != "" {
		return p.URL
	}
	return p.Path
}

// ContainerRuntime tunes containerd on the hosts.
type ContainerRuntime struct {
	// RuntimeBinary is a runc binary path on the hosts, passed to edgeadm as --runtime-binary.
	RuntimeBinary string `yaml:"runtimeBinary" json:"runtimeBinary,omitempty"`
	// RegistryCAFile is a local PEM file, the CA of the registry in
	// imageRepository; edgeops copies it to the hosts (edgeadm --registry-ca-file).
	RegistryCAFile string `yaml:"registryCAFile" json:"registryCAFile,omitempty"`
	// InsecureRegistries (host[:port]) are reached over plain http (edgeadm --insecure-registry).
	InsecureRegistries []string `yaml:"insecureRegistries" json:"insecureRegistries,omitempty"`
}

// Kubeadm passes configuration through to kubeadm.
type Kubeadm struct {
	// PatchesDir is a local folder of kubeadm patches (kubeadm --patches); edgeops copies it to the hosts.
	PatchesDir string `yaml:"patchesDir" json:"patchesDir,omitempty"`
	// InitArgs and JoinArgs are extra kubeadm flags ("--flag=value") for init and join.
	InitArgs []string `yaml:"initArgs" json:"initArgs,omitempty"`
	JoinArgs []string `yaml:"joinArgs" json:"joinArgs,omitempty"`
}

// HostKeyPolicy says what to do with a host key that is not in known_hosts.
type HostKeyPolicy string

const (
	// HostKeyStrict refuses unknown and changed host keys (the default).
	HostKeyStrict HostKeyPolicy = "strict"
	// HostKeyAcceptNew records unknown host keys and refuses changed ones.
	HostKeyAcceptNew HostKeyPolicy = "accept-new"
)

// SSH holds connection settings: the file's defaults under `ssh:`, and a
// host's overrides under `hosts[i].ssh:` (empty fields inherit the defaults).
type SSH struct {
	User          string   `yaml:"user" json:"user,omitempty"`
	Port          int      `yaml:"port" json:"port,omitempty"`
	IdentityFiles []string `yaml:"identityFiles" json:"identityFiles,omitempty"`
	UseAgent      *bool    `yaml:"useAgent" json:"useAgent,omitempty"`
	// PasswordEnv names an environment variable holding the SSH password;
	// PasswordFile a file (mode 0600) holding it. Never a password itself.
	PasswordEnv   string        `yaml:"passwordEnv" json:"passwordEnv,omitempty"`
	PasswordFile  string        `yaml:"passwordFile" json:"passwordFile,omitempty"`
	Bastion       *Bastion      `yaml:"bastion" json:"bastion,omitempty"`
	KnownHosts    string        `yaml:"knownHosts" json:"knownHosts,omitempty"`
	HostKeyPolicy HostKeyPolicy `yaml:"hostKeyPolicy" json:"hostKeyPolicy,omitempty"`
	Sudo          *Sudo         `yaml:"sudo" json:"sudo,omitempty"`
}

// Bastion is a jump host. Its own Bastion, if set, is reached first (a chain).
// Empty fields inherit the file's ssh defaults (user, port 22, identity files, agent).
type Bastion struct {
	Address       string   `yaml:"address" json:"address"`
	Port          int      `yaml:"port" json:"port,omitempty"`
	User          string   `yaml:"user" json:"user,omitempty"`
	IdentityFiles []string `yaml:"identityFiles" json:"identityFiles,omitempty"`
	UseAgent      *bool    `yaml:"useAgent" json:"useAgent,omitempty"`
	PasswordEnv   string   `yaml:"passwordEnv" json:"passwordEnv,omitempty"`
	PasswordFile  string   `yaml:"passwordFile" json:"passwordFile,omitempty"`
	Bastion       *Bastion `yaml:"bastion" json:"bastion,omitempty"`
}

// Sudo says whether commands run through sudo. Enabled defaults to true when
// the SSH user is not root.
type Sudo struct {
	Enabled      *bool  `yaml:"enabled" json:"enabled,omitempty"`
	PasswordEnv  string `yaml:"passwordEnv" json:"passwordEnv,omitempty"`
	PasswordFile string `yaml:"passwordFile" json:"passwordFile,omitempty"`
}

// Role is what a host becomes in the cluster.
type Role string

const (
	RoleMaster Role = "master"
	RoleEdge   Role = "edge"
	RoleWorker Role = "worker"
)

// Roles lists the valid roles in the order they are documented.
func Roles() []Role { return []Role{RoleMaster, RoleEdge, RoleWorker} }

// Host is one machine of the cluster.
type Host struct {
	// Address is what edgeops dials over SSH (IP or DNS name).
	Address string `yaml:"address" json:"address"`
	// InternalAddress is the node IP inside the cluster network, when it differs from Address.
	InternalAddress string `yaml:"internalAddress" json:"internalAddress,omitempty"`
	Port            int    `yaml:"port" json:"port,omitempty"`
	User            string `yaml:"user" json:"user,omitempty"`
	Role            Role   `yaml:"role" json:"role"`
	// Hostname overrides the node name (default: the host's own hostname).
	Hostname string `yaml:"hostname" json:"hostname,omitempty"`
	// APIServerAdvertiseAddress is for masters whose API server must advertise
	// an address other than InternalAddress/Address.
	APIServerAdvertiseAddress string `yaml:"apiserverAdvertiseAddress" json:"apiserverAdvertiseAddress,omitempty"`
	// Site names the place the host stands (a branch, a factory, a
	// rack): its node gets the label topology.kubernetes.io/zone=<site>.
	Site   string            `yaml:"site" json:"site,omitempty"`
	Labels map[string]string `yaml:"labels" json:"labels,omitempty"`
	Taints []Taint           `yaml:"taints" json:"taints,omitempty"`
	SSH    *SSH              `yaml:"ssh" json:"ssh,omitempty"`
}

// ZoneLabel is the well-known label a host's site becomes.
const ZoneLabel = "topology.kubernetes.io/zone"

// Taint is a Kubernetes node taint.
type Taint struct {
	Key    string `yaml:"key" json:"key"`
	Value  string `yaml:"value" json:"value,omitempty"`
	Effect string `yaml:"effect" json:"effect"`
}

// Concurrency bounds the fan-out.
type Concurrency struct {
	// Limit is how many hosts are worked on at once (also the join batch size).
	Limit int `yaml:"limit" json:"limit"`
	// Uploads is how many file transfers run at once.
	Uploads int `yaml:"uploads" json:"uploads"`
}
