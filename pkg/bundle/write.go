package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Member is one file to pack: its archive path, mode, and either a source
// file on disk or the bytes themselves.
type Member struct {
	Path   string
	Mode   FileMode
	Source string
	Data   []byte
}

// fixedTime is every member's mtime, so the same inputs give the same bytes.
var fixedTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (mb Member) open() (io.ReadCloser, error) {
	if mb.Source == "" {
		return io.NopCloser(bytes.NewReader(mb.Data)), nil
	}
	return os.Open(mb.Source)
}

// Pack hashes the members, fills base's file list, and writes the package to
// out (through a temporary file, renamed at the end): bundle.yaml first, then
// the members in path order, with fixed owners and times. It returns the
// manifest written.
func Pack(ctx context.Context, out string, base Manifest, members []Member) (*Manifest, error) {
	m := base
	m.APIVersion, m.Kind = APIVersion, Kind
	m.Files = nil
	byPath := make(map[string]Member, len(members))
	for _, mb := range members {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, dup := byPath[mb.Path]; dup {
			return nil, fmt.Errorf("pack %s: member %s given twice", out, mb.Path)
		}
		byPath[mb.Path] = mb
		sum, size, err := memberSHA256(mb)
		if err != nil {
			return nil, fmt.Errorf("pack %s: member %s: %w", out, mb.Path, err)
		}
		m.Files = append(m.Files, File{Path: mb.Path, SHA256: sum, Size: size, Mode: mb.Mode})
	}
	m.Sort()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("pack %s: %w", out, err)
	}
	raw, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	err = writeAtomic(out, 0o644, func(w io.Writer) error {
		gz, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
		if err != nil {
			return err
		}
		tw := tar.NewWriter(gz)
		if err := writeMember(tw, ManifestName, 0o644, int64(len(raw)), bytes.NewReader(raw)); err != nil {
			return err
		}
		for _, f := range m.Files {
			if err := ctx.Err(); err != nil {
				return err
			}
			rc, err := byPath[f.Path].open()
			if err != nil {
				return fmt.Errorf("member %s: %w", f.Path, err)
			}
			err = writeMember(tw, f.Path, int64(f.Mode), f.Size, rc)
			rc.Close()
			if err != nil {
				return fmt.Errorf("member %s: %w", f.Path, err)
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		return gz.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", out, err)
	}
	return &m, nil
}

func writeMember(tw *tar.Writer, name string, mode, size int64, r io.Reader) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size,
		ModTime: fixedTime, Uname: "root", Gname: "root", Format: tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.Copy(tw, r)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("changed while packing: %d bytes, hashed %d", n, size)
	}
	return nil
}

func memberSHA256(mb Member) (string, int64, error) {
	if mb.Source != "" {
		return FileSHA256(filepath.Clean(mb.Source))
	}
	h := newHasher()
	h.Write(mb.Data)
	return h.hex(), int64(len(mb.Data)), nil
}
