package contract

// Flags edgeadm adds to kubeadm's init and join (and their phases).
const (
	FlagInstallPkgPath = "install-pkg-path"
	// FlagInstallPkgPathFile names a root-only file holding the package path
	// or URL: a signed URL's query is a credential and must not be in argv.
	FlagInstallPkgPathFile = "install-pkg-path-file"
	FlagInstallPkgSHA256   = "install-pkg-sha256"
	FlagEnableEdge         = "enable-edge"
	FlagJoinInfoFile       = "join-info-file"
	FlagRuntimeBinary      = "runtime-binary"
	FlagEdgeManifestsDir   = "edge-manifests-dir"
	FlagCNIManifest        = "cni-manifest"
	// FlagNodeRole is join's: edge or worker.
	FlagNodeRole = "node-role"
	// FlagRegistryCAFile is the CA (PEM) of the registry in --image-repository
	// (on join: the cluster's), for containerd's hosts.toml.
	FlagRegistryCAFile = "registry-ca-file"
	// FlagInsecureRegistry (repeatable) names a registry host[:port] reached over plain http.
	FlagInsecureRegistry = "insecure-registry"
	// FlagEdgeEvictionTolerationSeconds is init's: how long pods tolerate a
	// not-ready or unreachable node before the cloud evicts them (edge clusters).
	FlagEdgeEvictionTolerationSeconds = "edge-eviction-toleration-seconds"
	// FlagVIP (masters, init and join) is the control plane's virtual IP that
	// edge-vip keeps on one healthy master; FlagVIPInterface the interface
	// carrying it (empty: the one in its subnet).
	FlagVIP          = "vip"
	FlagVIPInterface = "vip-interface"
)

// DefaultEdgeEvictionTolerationSeconds: a day (docs/edge.md, the trade-off).
const DefaultEdgeEvictionTolerationSeconds = 86400

// OwnFlags lists every flag edgeadm adds to kubeadm's commands.
func OwnFlags() []string {
	return []string{FlagInstallPkgPath, FlagInstallPkgPathFile, FlagInstallPkgSHA256, FlagEnableEdge, FlagJoinInfoFile,
		FlagRuntimeBinary, FlagEdgeManifestsDir, FlagCNIManifest, FlagNodeRole, FlagRegistryCAFile, FlagInsecureRegistry,
		FlagEdgeEvictionTolerationSeconds, FlagVIP, FlagVIPInterface, FlagProgressFD}
}
