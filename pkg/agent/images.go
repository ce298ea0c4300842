package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// RetagName is the name an image gets under imageRepository, as kubeadm
// names its images there: <repository>/<last path element>:<tag>
// (registry.k8s.io/coredns/coredns:v1.12.1 -> <repository>/coredns:v1.12.1).
// It returns "" when no retag is needed.
func RetagName(name, imageRepository string) string {
	if imageRepository == "" || imageRepository == DefaultImageRepository {
		return ""
	}
	base := name
	if i := strings.LastIndex(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	return strings.TrimSuffix(imageRepository, "/") + "/" + base
}

// listImages returns the image names containerd's k8s.io namespace holds.
func listImages(ctx context.Context, h *Host) (map[string]bool, error) {
	out, err := h.Cmd.Run(ctx, "ctr", "--namespace", "k8s.io", "images", "list", "--quiet")
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			have[l] = true
		}
	}
	return have, nil
}

// missingImages lists recorded images (and their retags) containerd lacks.
func missingImages(ctx context.Context, h *Host, in *Installed) []string {
	have, err := listImages(ctx, h)
	if err != nil {
		return []string{"(containerd: " + err.Error() + ")"}
	}
	var missing []string
	for _, i := range in.Images {
		for _, n := range append([]string{i.Name}, i.Tags...) {
			if !have[n] {
				missing = append(missing, n)
			}
		}
	}
	return missing
}

// importImages imports each image archive into containerd's k8s.io namespace
// and tags it under the image repository, skipping images already imported
// from an archive with the same hash.
func importImages(ctx context.Context, r *Run, dir string, m *bundle.Manifest, prev, in *Installed) error {
	if m.NoImages() {
		return prepareRegistryInstall(ctx, r, in)
	}
	if r.usesRegistry(m) {
		// A full package with registry flags: images the package lacks (the
		// edge components, a user's CNI) come from that registry.
		if err := writeRegistryHosts(r, installRepository(r), in); err != nil {
			return err
		}
	}
	have, err := listImages(ctx, r.Host)
	if err != nil {
		return err
	}
	for _, img := range m.Images {
		f, _ := m.File(img.File)
		rec := InstalledImage{Name: img.Name, ArchiveSHA256: f.SHA256}
		if t := RetagName(img.Name, r.ImageRepository); t != "" {
			rec.Tags = []string{t}
		}
		in.Images = append(in.Images, rec)
		if p, ok := prev.Image(img.Name); ok && p.ArchiveSHA256 == f.SHA256 && have[img.Name] {
			if len(rec.Tags) == 0 || have[rec.Tags[0]] {
				continue
			}
		} else {
			archive := filepath.Join(dir, img.File)
			if _, err := r.Host.Cmd.Run(ctx, "ctr", "--namespace", "k8s.io", "images", "import", archive); err != nil {
				return fmt.Errorf("import image %s from %s: %w", img.Name, img.File, err)
			}
		}
		for _, t := range rec.Tags {
			if _, err := r.Host.Cmd.Run(ctx, "ctr", "--namespace", "k8s.io", "images", "tag", "--force", img.Name, t); err != nil {
				return fmt.Errorf("tag image %s as %s: %w", img.Name, t, err)
			}
		}
	}
	have, err = listImages(ctx, r.Host)
	if err != nil {
		return err
	}
	var missing []string
	for _, i := range in.Images {
		for _, n := range append([]string{i.Name}, i.Tags...) {
			if !have[n] {
				missing = append(missing, n)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("after import, containerd lacks images %v (is each archive named for its image?)", missing)
	}
	r.Host.Logf("[install-package] %d images in containerd", len(in.Images))
	return nil
}
