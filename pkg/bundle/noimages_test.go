package bundle

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoImagesPackage: a package without images (online install) packs,
// opens, verifies and extracts, its manifest says so, and its file name
// tells it from the full package.
func TestNoImagesPackage(t *testing.T) {
	ctx := context.Background()
	var members []Member
	for _, mb := range testMembers(t) {
		if !strings.HasPrefix(mb.Path, "images/") {
			members = append(members, mb)
		}
	}
	base := testBase()
	base.Images = nil
	base.ImageSource = ImagesFromRegistry
	base.RegistryImages = []string{testImage, "registry.k8s.io/kube-proxy:v1.34.4"}
	out := filepath.Join(t.TempDir(), NoImagesFileName("v1.34.4", "amd64"))
	if _, err := Pack(ctx, out, base, members); err != nil {
		t.Fatalf("Pack: %v", err)
	}
	if err := Verify(ctx, out); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := Extract(ctx, out, t.TempDir()); err != nil {
		t.Fatalf("Extract: %v", err)
	}
	b, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	m := b.Manifest()
	if !m.NoImages() || len(m.Images) != 0 || len(m.RegistryImages) != 2 || m.RegistryImages[0] != "registry.k8s.io/kube-proxy:v1.34.4" {
		t.Errorf("manifest: NoImages %v, images %v, registry images %v", m.NoImages(), m.Images, m.RegistryImages)
	}
	if full := FileName("v1.34.4", "amd64"); filepath.Base(out) == full || !strings.HasSuffix(filepath.Base(out), NoImagesSuffix+".tar.gz") {
		t.Errorf("file name %s is not distinguishable from %s", filepath.Base(out), full)
	}
	if (&Manifest{}).NoImages() || (&Manifest{ImageSource: ImagesInPackage}).NoImages() {
		t.Error("a manifest without imageSource registry says NoImages")
	}
}
