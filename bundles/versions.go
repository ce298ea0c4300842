// Package bundles holds the install package's pinned inputs. versions.yaml
// is the one place the default Kubernetes version is spelled: Go code reads
// it through KubernetesVersion, scripts through scripts/lib/versions.sh.
package bundles

import (
	_ "embed"
	"fmt"

	yaml "go.yaml.in/yaml/v3"

	"github.com/edgeops/edgeops/pkg/bundle"
)

//go:embed versions.yaml
var versionsYAML []byte

// KubernetesVersion is the default Kubernetes version (kubernetes.version in
// versions.yaml), such as v1.37.2. The file is compiled in, so a malformed
// one is a build defect: the unit test catches it, and this panics.
func KubernetesVersion() string {
	var v struct {
		Kubernetes struct {
			Version string `yaml:"version"`
		} `yaml:"kubernetes"`
	}
	if err := yaml.Unmarshal(versionsYAML, &v); err != nil || v.Kubernetes.Version == "" {
		panic(fmt.Sprintf("bundles/versions.yaml: no kubernetes.version (%v)", err))
	}
	return v.Kubernetes.Version
}

// PackageFileName is the name make bundle gives the default package for arch.
func PackageFileName(arch string) string {
	return bundle.FileName(KubernetesVersion(), arch)
}
