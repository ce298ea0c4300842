package bundlebuild

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// layerFS is the content of one image layer, built in memory as a list of
// entries and written as a tar with fixed owners and times, in path order,
// so the same inputs give the same layer digest.
type layerFS struct {
	entries map[string]*layerEntry
}

type layerEntry struct {
	typ  byte
	mode int64
	src  string // host file to copy
	data []byte
	link string
}

var layerTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func newLayerFS() *layerFS { return &layerFS{entries: map[string]*layerEntry{}} }

func (l *layerFS) dir(p string, mode int64) {
	p = strings.Trim(path.Clean("/"+p), "/")
	if p == "" {
		return
	}
	l.dir(path.Dir(p), 0o755)
	if e, ok := l.entries[p]; ok && e.typ == tar.TypeDir {
		if mode != 0o755 {
			e.mode = mode
		}
		return
	}
	if _, ok := l.entries[p]; ok {
		return // a symlink already stands there (usr-merge /lib)
	}
	l.entries[p] = &layerEntry{typ: tar.TypeDir, mode: mode}
}

func (l *layerFS) file(p, src string, mode int64) {
	p = strings.Trim(path.Clean("/"+p), "/")
	l.dir(path.Dir(p), 0o755)
	l.entries[p] = &layerEntry{typ: tar.TypeReg, mode: mode, src: src}
}

func (l *layerFS) data(p string, data []byte, mode int64) {
	p = strings.Trim(path.Clean("/"+p), "/")
	l.dir(path.Dir(p), 0o755)
	l.entries[p] = &layerEntry{typ: tar.TypeReg, mode: mode, data: data}
}

func (l *layerFS) symlink(p, target string) {
	p = strings.Trim(path.Clean("/"+p), "/")
	l.dir(path.Dir(p), 0o755)
	l.entries[p] = &layerEntry{typ: tar.TypeSymlink, mode: 0o777, link: target}
}

// digestInput describes the layer for cache keys without reading file
// contents twice: host files are named with their sha256.
func (l *layerFS) digestInput(fileHash func(string) (string, error)) (string, error) {
	var b strings.Builder
	for _, p := range l.paths() {
		e := l.entries[p]
		fmt.Fprintf(&b, "%s %c %o %s", p, e.typ, e.mode, e.link)
		switch {
		case e.src != "":
			h, err := fileHash(e.src)
			if err != nil {
				return "", err
			}
			b.WriteString(" " + h)
		case e.typ == tar.TypeReg:
			b.WriteString(" " + hashKey(string(e.data)))
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

func (l *layerFS) paths() []string {
	ps := make([]string, 0, len(l.entries))
	for p := range l.entries {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// writeTar writes the layer as an uncompressed tar.
func (l *layerFS) writeTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	for _, p := range l.paths() {
		e := l.entries[p]
		hdr := &tar.Header{Name: p, Mode: e.mode, ModTime: layerTime, Typeflag: e.typ, Format: tar.FormatPAX}
		var r io.Reader
		switch e.typ {
		case tar.TypeDir:
			hdr.Name += "/"
		case tar.TypeSymlink:
			hdr.Linkname = e.link
		case tar.TypeReg:
			if e.src != "" {
				data, err := os.ReadFile(e.src)
				if err != nil {
					return fmt.Errorf("layer file /%s: %w", p, err)
				}
				r, hdr.Size = bytes.NewReader(data), int64(len(data))
			} else {
				r, hdr.Size = bytes.NewReader(e.data), int64(len(e.data))
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if r != nil {
			if _, err := io.Copy(tw, r); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}
