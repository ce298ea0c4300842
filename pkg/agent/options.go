package agent

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/edgeops/edgeops/pkg/contract"
)

// Flag names edgeadm adds to kubeadm's init and join: the contract's, so
// edgeops' command lines (pkg/phases) and these flags cannot drift apart.
const (
	FlagInstallPkgPath     = contract.FlagInstallPkgPath
	FlagInstallPkgPathFile = contract.FlagInstallPkgPathFile
	FlagInstallPkgSHA256   = contract.FlagInstallPkgSHA256
	FlagEnableEdge         = contract.FlagEnableEdge
	FlagJoinInfoFile       = contract.FlagJoinInfoFile
	FlagRuntimeBinary      = contract.FlagRuntimeBinary
	FlagEdgeManifestsDir   = contract.FlagEdgeManifestsDir
	FlagCNIManifest        = contract.FlagCNIManifest
	FlagNodeRole           = contract.FlagNodeRole
	FlagRegistryCAFile     = contract.FlagRegistryCAFile
	FlagInsecureRegistry   = contract.FlagInsecureRegistry
)

// Node roles.
const (
	RoleControlPlane = contract.RoleControlPlane
	RoleEdge         = contract.RoleEdge
	RoleWorker       = contract.RoleWorker
)

// Options are edgeadm's own settings, next to kubeadm's.
type Options struct {
	InstallPkgPath     string
	InstallPkgPathFile string
	InstallPkgSHA256   string
	EnableEdge         bool
	// EdgeEvictionTolerationSeconds is init's --edge-eviction-toleration-seconds.
	EdgeEvictionTolerationSeconds int
	JoinInfoFile                  string
	RuntimeBinary                 string
	EdgeManifestsDir              string
	CNIManifest                   string
	// NodeRole is join's --node-role; empty means edge when EnableEdge, else worker.
	NodeRole string
	// RegistryCAFile and InsecureRegistries tell containerd how to reach the
	// registry the images come from (registry.go).
	RegistryCAFile     string
	InsecureRegistries []string
	// VIP and VIPInterface: the control plane's virtual IP, kept by edge-vip on a master.
	VIP          string
	VIPInterface string
	// ProgressFD is the descriptor the run reports its steps on (0: none).
	ProgressFD int
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{EnableEdge: true, JoinInfoFile: contract.JoinInfoFile, EdgeEvictionTolerationSeconds: contract.DefaultEdgeEvictionTolerationSeconds}
}

// AddFlags adds the flags init and join share.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.InstallPkgPath, FlagInstallPkgPath, o.InstallPkgPath,
		"Install package (edgeops bundle): a local file, an http(s):// or an ftp://[user[:password]@]host[:port]/path URL (plain http and ftp need --install-pkg-sha256). Empty: use what is already installed.")
	fs.StringVar(&o.InstallPkgPathFile, FlagInstallPkgPathFile, o.InstallPkgPathFile,
		"Root-only file whose content is the --install-pkg-path value (keeps a signed URL out of the process list).")
	fs.StringVar(&o.InstallPkgSHA256, FlagInstallPkgSHA256, o.InstallPkgSHA256,
		"Expected sha256 of the install package (checked after download).")
	fs.BoolVar(&o.EnableEdge, FlagEnableEdge, o.EnableEdge,
		"Deploy the edge components and edge node settings; false gives a plain Kubernetes cluster.")
	fs.StringVar(&o.JoinInfoFile, FlagJoinInfoFile, o.JoinInfoFile,
		"Join information file (JSON, root-only): written by init, read by join.")
	fs.StringVar(&o.RuntimeBinary, FlagRuntimeBinary, o.RuntimeBinary,
		"runc binary for containerd's runc runtime (BinaryName); empty: the package's runc.")
	fs.StringVar(&o.EdgeManifestsDir, FlagEdgeManifestsDir, o.EdgeManifestsDir,
		"Folder of edge component YAML to apply instead of the package's manifests/edge.")
	fs.StringVar(&o.CNIManifest, FlagCNIManifest, o.CNIManifest,
		"CNI YAML to apply instead of the package's flannel.")
	fs.StringVar(&o.RegistryCAFile, FlagRegistryCAFile, o.RegistryCAFile,
		"CA certificate (PEM) of the registry the images come from (init: --image-repository's; join: the cluster's), for containerd.")
	fs.StringSliceVar(&o.InsecureRegistries, FlagInsecureRegistry, o.InsecureRegistries,
		"Registry host[:port] containerd reaches over plain http, no TLS (repeatable). Only for a registry on a trusted network.")
	fs.StringVar(&o.VIP, contract.FlagVIP, o.VIP,
		"Control-plane nodes: a virtual IP (IPv4, in this node's subnet, no host's address) that edge-vip keeps on one healthy master (Lease election, gratuitous ARP). init uses it as --control-plane-endpoint when none is given.")
	fs.StringVar(&o.VIPInterface, contract.FlagVIPInterface, o.VIPInterface,
		"Interface that carries --vip (default: the one whose subnet contains it).")
	fs.IntVar(&o.ProgressFD, contract.FlagProgressFD, o.ProgressFD,
		"File descriptor to report each step's start and end on, one JSON object per line (for edgeops; 0: none).")
}

// AddInitFlags adds the init-only flags.
func (o *Options) AddInitFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.EdgeEvictionTolerationSeconds, contract.FlagEdgeEvictionTolerationSeconds, o.EdgeEvictionTolerationSeconds,
		"With --enable-edge: seconds pods tolerate a not-ready or unreachable node before they are evicted (the API server's default-not-ready/unreachable-toleration-seconds). Long keeps an edge site's pods through an outage; short moves them off a dead node sooner.")
}

// AddJoinFlags adds the join-only flags.
func (o *Options) AddJoinFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.NodeRole, FlagNodeRole, o.NodeRole,
		"Role of a joining worker: edge or worker (default: edge when --enable-edge, else worker).")
}

// OwnFlagNames lists every flag edgeadm adds, so the wrapper can tell them from kubeadm's.
func OwnFlagNames() []string {
	return contract.OwnFlags()
}

// Role resolves the role of a joining node.
func (o *Options) Role(controlPlane bool) (string, error) {
	if controlPlane {
		return RoleControlPlane, nil
	}
	switch o.NodeRole {
	case "":
		if o.EnableEdge {
			return RoleEdge, nil
		}
		return RoleWorker, nil
	case RoleEdge, RoleWorker:
		return o.NodeRole, nil
	}
	return "", fmt.Errorf("--%s %q: want %s or %s", FlagNodeRole, o.NodeRole, RoleEdge, RoleWorker)
}
