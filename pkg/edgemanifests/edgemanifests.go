// Package edgemanifests holds the rules for the edge components' YAML: a
// user's folder overrides the package's manifests/edge file by file, and
// the same placeholders are filled in both. It is pure logic (no
// Kubernetes imports), so edgeops checks an inventory's folder with the
// very rules edgeadm applies on the host.
package edgemanifests

import (
	"path"
	"strings"
)

// Placeholders edgeadm fills in every edge YAML file, the package's and the user's.
const (
	PlaceholderImageRepository = "__IMAGE_REPOSITORY__"
	PlaceholderAPIServer       = "__API_SERVER__"
)

// Placeholder is one placeholder and what edgeadm puts in its place.
type Placeholder struct{ Name, Meaning string }

// Placeholders lists every placeholder, for help texts and error messages.
func Placeholders() []Placeholder {
	return []Placeholder{
		{PlaceholderImageRepository, "the cluster's image repository (kubeadm's imageRepository: --image-repository or registry.k8s.io)"},
		{PlaceholderAPIServer, "the API server as host:port (on an edge node: the one its kubelet talks to)"},
	}
}

// File is one YAML file of edge components.
type File struct {
	Name string // base name, such as 10-edge-proxy-kubeconfig.yaml
	Data []byte
}

// Stem is a file name without .yaml or .yml: tunnel-edge.yml overrides
// tunnel-edge.yaml.
func Stem(name string) string {
	for _, ext := range []string{".yaml", ".yml"} {
		if strings.HasSuffix(name, ext) {
			return strings.TrimSuffix(name, ext)
		}
	}
	return name
}

// IsYAMLName reports whether a file name ends in .yaml or .yml.
func IsYAMLName(name string) bool {
	ext := path.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// Values are what the placeholders stand for.
type Values struct {
	ImageRepository string
	APIServer       string
}

// Substitute fills in the placeholders. An empty value leaves its
// placeholder as it is (the caller knows it is not needed there).
func Substitute(data []byte, v Values) []byte {
	var pairs []string
	if v.ImageRepository != "" {
		pairs = append(pairs, PlaceholderImageRepository, strings.TrimSuffix(v.ImageRepository, "/"))
	}
	if v.APIServer != "" {
		pairs = append(pairs, PlaceholderAPIServer, v.APIServer)
	}
	if len(pairs) == 0 {
		return data
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(data)))
}
