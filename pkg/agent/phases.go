package agent

import "context"

// Phase names, as --skip-phases and 'edgeadm init|join phase <name>' take them.
const (
	PhasePrepareNode       = "prepare-node"
	PhaseInstallPackage    = "install-package"
	PhaseKubeletResolvConf = "kubelet-resolv-conf"
	PhaseCNI               = "cni"
	PhaseEdge              = "edge"
	PhaseVIP               = "vip"
	PhaseJoinInfo          = "join-info"
	PhaseRetagImages       = "retag-images"
)

// PrePhases run before kubeadm's preflight, on init and join alike.
func PrePhases() []Phase {
	return []Phase{
		{Name: PhaseCheckPackage, Short: "Fetch the install package (file, http(s), ftp); check its sha256, OS/arch and Kubernetes version; unpack it: a refused package leaves the host as it was",
			Run: CheckPackage},
		{Name: PhasePrepareNode, Short: "Turn swap off, load kernel modules, set sysctls, check hostname and clock",
			Run: func(ctx context.Context, r *Run) error { return PrepareNode(ctx, r, r.NodeName) }},
		{Name: PhaseInstallPackage, Short: "Verify the install package; install binaries, units and configs; start containerd; import images",
			Run: InstallPackage},
		{Name: PhaseKubeletResolvConf, Short: "Give the kubelet a resolv.conf without loopback nameservers when the host has only those",
			Run: KubeletResolvConfPhase},
	}
}

// InitPostPhases run after kubeadm init's phases.
func InitPostPhases() []Phase {
	return []Phase{
		{Name: PhaseVIP, Short: "With --vip: start edge-vip, which keeps the control plane's virtual IP on one healthy master (Lease election, gratuitous ARP)", Run: VIPPhase},
		{Name: PhaseCNI, Short: "Apply the CNI (flannel, or --cni-manifest) and write this node's CNI config", Run: ApplyCNI},
		{Name: PhaseEdge, Short: "Apply the edge components: edge-proxy's and edge-tunnel's RBAC, the kubeconfig and kube-proxy and flannel variants for edge nodes; start this master's edge-tunnel server (when --enable-edge)",
			Run: sequence(ApplyEdge, EdgeTunnelServer)},
		{Name: PhaseJoinInfo, Short: "Write the join information file (root-only)", Run: func(ctx context.Context, r *Run) error {
			if r.Secrets.Token == "" {
				// Run alone ('edgeadm init phase join-info'): mint fresh information.
				return MintJoinInfo(ctx, r.Host, r.Opts.JoinInfoFile, false, DefaultTokenTTL, "edgeadm join information")
			}
			return WriteJoinInfo(ctx, r.Host, r.Opts.JoinInfoFile, r.Secrets)
		}},
	}
}

// JoinPostPhases run after kubeadm join's phases.
func JoinPostPhases() []Phase {
	return []Phase{
		{Name: PhaseRetagImages, Short: "Tag the package's images under the cluster's image repository", Run: RetagForCluster},
		{Name: PhaseVIP, Short: "Control-plane node with --vip: start edge-vip, which keeps the control plane's virtual IP on one healthy master", Run: VIPPhase},
		{Name: PhaseCNI, Short: "Write this node's CNI config once it has a pod CIDR", Run: WriteNodeConflist},
		{Name: PhaseEdge, Short: "Edge node: start edge-proxy (node-local API endpoint: cache, master failover), switch the kubelet to it once it answers, start the edge-tunnel agent; master: start its edge-tunnel server (when --enable-edge)",
			Run: sequence(EdgeNode, EdgeTunnelAgent, func(ctx context.Context, r *Run) error {
				if !r.ControlPlane {
					return nil
				}
				return EdgeTunnelServer(ctx, r)
			})},
	}
}

// sequence runs phase functions in order, stopping at the first error.
func sequence(fns ...func(context.Context, *Run) error) func(context.Context, *Run) error {
	return func(ctx context.Context, r *Run) error {
		for _, f := range fns {
			if err := f(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}
}
