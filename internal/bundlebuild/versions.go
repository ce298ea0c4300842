// Package bundlebuild builds the edgeops install package: binaries from
// pinned Go modules, images assembled with go-containerregistry, and the
// recipe files under bundles/, packed by pkg/bundle. scripts/build-bundle
// runs it through hack/build-bundle.
package bundlebuild

import (
	"bytes"
	"fmt"
	"os"

	yaml "go.yaml.in/yaml/v3"
)

// GoModule is a Go module at a pinned version.
type GoModule struct {
	Module  string `yaml:"module"`
	Version string `yaml:"version"`
	// Replace pins dependencies (module -> version) for versions of
	// upstream's go.mod that the module proxy does not serve.
	Replace map[string]string `yaml:"replace,omitempty"`
}

// Versions is bundles/versions.yaml.
type Versions struct {
	Kubernetes GoModule `yaml:"kubernetes"`
	Etcd       struct {
		GoModule `yaml:",inline"`
		ImageTag string `yaml:"imageTag"`
	} `yaml:"etcd"`
	CoreDNS GoModule `yaml:"coredns"`
	Pause   struct {
		ImageTag string `yaml:"imageTag"`
	} `yaml:"pause"`
	Containerd GoModule `yaml:"containerd"`
	Runc       GoModule `yaml:"runc"`
	Crictl     GoModule `yaml:"crictl"`
	CNIPlugins GoModule `yaml:"cniPlugins"`
	Flannel    struct {
		GoModule `yaml:",inline"`
		Image    string `yaml:"image"`
	} `yaml:"flannel"`
}

// LoadVersions reads and checks the pinned versions file.
func LoadVersions(path string) (*Versions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var v Versions
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for name, m := range map[string]GoModule{
		"kubernetes": v.Kubernetes, "etcd": v.Etcd.GoModule, "coredns": v.CoreDNS, "containerd": v.Containerd,
		"runc": v.Runc, "crictl": v.Crictl, "cniPlugins": v.CNIPlugins, "flannel": v.Flannel.GoModule,
	} {
		if m.Module == "" || m.Version == "" {
			return nil, fmt.Errorf("%s: %s needs module and version", path, name)
		}
	}
	if v.Etcd.ImageTag == "" || v.Pause.ImageTag == "" || v.Flannel.Image == "" {
		return nil, fmt.Errorf("%s: etcd.imageTag, pause.imageTag and flannel.image are required", path)
	}
	return &v, nil
}
