package bundles

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestKubernetesVersion(t *testing.T) {
	v := KubernetesVersion()
	if !regexp.MustCompile(`^v1\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("KubernetesVersion() = %q, want vMAJOR.MINOR.PATCH", v)
	}
	// edgeadm embeds kubeadm of the same minor as the default package.
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	minor := v[:strings.LastIndex(v, ".")]
	if !regexp.MustCompile(`(?m)^\s*k8s.io/kubernetes ` + regexp.QuoteMeta(minor) + `\.\d+$`).Match(mod) {
		t.Errorf("go.mod's k8s.io/kubernetes is not %s.x, the minor of bundles/versions.yaml's %s", minor, v)
	}
	if got, want := PackageFileName("amd64"), "edgeops-bundle-"+v+"-linux-amd64.tar.gz"; got != want {
		t.Errorf("PackageFileName = %q, want %q", got, want)
	}
}
