package phases

import (
	"path"
	"strconv"
	"strings"

	"github.com/edgeops/edgeops/pkg/contract"
	"github.com/edgeops/edgeops/pkg/inventory"
)

// Where edgeops puts things on a host.
const (
	EdgeadmPath      = contract.EdgeadmPath
	PackagesDir      = contract.PackagesDir
	DoneMarker       = StateDir + "/done" // edgeops finished init or join here
	edgeManifestsDir = StateDir + "/edge-manifests"
	cniManifestPath  = StateDir + "/cni.yaml"
	patchesDir       = StateDir + "/patches"
	registryCAPath   = StateDir + "/registry-ca.pem"
	// packageURLFile holds a package URL with a query string (a signed
	// URL's signature is a credential): root-only, never in argv.
	packageURLFile = contract.PackageURLFile
)

// remotePackage is the package as edgeadm should read it: the staged file,
// or the URL the host fetches itself.
func remotePackage(pkg string) string {
	if packageSource(pkg).IsURL() {
		return pkg
	}
	return path.Join(PackagesDir, path.Base(pkg))
}

// packageSource parses the inventory's package location. The inventory was
// validated, so an error cannot happen here; were it to, a local path is
// the harmless reading (it is staged, never fetched).
func packageSource(pkg string) contract.Source {
	if s, err := contract.ParseSource(pkg); err == nil {
		return s
	}
	return contract.Source{Kind: contract.SourceLocal, Path: pkg}
}

// packageArch reads the architecture from the package's file name
// (edgeops-bundle-<k8s>-linux-<arch>[-noimages].tar.gz); "" when it does not say.
func packageArch(pkg string) string {
	// A signed URL's query is not part of the name.
	base := packageSource(pkg).FileName()
	base = strings.TrimSuffix(strings.TrimSuffix(base, ".tar.gz"), "-noimages") // bundle.NoImagesSuffix
	i := strings.LastIndex(base, "-linux-")
	if i < 0 {
		return ""
	}
	return base[i+len("-linux-"):]
}

// advertiseAddress is the address a master's API server advertises.
func advertiseAddress(h *Host) string { return h.AdvertiseAddress() }

// initArgs is the leader's `edgeadm init` command line. It carries no secret:
// the join information goes to a root-only file.
func initArgs(s *State, h *Host, uploadCerts bool) []string {
	c := s.Inventory.Cluster
	a := []string{EdgeadmPath, "init", "--skip-token-print"}
	if uploadCerts {
		a = append(a, "--upload-certs", "--skip-certificate-key-print")
	}
	a = append(a, packageArgs(s)...)
	a = append(a,
		flagEq(contract.FlagEnableEdge)+strconv.FormatBool(c.EdgeEnabled()),
		flag(contract.FlagJoinInfoFile), contract.JoinInfoFile,
		"--node-name", h.NodeName(),
	)
	if c.KubernetesVersion != "" {
		a = append(a, "--kubernetes-version", c.KubernetesVersion)
	}
	if c.PodCIDR != "" {
		a = append(a, "--pod-network-cidr", c.PodCIDR)
	}
	if c.ServiceCIDR != "" {
		a = append(a, "--service-cidr", c.ServiceCIDR)
	}
	if c.ImageRepository != "" {
		a = append(a, "--image-repository", c.ImageRepository)
	}
	if c.ControlPlaneEndpoint != "" {
		a = append(a, "--control-plane-endpoint", c.ControlPlaneEndpoint)
	}
	if len(c.APIServerCertExtraSANs) > 0 {
		a = append(a, "--apiserver-cert-extra-sans", strings.Join(c.APIServerCertExtraSANs, ","))
	}
	if adv := advertiseAddress(h); adv != "" {
		a = append(a, "--apiserver-advertise-address", adv)
	}
	a = append(a, vipArgs(c)...)
	if c.EdgeManifestsDir != "" {
		a = append(a, flag(contract.FlagEdgeManifestsDir), edgeManifestsDir)
	}
	if c.EdgeEvictionTolerationSeconds != nil {
		a = append(a, flag(contract.FlagEdgeEvictionTolerationSeconds), strconv.Itoa(*c.EdgeEvictionTolerationSeconds))
	}
	if c.CNIManifest != "" {
		a = append(a, flag(contract.FlagCNIManifest), cniManifestPath)
	}
	a = append(a, commonArgs(s)...)
	a = append(a, progressArgs()...)
	return append(a, c.Kubeadm.InitArgs...)
}

// finishInitArgs are the `edgeadm init phase` command lines that finish an
// interrupted init: the phases after kubeadm that need no secret.
func finishInitArgs(s *State, h *Host) [][]string {
	c := s.Inventory.Cluster
	common := []string{flagEq(contract.FlagEnableEdge) + strconv.FormatBool(c.EdgeEnabled()), "--node-name", h.NodeName()}
	if c.ImageRepository != "" {
		common = append(common, "--image-repository", c.ImageRepository)
	}
	if c.EdgeManifestsDir != "" {
		common = append(common, flag(contract.FlagEdgeManifestsDir), edgeManifestsDir)
	}
	if c.CNIManifest != "" {
		common = append(common, flag(contract.FlagCNIManifest), cniManifestPath)
	}
	// Not commonArgs: the cni and edge phases have no --patches (kubeadm's flag).
	if c.ContainerRuntime.RuntimeBinary != "" {
		common = append(common, flag(contract.FlagRuntimeBinary), c.ContainerRuntime.RuntimeBinary)
	}
	common = append(common, progressArgs()...)
	phases := []string{"cni", "edge"}
	if c.VIP != nil {
		common = append(common, vipArgs(c)...)
		phases = append([]string{"vip"}, phases...)
	}
	var out [][]string
	for _, phase := range phases {
		out = append(out, append([]string{EdgeadmPath, "init", "phase", phase}, common...))
	}
	return out
}

// joinArgs is a joining host's `edgeadm join` command line; preinstalled:
// the install phase has run the package's phases on it already.
func joinArgs(s *State, h *Host, preinstalled bool) []string {
	c := s.Inventory.Cluster
	a := []string{EdgeadmPath, "join", flag(contract.FlagJoinInfoFile), contract.JoinInfoFile}
	if isMaster(h) {
		a = append(a, "--control-plane")
		if adv := advertiseAddress(h); adv != "" {
			a = append(a, "--apiserver-advertise-address", adv)
		}
		a = append(a, vipArgs(c)...)
	} else {
		a = append(a, flag(contract.FlagNodeRole), string(h.Role))
	}
	a = append(a, packageArgs(s)...)
	a = append(a, "--node-name", h.NodeName())
	a = append(a, commonArgs(s)...)
	a = append(a, progressArgs()...)
	if preinstalled {
		// Done by the install phase; check-package still runs: it checks
		// the package against the cluster's version, which only now is known.
		a = append(a, "--skip-phases", strings.Join(preinstallPhases(), ","))
	}
	return append(a, c.Kubeadm.JoinArgs...)
}

// preinstallPhases are the edgeadm join phases the install phase runs
// ahead of the join, in order (agent.PhasePrepareNode, agent.PhaseInstallPackage).
func preinstallPhases() []string { return []string{"prepare-node", "install-package"} }

// installArgs are the `edgeadm join phase` command lines that install the
// package on a host before it joins: the flags of joinArgs those phases read.
func installArgs(s *State, h *Host) [][]string {
	var common []string
	if isMaster(h) {
		common = append(common, "--control-plane")
	} else {
		common = append(common, flag(contract.FlagNodeRole), string(h.Role))
	}
	common = append(common, packageArgs(s)...)
	common = append(common, "--node-name", h.NodeName())
	common = append(common, runtimeArgs(s)...)
	common = append(common, progressArgs()...)
	var out [][]string
	for _, phase := range preinstallPhases() {
		out = append(out, append([]string{EdgeadmPath, "join", "phase", phase}, common...))
	}
	return out
}

func packageArgs(s *State) []string {
	a := []string{flag(contract.FlagInstallPkgPath), remotePackage(s.Package)}
	// A signed URL's query or an ftp password must stay out of argv.
	if packageSource(s.Package).HasSecret() {
		a = []string{flag(contract.FlagInstallPkgPathFile), packageURLFile}
	}
	if s.PackageSHA256 != "" {
		a = append(a, flag(contract.FlagInstallPkgSHA256), s.PackageSHA256)
	}
	return a
}

// commonArgs are init's and join's runtime flags plus kubeadm's --patches.
func commonArgs(s *State) []string {
	a := runtimeArgs(s)
	if s.Inventory.Cluster.Kubeadm.PatchesDir != "" {
		a = append(a, "--patches", patchesDir)
	}
	return a
}

// runtimeArgs are the container runtime's flags, which edgeadm's own
// phases read too (they have no --patches: that is kubeadm's).
func runtimeArgs(s *State) []string {
	c := s.Inventory.Cluster
	var a []string
	if c.ContainerRuntime.RuntimeBinary != "" {
		a = append(a, flag(contract.FlagRuntimeBinary), c.ContainerRuntime.RuntimeBinary)
	}
	if c.ContainerRuntime.RegistryCAFile != "" {
		a = append(a, flag(contract.FlagRegistryCAFile), registryCAPath)
	}
	for _, r := range c.ContainerRuntime.InsecureRegistries {
		a = append(a, flag(contract.FlagInsecureRegistry), r)
	}
	return a
}

// flag spells a flag of the contract as it goes on a command line.
func flag(name string) string { return "--" + name }

// flagEq spells "--name=" for a value written right after it.
func flagEq(name string) string { return "--" + name + "=" }

// InitArgs, JoinArgs and FinishInitArgs are the edgeadm command lines a run
// gives host h, exported so edgeadm's tests can parse them with edgeadm's
// real flag set (the contract test in cmd/edgeadm).
func InitArgs(s *State, h *Host, uploadCerts bool) []string { return initArgs(s, h, uploadCerts) }

// JoinArgs: see InitArgs.
func JoinArgs(s *State, h *Host, preinstalled bool) []string { return joinArgs(s, h, preinstalled) }

// InstallArgs: see InitArgs.
func InstallArgs(s *State, h *Host) [][]string { return installArgs(s, h) }

// PreinstallPhases: the edgeadm join phases the install phase runs ahead.
func PreinstallPhases() []string { return preinstallPhases() }

// FinishInitArgs: see InitArgs.
func FinishInitArgs(s *State, h *Host) [][]string { return finishInitArgs(s, h) }

// vipArgs are a master's flags for the VIP edgeops manages (none without one).
func vipArgs(c inventory.Cluster) []string {
	if c.VIP == nil {
		return nil
	}
	a := []string{flag(contract.FlagVIP), c.VIP.Address}
	if c.VIP.Interface != "" {
		a = append(a, flag(contract.FlagVIPInterface), c.VIP.Interface)
	}
	return a
}
