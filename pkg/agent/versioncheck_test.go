package agent

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/version"

	"github.com/edgeops/edgeops/bundles"
)

func TestCheckPackageVersion(t *testing.T) {
	// A made-up kubeadm that deploys v1.20 and v1.21, and a package of v1.21.3.
	kubeadm := versionRange{version.MustParseGeneric("v1.20.0"), version.MustParseGeneric("v1.21.0")}
	tests := []struct {
		name, pkg, requested string
		want                 []string // all in the error; none: accepted
	}{
		{"unset: the package's", "v1.21.3", "", nil},
		{"kubeadm's default label", "v1.21.3", "stable-1", nil},
		{"stable", "v1.21.3", "stable", nil},
		{"exact with v", "v1.21.3", "v1.21.3", nil},
		{"exact without v, as the seed writes it", "v1.21.3", "1.21.3", nil},
		{"older minor supported by kubeadm", "v1.20.9", "", nil},
		{"other patch", "v1.21.3", "1.21.2", []string{"--kubernetes-version 1.21.2", "the package carries Kubernetes v1.21.3", "pass --kubernetes-version v1.21.3", "package built for v1.21.2"}},
		{"other minor", "v1.21.3", "v1.20.9", []string{"--kubernetes-version v1.20.9", "v1.21.3"}},
		{"a label that needs the internet", "v1.21.3", "latest", []string{`--kubernetes-version "latest"`, "cannot resolve a release label offline", "v1.21.3"}},
		{"a versioned label", "v1.21.3", "stable-1.21", []string{"release label"}},
		{"garbage", "v1.21.3", "one.two", []string{`"one.two"`}},
		{"package too old for kubeadm", "v1.19.4", "", []string{"carries Kubernetes v1.19.4", "deploys v1.20 to v1.21", "use a package of one of those versions"}},
		{"package too new for kubeadm", "v1.22.0", "", []string{"v1.22.0", "deploys v1.20 to v1.21", "an edgeadm built for v1.22.0"}},
		{"manifest without a version", "", "", []string{"not a version", "make bundle"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefusal(t, checkPackageVersion(tt.pkg, tt.requested, kubeadm), tt.want)
		})
	}
}

// The embedded kubeadm deploys the default package's version (unstamped
// here, as in go test: the range comes from the k8s.io/kubernetes module).
func TestKubeadmRangeTakesTheDefaultPackage(t *testing.T) {
	r := kubeadmRange()
	if r.min == nil || r.max == nil {
		t.Fatal("no kubeadm version range")
	}
	def := version.MustParseSemantic(bundles.KubernetesVersion())
	if r.max.Minor() != def.Minor() || r.min.Minor() != def.Minor()-1 {
		t.Errorf("range v%s..v%s, default package %s", r.min, r.max, def)
	}
	if err := checkPackageVersion(bundles.KubernetesVersion(), "", r); err != nil {
		t.Errorf("the default package is refused: %v", err)
	}
}

func TestCheckJoinSkew(t *testing.T) {
	tests := []struct {
		name, pkg, cluster string
		controlPlane       bool
		want               []string // all in the error; none: accepted
	}{
		{"same version", "v1.37.2", "v1.37.2", false, nil},
		{"same minor, other patch", "v1.37.1", "v1.37.2", true, nil},
		{"worker one minor older", "v1.36.3", "v1.37.2", false, nil},
		{"worker three minors older", "v1.34.4", "v1.37.2", false, nil},
		{"unknown cluster version (by hand)", "v1.37.2", "", false, nil},
		{"worker newer than the cluster", "v1.37.2", "v1.36.3", false, []string{"newer than the cluster's v1.36.3", "edgeops-bundle-v1.36.3-linux-<arch>.tar.gz", "upgrade the control plane"}},
		{"control plane of an older minor", "v1.36.3", "v1.37.2", true, []string{"control-plane node must run the cluster's minor", "v1.37.2"}},
		{"worker four minors older", "v1.33.0", "v1.37.2", false, []string{"more than three minors older"}},
		{"cluster version without the v", "v1.37.2", "1.36.3", false, []string{"newer than the cluster's 1.36.3", "edgeops-bundle-v1.36.3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefusal(t, checkJoinSkew(tt.pkg, tt.cluster, tt.controlPlane), tt.want)
		})
	}
}

// checkRefusal: with no want, err must be nil; else err must contain every want.
func checkRefusal(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted; want an error with %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
