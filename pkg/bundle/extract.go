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
)

// Extract unpacks the package into dir (created if missing), checking every
// member's hash as it goes; a member is moved into place only once its hash
// matched. bundle.yaml is written too. Members that would land outside dir,
// links and devices are refused.
func Extract(ctx context.Context, path, dir string) error {
	s, err := openStream(path)
	if err != nil {
		return err
	}
	defer s.Close()
	root, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("bundle %s: extract to %s: %w", path, dir, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("bundle %s: extract: %w", path, err)
	}
	if err := writeAtomic(filepath.Join(root, ManifestName), 0o644, func(w io.Writer) error {
		_, err := w.Write(s.raw)
		return err
	}); err != nil {
		return fmt.Errorf("bundle %s: extract %s: %w", path, ManifestName, err)
	}
	seen := make(map[string]bool, len(s.manifest.Files))
	for {
		hdr, err := s.next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		dest, err := within(root, hdr.Name)
		if err != nil {
			return fmt.Errorf("bundle %s: %w: %w", path, ErrCorrupt, err)
		}
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(dest, 0o755); err != nil {
				return fmt.Errorf("bundle %s: extract %s: %w", path, hdr.Name, err)
			}
			continue
		}
		if seen[hdr.Name] {
			return fmt.Errorf("bundle %s: %w: member %s appears twice", path, ErrCorrupt, hdr.Name)
		}
		seen[hdr.Name] = true
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return fmt.Errorf("bundle %s: extract %s: %w", path, hdr.Name, err)
		}
		mode := os.FileMode(s.files[hdr.Name].Mode) & os.ModePerm
		var copyErr error
		err = writeAtomic(dest, mode, func(w io.Writer) error {
			copyErr = s.copyMember(ctx, hdr.Name, w)
			return copyErr
		})
		if copyErr != nil {
			return copyErr
		}
		if err != nil {
			return fmt.Errorf("bundle %s: extract %s: %w", path, hdr.Name, err)
		}
	}
	return s.checkAllSeen(seen)
}

// within joins a member name to root and refuses results outside root.
func within(root, member string) (string, error) {
	if err := CheckMemberPath(member); err != nil {
		return "", err
	}
	dest := filepath.Join(root, filepath.FromSlash(member))
	rel, err := filepath.Rel(root, dest)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("member %q: path escapes %s", member, root)
	}
	return dest, nil
}

// writeAtomic writes through a temporary file in the same directory and
// renames it over dest only when write succeeded.
func writeAtomic(dest string, mode os.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

// ReadFile returns one member's content (checked against its sha256), or
// the manifest for bundle.yaml.
func ReadFile(ctx context.Context, path, name string) ([]byte, error) {
	s, err := openStream(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if name == ManifestName {
		return append([]byte(nil), s.raw...), nil
	}
	f, ok := s.files[name]
	if !ok {
		return nil, fmt.Errorf("bundle %s: no member %s in %s", path, name, ManifestName)
	}
	for {
		hdr, err := s.next(ctx)
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("bundle %s: %w: member %s is listed but not in the archive", path, ErrTruncated, name)
		}
		if err != nil {
			return nil, err
		}
		if hdr.Name != name {
			continue
		}
		buf := &sizedBuffer{b: make([]byte, 0, f.Size)}
		if err := s.copyMember(ctx, name, buf); err != nil {
			return nil, err
		}
		return buf.b, nil
	}
}

type sizedBuffer struct{ b []byte }

func (s *sizedBuffer) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}
