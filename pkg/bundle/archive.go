package bundle

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

var (
	// ErrCorrupt marks a package whose content does not match its manifest
	// or is not a well-formed archive.
	ErrCorrupt = errors.New("corrupt package")
	// ErrTruncated marks a package that ends early (an interrupted copy).
	ErrTruncated = errors.New("truncated package")
)

// Bundle is an opened package: its path and its manifest.
type Bundle struct {
	path     string
	manifest *Manifest
	raw      []byte
}

// Open reads and validates the manifest of the package at path. It does not
// check the other members; Verify does.
func Open(path string) (*Bundle, error) {
	s, err := openStream(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return &Bundle{path: path, manifest: s.manifest, raw: s.raw}, nil
}

// Path is where the package was opened from.
func (b *Bundle) Path() string { return b.path }

// Manifest is the package's bundle.yaml.
func (b *Bundle) Manifest() *Manifest { return b.manifest }

// RawManifest is bundle.yaml exactly as stored.
func (b *Bundle) RawManifest() []byte { return append([]byte(nil), b.raw...) }

// stream walks a package member by member, translating archive errors into
// ErrCorrupt or ErrTruncated with the package path and last member named.
type stream struct {
	path     string
	f        *os.File
	gz       *gzip.Reader
	tr       *tar.Reader
	manifest *Manifest
	raw      []byte
	last     string
	files    map[string]File
}

func openStream(path string) (*stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	s := &stream{path: path, f: f, last: "(start)"}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, s.wrap(err, "not a gzip file")
	}
	s.gz = gz
	s.tr = tar.NewReader(gz)
	hdr, err := s.tr.Next()
	if err != nil {
		s.Close()
		return nil, s.wrap(err, "reading the first member")
	}
	if hdr.Name != ManifestName || hdr.Typeflag != tar.TypeReg {
		s.Close()
		return nil, fmt.Errorf("bundle %s: %w: first member is %q, want %s", path, ErrCorrupt, hdr.Name, ManifestName)
	}
	if hdr.Size > maxManifestSize {
		s.Close()
		return nil, fmt.Errorf("bundle %s: %w: %s is %d bytes, limit %d", path, ErrCorrupt, ManifestName, hdr.Size, maxManifestSize)
	}
	raw, err := io.ReadAll(s.tr)
	if err != nil {
		s.Close()
		return nil, s.wrap(err, "reading "+ManifestName)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("bundle %s: %w: %w", path, ErrCorrupt, err)
	}
	s.manifest, s.raw, s.last = m, raw, ManifestName
	s.files = make(map[string]File, len(m.Files))
	for _, fl := range m.Files {
		s.files[fl.Path] = fl
	}
	return s, nil
}

func (s *stream) Close() {
	if s.gz != nil {
		s.gz.Close()
	}
	s.f.Close()
}

// wrap names the package and the member after which the error happened.
func (s *stream) wrap(err error, what string) error {
	kind := ErrCorrupt
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		kind = ErrTruncated
	}
	return fmt.Errorf("bundle %s: %w: %s (after member %s): %w", s.path, kind, what, s.last, err)
}

// next returns the next member header, or io.EOF after the last one once the
// gzip trailer (CRC and length) has been checked.
func (s *stream) next(ctx context.Context) (*tar.Header, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", s.path, err)
	}
	hdr, err := s.tr.Next()
	if errors.Is(err, io.EOF) {
		// The tar end marker was read; the gzip trailer must follow intact.
		if _, derr := io.Copy(io.Discard, s.gz); derr != nil {
			return nil, s.wrap(derr, "reading the end of the archive")
		}
		return nil, io.EOF
	}
	if err != nil {
		return nil, s.wrap(err, "reading the next member header")
	}
	if err := CheckMemberPath(hdr.Name); err != nil {
		return nil, fmt.Errorf("bundle %s: %w: %w", s.path, ErrCorrupt, err)
	}
	if hdr.Typeflag == tar.TypeDir {
		return hdr, nil
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("bundle %s: %w: member %s: type %q not allowed (only files and directories)", s.path, ErrCorrupt, hdr.Name, hdr.Typeflag)
	}
	if hdr.Name == ManifestName {
		return nil, fmt.Errorf("bundle %s: %w: %s appears twice", s.path, ErrCorrupt, ManifestName)
	}
	f, ok := s.files[hdr.Name]
	if !ok {
		return nil, fmt.Errorf("bundle %s: %w: member %s is not listed in %s", s.path, ErrCorrupt, hdr.Name, ManifestName)
	}
	if hdr.Size != f.Size {
		return nil, fmt.Errorf("bundle %s: %w: member %s is %d bytes, %s says %d", s.path, ErrCorrupt, hdr.Name, hdr.Size, ManifestName, f.Size)
	}
	s.last = hdr.Name
	return hdr, nil
}

// copyMember copies the current member to w, checking size and sha256
// against the manifest.
func (s *stream) copyMember(ctx context.Context, name string, w io.Writer) error {
	f := s.files[name]
	h := newHasher()
	n, err := io.Copy(io.MultiWriter(w, h), ctxReader{ctx, s.tr})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("bundle %s: %s: %w", s.path, name, ctx.Err())
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("bundle %s: %w: member %s ends after %d of %d bytes: %w", s.path, ErrTruncated, name, n, f.Size, err)
		}
		return fmt.Errorf("bundle %s: member %s: %w", s.path, name, err)
	}
	if got := h.hex(); got != f.SHA256 {
		return fmt.Errorf("bundle %s: %w: member %s: sha256 is %s, %s says %s", s.path, ErrCorrupt, name, got, ManifestName, f.SHA256)
	}
	return nil
}

// checkAllSeen reports manifest files the archive did not contain: the sign
// of a package cut short at a member boundary.
func (s *stream) checkAllSeen(seen map[string]bool) error {
	var missing []string
	for _, f := range s.manifest.Files {
		if !seen[f.Path] {
			missing = append(missing, f.Path)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("bundle %s: %w: %d of %d files missing after member %s (first missing: %s)",
		s.path, ErrTruncated, len(missing), len(s.manifest.Files), s.last, missing[0])
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
