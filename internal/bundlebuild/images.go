package bundlebuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// imageSpec is one image of the package.
type imageSpec struct {
	file       string   // archive name under images/
	names      []string // tags the archive carries
	entrypoint []string
	user       string
	layers     []*layerFS
}

const imagePath = "PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"

// baseLayer is what every image but pause carries: users, name service
// switch, CA certificates and a sticky /tmp (a distroless-like base).
func baseLayer() (*layerFS, error) {
	l := newLayerFS()
	l.data("/etc/passwd", []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"), 0o644)
	l.data("/etc/group", []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
	l.data("/etc/nsswitch.conf", []byte("hosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n"), 0o644)
	certs := "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(certs); err != nil {
		return nil, fmt.Errorf("CA certificates missing on the build machine (apt-get install ca-certificates): %w", err)
	}
	l.file(certs, certs, 0o644)
	l.dir("/tmp", 0o1777)
	l.dir("/root", 0o700)
	l.dir("/var/run", 0o755)
	return l, nil
}

func appLayer(files map[string]string) *layerFS {
	l := newLayerFS()
	for dst, src := range files {
		l.file(dst, src, 0o755)
	}
	return l
}

// writeImage writes spec's archive under cache/images, reusing one written
// earlier from the same inputs, and returns its path.
func (b *Builder) writeImage(ctx context.Context, spec imageSpec) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	inputs := []string{b.Arch, strings.Join(spec.names, ","), strings.Join(spec.entrypoint, " "), spec.user, imagePath}
	for _, l := range spec.layers {
		in, err := l.digestInput(b.fileHash)
		if err != nil {
			return "", fmt.Errorf("image %s: %w", spec.file, err)
		}
		inputs = append(inputs, in)
	}
	key := hashKey(inputs...)
	dir := filepath.Join(b.Cache, "images")
	out := filepath.Join(dir, strings.TrimSuffix(spec.file, ".tar")+"-"+key+".tar")
	if _, err := os.Stat(out); err == nil {
		b.logf("%-12s image cached (%s)", strings.TrimSuffix(spec.file, ".tar"), key)
		return out, nil
	}
	start := now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var layers []v1.Layer
	for i, l := range spec.layers {
		p := filepath.Join(dir, fmt.Sprintf("%s-%s-layer%d.tar", strings.TrimSuffix(spec.file, ".tar"), key, i))
		f, err := os.Create(p)
		if err != nil {
			return "", err
		}
		err = l.writeTar(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("image %s: layer %d: %w", spec.file, i, err)
		}
		defer os.Remove(p)
		layer, err := tarball.LayerFromFile(p)
		if err != nil {
			return "", fmt.Errorf("image %s: layer %d: %w", spec.file, i, err)
		}
		layers = append(layers, layer)
	}
	cfg := &v1.ConfigFile{
		Architecture: b.Arch, OS: "linux",
		Config: v1.Config{Entrypoint: spec.entrypoint, Env: []string{imagePath}, User: spec.user, WorkingDir: "/"},
		RootFS: v1.RootFS{Type: "layers"},
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return "", err
	}
	if img, err = mutate.AppendLayers(img, layers...); err != nil {
		return "", fmt.Errorf("image %s: %w", spec.file, err)
	}
	refs := map[name.Reference]v1.Image{}
	for _, n := range spec.names {
		tag, err := name.NewTag(n)
		if err != nil {
			return "", fmt.Errorf("image %s: name %q: %w", spec.file, n, err)
		}
		refs[tag] = img
	}
	tmp := out + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("image %s: write: %w", spec.file, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	b.logf("%-12s image written in %s", strings.TrimSuffix(spec.file, ".tar"), since(start))
	return out, nil
}
