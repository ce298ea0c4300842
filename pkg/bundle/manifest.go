// Package bundle reads, verifies, extracts and fetches edgeops install
// packages: a tar.gz whose first member is bundle.yaml (the manifest) and whose
// other members are listed in it with their sha256. See docs/CONTRACTS.md.
package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

const (
	// APIVersion and Kind identify a manifest.
	APIVersion = "edgeops.io/v1"
	Kind       = "Bundle"
	// ManifestName is the archive's first member.
	ManifestName = "bundle.yaml"
	// maxManifestSize bounds what Open reads before it trusts anything.
	maxManifestSize = 4 << 20
)

// FileName is the package's file name for a Kubernetes version and architecture.
func FileName(kubernetesVersion, arch string) string {
	return fmt.Sprintf("edgeops-bundle-%s-linux-%s.tar.gz", kubernetesVersion, arch)
}

// NoImagesSuffix marks the file name of a package without images.
const NoImagesSuffix = "-noimages"

// NoImagesFileName is the file name of the package without images (online
// install: the nodes pull from a registry).
func NoImagesFileName(kubernetesVersion, arch string) string {
	return fmt.Sprintf("edgeops-bundle-%s-linux-%s%s.tar.gz", kubernetesVersion, arch, NoImagesSuffix)
}

// Where a package's images come from (Manifest.ImageSource).
const (
	// ImagesInPackage (the default, also spelled ""): images/*.tar, imported on the node.
	ImagesInPackage = "package"
	// ImagesFromRegistry: the package carries no image; the nodes pull
	// RegistryImages from the registry named by --image-repository.
	ImagesFromRegistry = "registry"
)

// Manifest is bundle.yaml.
type Manifest struct {
	APIVersion        string      `yaml:"apiVersion" json:"apiVersion"`
	Kind              string      `yaml:"kind" json:"kind"`
	KubernetesVersion string      `yaml:"kubernetesVersion" json:"kubernetesVersion"`
	OS                string      `yaml:"os" json:"os"`
	Arch              string      `yaml:"arch" json:"arch"`
	Components        []Component `yaml:"components" json:"components"`
	Files             []File      `yaml:"files" json:"files"`
	Images            []Image     `yaml:"images" json:"images"`
	// ImageSource is ImagesFromRegistry for a package without images;
	// empty (or ImagesInPackage) when the images are in it.
	ImageSource string `yaml:"imageSource,omitempty" json:"imageSource,omitempty"`
	// RegistryImages are the images the nodes pull instead (upstream names,
	// registry.k8s.io/…): what a registry must hold for an online install.
	RegistryImages []string `yaml:"registryImages,omitempty" json:"registryImages,omitempty"`
}

// NoImages reports a package whose nodes pull their images from a registry.
func (m *Manifest) NoImages() bool { return m.ImageSource == ImagesFromRegistry }

// Component is one part of the package and its version.
type Component struct {
	Name    string `yaml:"name" json:"name"`
	Version string `yaml:"version" json:"version"`
}

// File is one archive member other than bundle.yaml.
type File struct {
	Path   string   `yaml:"path" json:"path"`
	SHA256 string   `yaml:"sha256" json:"sha256"`
	Size   int64    `yaml:"size" json:"size"`
	Mode   FileMode `yaml:"mode" json:"mode"`
}

// Image is one image archive and the name it carries.
type Image struct {
	Name string `yaml:"name" json:"name"`
	File string `yaml:"file" json:"file"`
}

// FileMode is a permission mode written in octal (0755) in bundle.yaml.
type FileMode uint32

// MarshalYAML writes the mode as an octal literal.
func (m FileMode) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprintf("0%o", uint32(m))}, nil
}

// UnmarshalYAML reads 0755 as octal (YAML 1.1 style) and 0o755 too.
func (m *FileMode) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimPrefix(strings.TrimPrefix(n.Value, "0o"), "0")
	if s == "" {
		s = "0"
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return fmt.Errorf("mode %q: want an octal permission such as 0755", n.Value)
	}
	*m = FileMode(v)
	return nil
}

var (
	hexSHA256   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	versionLike = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+-]*$`)
)

// ParseManifest decodes and validates bundle.yaml; unknown fields are refused.
func ParseManifest(data []byte) (*Manifest, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	return &m, nil
}

// Marshal encodes the manifest as YAML.
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode %s: %w", ManifestName, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", ManifestName, err)
	}
	return buf.Bytes(), nil
}

// Validate checks the manifest's shape: known kind, safe unique paths,
// well-formed hashes, and images that point at listed files.
func (m *Manifest) Validate() error {
	var errs []error
	if m.APIVersion != APIVersion || m.Kind != Kind {
		errs = append(errs, fmt.Errorf("apiVersion/kind %q/%q: want %q/%q", m.APIVersion, m.Kind, APIVersion, Kind))
	}
	if !versionLike.MatchString(m.KubernetesVersion) {
		errs = append(errs, fmt.Errorf("kubernetesVersion %q: not a version", m.KubernetesVersion))
	}
	if m.OS == "" || m.Arch == "" {
		errs = append(errs, errors.New("os and arch are required"))
	}
	seen := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		if err := CheckMemberPath(f.Path); err != nil {
			errs = append(errs, err)
			continue
		}
		if f.Path == ManifestName {
			errs = append(errs, fmt.Errorf("file %s: the manifest does not list itself", f.Path))
		}
		if seen[f.Path] {
			errs = append(errs, fmt.Errorf("file %s: listed twice", f.Path))
		}
		seen[f.Path] = true
		if !hexSHA256.MatchString(f.SHA256) {
			errs = append(errs, fmt.Errorf("file %s: sha256 %q is not 64 lowercase hex digits", f.Path, f.SHA256))
		}
		if f.Size < 0 {
			errs = append(errs, fmt.Errorf("file %s: negative size", f.Path))
		}
	}
	names := make(map[string]bool, len(m.Images))
	for _, img := range m.Images {
		if img.Name == "" {
			errs = append(errs, fmt.Errorf("image in %s: no name", img.File))
		}
		if names[img.Name] {
			errs = append(errs, fmt.Errorf("image %s: listed twice", img.Name))
		}
		names[img.Name] = true
		if !seen[img.File] {
			errs = append(errs, fmt.Errorf("image %s: file %q is not in the file list", img.Name, img.File))
		}
	}
	switch m.ImageSource {
	case "", ImagesInPackage:
		if len(m.RegistryImages) > 0 {
			errs = append(errs, fmt.Errorf("registryImages: only with imageSource %q", ImagesFromRegistry))
		}
	case ImagesFromRegistry:
		if len(m.Images) > 0 {
			errs = append(errs, fmt.Errorf("imageSource %q: the package must carry no images, it lists %d", ImagesFromRegistry, len(m.Images)))
		}
	default:
		errs = append(errs, fmt.Errorf("imageSource %q: want %q or %q", m.ImageSource, ImagesInPackage, ImagesFromRegistry))
	}
	return errors.Join(errs...)
}

// CheckMemberPath refuses archive member names that could escape the
// extraction directory or are not in canonical form.
func CheckMemberPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty member path")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("member %q: absolute path", p)
	case strings.ContainsRune(p, '\\') || strings.ContainsRune(p, 0):
		return fmt.Errorf("member %q: bad character in path", p)
	case path.Clean(p) != p:
		return fmt.Errorf("member %q: path is not clean", p)
	case p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("member %q: path escapes the package", p)
	}
	return nil
}

// File returns the entry for a member path.
func (m *Manifest) File(p string) (File, bool) {
	for _, f := range m.Files {
		if f.Path == p {
			return f, true
		}
	}
	return File{}, false
}

// Component returns a component's version.
func (m *Manifest) Component(name string) (string, bool) {
	for _, c := range m.Components {
		if c.Name == name {
			return c.Version, true
		}
	}
	return "", false
}

// Sort puts components, files and images in name order so the same inputs
// give the same manifest.
func (m *Manifest) Sort() {
	sort.Slice(m.Components, func(i, j int) bool { return m.Components[i].Name < m.Components[j].Name })
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	sort.Slice(m.Images, func(i, j int) bool { return m.Images[i].Name < m.Images[j].Name })
	sort.Strings(m.RegistryImages)
}
