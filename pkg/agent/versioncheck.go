package agent

import (
	"fmt"
	"runtime/debug"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/kubernetes/cmd/kubeadm/app/constants"

	"github.com/edgeops/edgeops/bundles"
)

// versionRange is the Kubernetes versions the embedded kubeadm can deploy.
type versionRange struct{ min, max *version.Version }

// kubeadmRange is kubeadm's own: MinimumControlPlaneVersion to
// CurrentKubernetesVersion. Those come from the version stamped into the
// binary (make build does); an unstamped build has only kubeadm's
// placeholder, so the embedded module's version stands in for it (a bare
// go build records it; a test binary does not, and takes the version the
// repository pins packages and kubeadm to), with kubeadm's skew of one minor.
func kubeadmRange() versionRange {
	if constants.CurrentKubernetesVersion.String() != constants.DefaultKubernetesPlaceholderVersion.String() {
		return versionRange{constants.MinimumControlPlaneVersion, constants.CurrentKubernetesVersion}
	}
	embedded := bundles.KubernetesVersion()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/kubernetes" {
				embedded = d.Version
			}
		}
	}
	v, err := version.ParseSemantic(embedded)
	if err != nil {
		return versionRange{}
	}
	return versionRange{version.MajorMinor(v.Major(), v.Minor()-1), version.MajorMinor(v.Major(), v.Minor())}
}

// packageVersionLabels are the --kubernetes-version values that mean "the
// package's": kubeadm's default and the labels edgeadm resolves offline.
var packageVersionLabels = map[string]bool{"": true, "stable": true, "stable-1": true}

// checkPackageVersion refuses a package the embedded kubeadm cannot deploy,
// and (init) a --kubernetes-version the package does not carry. requested
// is kubeadm's --kubernetes-version or the configuration's
// kubernetesVersion; "1.37.2" and "v1.37.2" are the same, as for kubeadm.
func checkPackageVersion(pkgVersion, requested string, kubeadm versionRange) error {
	pv, err := version.ParseSemantic(pkgVersion)
	if err != nil {
		return fmt.Errorf("the package's manifest names Kubernetes %q, not a version: the package is damaged; rebuild it (make bundle)", pkgVersion)
	}
	if kubeadm.min != nil && kubeadm.max != nil {
		mm := version.MajorMinor(pv.Major(), pv.Minor())
		if mm.LessThan(version.MajorMinor(kubeadm.min.Major(), kubeadm.min.Minor())) ||
			version.MajorMinor(kubeadm.max.Major(), kubeadm.max.Minor()).LessThan(mm) {
			return fmt.Errorf("the package carries Kubernetes %s, but this edgeadm's kubeadm deploys v%d.%d to v%d.%d: "+
				"use a package of one of those versions (edgeops bundle for v%d.%d), or an edgeadm built for %s",
				pkgVersion, kubeadm.min.Major(), kubeadm.min.Minor(), kubeadm.max.Major(), kubeadm.max.Minor(),
				kubeadm.max.Major(), kubeadm.max.Minor(), pkgVersion)
		}
	}
	req := strings.TrimSpace(requested)
	if packageVersionLabels[req] {
		return nil
	}
	rv, err := version.ParseSemantic("v" + strings.TrimPrefix(req, "v"))
	if err != nil {
		return fmt.Errorf("--kubernetes-version %q: edgeadm installs Kubernetes from the package and cannot resolve a release label offline: "+
			"give the package's version %s (or leave --kubernetes-version unset)", requested, pkgVersion)
	}
	if !rv.EqualTo(pv) {
		return fmt.Errorf("--kubernetes-version %s, but the package carries Kubernetes %s: "+
			"pass --kubernetes-version %s (or leave it unset), or a package built for %s (edgeops-bundle-%s-linux-<arch>.tar.gz)",
			requested, pkgVersion, pkgVersion, "v"+rv.String(), "v"+rv.String())
	}
	return nil
}

// checkJoinSkew refuses a joining node's package whose kubelet the cluster
// cannot take, by Kubernetes' version skew policy: a kubelet is never newer
// than the API server and at most three minors older; a control-plane node
// runs the cluster's own minor. clusterVersion is the join information's
// ("" when unknown, as for a join by hand: nothing to check).
func checkJoinSkew(pkgVersion, clusterVersion string, controlPlane bool) error {
	if clusterVersion == "" {
		return nil
	}
	pv, err1 := version.ParseSemantic(pkgVersion)
	cv, err2 := version.ParseSemantic("v" + strings.TrimPrefix(clusterVersion, "v"))
	if err1 != nil || err2 != nil {
		return nil // checkPackageVersion judged the package; an odd cluster version is kubeadm's to refuse
	}
	p, c := int(pv.Minor()), int(cv.Minor())
	fix := fmt.Sprintf("use a package of the cluster's Kubernetes %s (edgeops-bundle-%s-linux-<arch>.tar.gz)", clusterVersion, "v"+cv.String())
	switch {
	case pv.Major() != cv.Major() || p > c:
		return fmt.Errorf("the package carries Kubernetes %s, newer than the cluster's %s: a kubelet may not be newer than its API server; %s, or upgrade the control plane first",
			pkgVersion, clusterVersion, fix)
	case controlPlane && p != c:
		return fmt.Errorf("the package carries Kubernetes %s, the cluster runs %s: a control-plane node must run the cluster's minor; %s", pkgVersion, clusterVersion, fix)
	case c-p > 3:
		return fmt.Errorf("the package carries Kubernetes %s, more than three minors older than the cluster's %s (the kubelet skew limit); %s", pkgVersion, clusterVersion, fix)
	}
	return nil
}
