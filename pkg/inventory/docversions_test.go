package inventory

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/edgeops/edgeops/bundles"
)

// TestDocsNameTheDefaultVersion keeps the README and examples, which must
// show a concrete version to be copied, on bundles/versions.yaml's: bumping
// the version fails here until they follow.
func TestDocsNameTheDefaultVersion(t *testing.T) {
	want := bundles.KubernetesVersion()
	files, _ := filepath.Glob("../../examples/*.yaml")
	files = append(files, "../../README.md")
	spelled := regexp.MustCompile(`edgeops-bundle-(v\d+\.\d+\.\d+)-linux|kubernetesVersion: (v\d+\.\d+\.\d+)`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range spelled.FindAllSubmatch(data, -1) {
			got := string(m[1]) + string(m[2])
			if got != want {
				t.Errorf("%s: %q names %s, the default is %s (bundles/versions.yaml)", f, m[0], got, want)
			}
		}
	}
}
