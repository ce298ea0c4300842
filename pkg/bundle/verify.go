package bundle

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// Verify checks every member's size and sha256 against the manifest, that
// nothing is missing or extra, and that every image archive loads under its
// name with intact layers. Errors name the package and the member.
func Verify(ctx context.Context, path string) error {
	s, err := openStream(path)
	if err != nil {
		return err
	}
	defer s.Close()
	images := make(map[string]string, len(s.manifest.Images)) // file -> image name
	for _, img := range s.manifest.Images {
		images[img.File] = img.Name
	}
	tmp, err := os.MkdirTemp("", "edgeops-bundle-verify-")
	if err != nil {
		return fmt.Errorf("bundle %s: verify: %w", path, err)
	}
	defer os.RemoveAll(tmp)

	seen := make(map[string]bool, len(s.manifest.Files))
	for {
		hdr, err := s.next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeDir {
			continue // directory
		}
		if seen[hdr.Name] {
			return fmt.Errorf("bundle %s: %w: member %s appears twice", path, ErrCorrupt, hdr.Name)
		}
		seen[hdr.Name] = true
		var w io.Writer = io.Discard
		var out *os.File
		if _, ok := images[hdr.Name]; ok {
			// Image archives need random access to load: keep a copy.
			out, err = os.Create(filepath.Join(tmp, strings.ReplaceAll(hdr.Name, "/", "_")))
			if err != nil {
				return fmt.Errorf("bundle %s: verify %s: %w", path, hdr.Name, err)
			}
			w = out
		}
		err = s.copyMember(ctx, hdr.Name, w)
		if out != nil {
			if cerr := out.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("bundle %s: verify %s: %w", path, hdr.Name, cerr)
			}
		}
		if err != nil {
			return err
		}
	}
	if err := s.checkAllSeen(seen); err != nil {
		return err
	}
	for _, img := range s.manifest.Images {
		p := filepath.Join(tmp, strings.ReplaceAll(img.File, "/", "_"))
		if err := checkImage(ctx, p, img.Name); err != nil {
			return fmt.Errorf("bundle %s: %w: image %s (%s): %w", path, ErrCorrupt, img.Name, img.File, err)
		}
	}
	return nil
}

// checkImage loads a docker-style image archive by its tag and reads every
// layer, checking digests and diff IDs the way an import would.
func checkImage(ctx context.Context, archive, ref string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image name: %w", err)
	}
	img, err := tarball.ImageFromPath(archive, &tag)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if err := validate.Image(img); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	return nil
}
