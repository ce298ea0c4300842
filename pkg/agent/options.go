package agent

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/edgeops/edgeops/pkg/joininfo"
)

// Flag names edgeadm adds to kubeadm's init and join.
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
	FlagNodeRole           = "node-role"
)

// Node roles for join.
const (
	RoleEdge   = "edge"
	RoleWorker = "worker"
)

// Options are edgeadm's own settings, next to kubeadm's.
type Options struct {
	InstallPkgPath     string
	InstallPkgPathFile string
	InstallPkgSHA256   string
	EnableEdge         bool
	JoinInfoFile       string
	RuntimeBinary      string
	EdgeManifestsDir   string
	CNIManifest        string
	// NodeRole is join's --node-role; empty means edge when EnableEdge, else worker.
	NodeRole string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{EnableEdge: true, JoinInfoFile: joininfo.DefaultPath}
}

// AddFlags adds the flags init and join share.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.InstallPkgPath, FlagInstallPkgPath, o.InstallPkgPath,
		"Install package (edgeops bundle): a local file or an http(s) URL. Empty: use what is already installed.")
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
}

// AddJoinFlags adds the join-only flags.
func (o *Options) AddJoinFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.NodeRole, FlagNodeRole, o.NodeRole,
		"Role of a joining worker: edge or worker (default: edge when --enable-edge, else worker).")
}

// OwnFlagNames lists every flag edgeadm adds, so the wrapper can tell them from kubeadm's.
func OwnFlagNames() []string {
	return []string{FlagInstallPkgPath, FlagInstallPkgPathFile, FlagInstallPkgSHA256, FlagEnableEdge, FlagJoinInfoFile,
		FlagRuntimeBinary, FlagEdgeManifestsDir, FlagCNIManifest, FlagNodeRole}
}

// Role resolves the role of a joining node.
func (o *Options) Role(controlPlane bool) (string, error) {
	if controlPlane {
		return "control-plane", nil
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
