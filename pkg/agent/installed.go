package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// Installed is /var/lib/edgeadm/installed.json: what the package install put
// on the host, so a re-run skips what is the same and reset removes it all.
type Installed struct {
	PackagePath       string           `json:"packagePath"`
	PackageSHA256     string           `json:"packageSHA256"`
	KubernetesVersion string           `json:"kubernetesVersion"`
	ImageRepository   string           `json:"imageRepository,omitempty"`
	RuntimeBinary     string           `json:"runtimeBinary,omitempty"`
	Files             []InstalledFile  `json:"files"`
	Units             []string         `json:"units"`
	Images            []InstalledImage `json:"images"`
	InstalledAt       time.Time        `json:"installedAt"`
	ImageSource       string           `json:"imageSource,omitempty"` // "registry": an image-less package, images pulled
}

// InstalledFile is one file written on the host.
type InstalledFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// InstalledImage is one image imported into containerd.
type InstalledImage struct {
	Name          string   `json:"name"`
	ArchiveSHA256 string   `json:"archiveSHA256"`
	Tags          []string `json:"tags,omitempty"`
}

// LoadInstalled reads the record; a missing record is (nil, nil).
func (h *Host) LoadInstalled() (*Installed, error) {
	data, err := h.ReadFile(InstalledPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", InstalledPath, err)
	}
	var in Installed
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("parse %s: %w", InstalledPath, err)
	}
	return &in, nil
}

// SaveInstalled writes the record (0600: it names the package path).
func (h *Host) SaveInstalled(in *Installed) error {
	data, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", InstalledPath, err)
	}
	return h.WriteFile(InstalledPath, data, 0o600)
}

// FileSHA256 returns the recorded hash of a path, or "".
func (in *Installed) FileSHA256(path string) string {
	if in == nil {
		return ""
	}
	for _, f := range in.Files {
		if f.Path == path {
			return f.SHA256
		}
	}
	return ""
}

// Image returns the record of an image, if any.
func (in *Installed) Image(name string) (InstalledImage, bool) {
	if in == nil {
		return InstalledImage{}, false
	}
	for _, i := range in.Images {
		if i.Name == name {
			return i, true
		}
	}
	return InstalledImage{}, false
}
