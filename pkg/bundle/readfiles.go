package bundle

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ReadFiles returns the content of every member under prefix (such as
// "manifests/edge/"), each checked against its sha256, in one pass over
// the archive: ReadFile would decompress it once per member.
func ReadFiles(ctx context.Context, path, prefix string) (map[string][]byte, error) {
	s, err := openStream(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	want := 0
	for name := range s.files {
		if strings.HasPrefix(name, prefix) {
			want++
		}
	}
	out := map[string][]byte{}
	for len(out) < want {
		hdr, err := s.next(ctx)
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("bundle %s: %w: %d member(s) under %s are listed but not in the archive", path, ErrTruncated, want-len(out), prefix)
		}
		if err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeDir || !strings.HasPrefix(hdr.Name, prefix) {
			continue
		}
		buf := &sizedBuffer{b: make([]byte, 0, s.files[hdr.Name].Size)}
		if err := s.copyMember(ctx, hdr.Name, buf); err != nil {
			return nil, err
		}
		out[hdr.Name] = buf.b
	}
	return out, nil
}
