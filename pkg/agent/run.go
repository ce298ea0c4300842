package agent

import "time"

// Paths edgeadm owns on a host.
const (
	StateDir          = "/var/lib/edgeadm"
	InstalledPath     = "/var/lib/edgeadm/installed.json"
	PackageCacheDir   = "/var/lib/edgeadm/packages"
	ConfigDir         = "/etc/edgeadm"
	KubeletResolvConf = "/etc/edgeadm/resolv.conf"
	KubeadmConfigFile = "/etc/edgeadm/kubeadm.yaml"
	AdminKubeconfig   = "/etc/kubernetes/admin.conf"
	KubeletKubeconfig = "/etc/kubernetes/kubelet.conf"
	// controllerManagerKubeconfig names this master's local API endpoint.
	controllerManagerKubeconfig = "/etc/kubernetes/controller-manager.conf"
	CNIConflist                 = "/etc/cni/net.d/10-edgeops.conflist"
	CNIBinDir                   = "/opt/cni/bin"
	DefaultPodSubnet            = "10.244.0.0/16"
	// DefaultImageRepository is where kubeadm's images come from when no
	// --image-repository is given; the package's images carry this name.
	DefaultImageRepository = "registry.k8s.io"
	// PodCIDRTimeout bounds the wait for the controller manager to give a node its pod CIDR.
	PodCIDRTimeout = 3 * time.Minute
)

// Run is the state of one edgeadm init, join or phase run.
type Run struct {
	Host *Host
	Opts *Options
	// Workflow is "init" or "join".
	Workflow     string
	ControlPlane bool
	// Role is control-plane, edge or worker.
	Role string
	// ImageRepository is kubeadm's --image-repository (empty: registry.k8s.io).
	ImageRepository string
	// KubeletResolvConf is the resolv.conf the kubelet gets ("" keeps its default).
	KubeletResolvConf string
	// Installed is what the package install put on the host.
	Installed *Installed
	// NodeName is kubeadm's --node-name ("" for the hostname).
	NodeName string
	// Secrets init chose, for the join information (empty when a phase runs alone).
	Secrets InitSecrets
	// KubernetesVersion is init's --kubernetes-version (or its --config's);
	// empty or stable: the package's. A join takes the cluster's.
	KubernetesVersion string
	// ClusterVersion is the cluster's Kubernetes version a join learnt from
	// the join information ("" by hand): the package must fit its skew.
	ClusterVersion string
	// Progress reports the run's steps to edgeops (nil: nobody listens).
	Progress *Progress
	// pkg is the install package once check-package has accepted it.
	pkg *checkedPackage
}

// Kubeconfig is the credential a post-kubeadm phase uses: the admin's on a
// control-plane node, the kubelet's elsewhere.
func (r *Run) Kubeconfig() string {
	if r.ControlPlane && r.Host.Exists(AdminKubeconfig) {
		return r.Host.Path(AdminKubeconfig)
	}
	return r.Host.Path(KubeletKubeconfig)
}

// installed returns the install record, loading it when this run did not install.
func (r *Run) installed() *Installed {
	if r.Installed == nil {
		r.Installed, _ = r.Host.LoadInstalled()
	}
	return r.Installed
}
