package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edgeops/edgeops/pkg/bundle"
	"github.com/edgeops/edgeops/pkg/contract"
)

// download copies the package at src into dst (0600) through dst+".part",
// resuming a partial file: http(s) through bundle.Fetch (Range), ftp
// through jlaffaye/ftp (REST). Either way a given sha256 is checked before
// the rename, and a dst that already has it is kept as is.
func download(ctx context.Context, h *Host, src contract.Source, dst, sha string) error {
	progress := progressLog(h, src)
	switch src.Kind {
	case contract.SourceHTTP, contract.SourceHTTPS:
		return redact(bundle.Fetch(ctx, src.URL.String(), dst, sha, progress), src)
	case contract.SourceFTP:
		if sha != "" {
			if got, size, err := bundle.FileSHA256(dst); err == nil && got == sha {
				progress(size, size)
				return nil
			}
		}
		part := dst + ".part"
		if err := defaultFTPFetcher.fetch(ctx, src, part, progress); err != nil {
			return redact(err, src)
		}
		return finishDownload(part, dst, sha)
	}
	return fmt.Errorf("%s: not a download", src)
}

// finishDownload checks the sha256 of a complete part file and renames it
// into place; a mismatch removes it (a resumed download must not build on
// bytes that are wrong).
func finishDownload(part, dst, sha string) error {
	if sha != "" {
		got, _, err := bundle.FileSHA256(part)
		if err != nil {
			return err
		}
		if got != sha {
			os.Remove(part)
			return fmt.Errorf("%w: sha256 is %s, want %s", bundle.ErrCorrupt, got, sha)
		}
	}
	if err := os.Chmod(part, 0o600); err != nil {
		return err
	}
	return os.Rename(part, dst)
}

// progressLog reports a download every few seconds and at its end.
func progressLog(h *Host, src contract.Source) func(done, total int64) {
	const mib = 1 << 20
	var last time.Time
	return func(done, total int64) {
		end := total >= 0 && done >= total
		if !end && time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		if total > 0 {
			h.Logf("[check-package] %s: %.1f of %.1f MiB (%d%%)", src, float64(done)/mib, float64(total)/mib, done*100/total)
		} else {
			h.Logf("[check-package] %s: %.1f MiB", src, float64(done)/mib)
		}
	}
}

// redactedError shows an error with the URL's password and query replaced,
// keeping the original for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact takes src's secrets out of err's message (bundle.Fetch names the
// raw URL; an error reaches the terminal and the logs).
func redact(err error, src contract.Source) error {
	if err == nil || !src.HasSecret() {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), src.URL.String(), src.String())
	for _, s := range src.Secrets() {
		msg = strings.ReplaceAll(msg, s, "REDACTED")
	}
	return &redactedError{msg: msg, err: err}
}

// mkdirAll creates dir and its missing parents and returns those it made,
// deepest first, so that a refusal can take them away again.
func mkdirAll(dir string, mode os.FileMode) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, mode); err != nil {
		return nil, err
	}
	return missing, nil
}

// cacheName is the file a downloaded package is kept as: the URL's last
// path element, or a fixed name when the path has none ("http://host/?id=3"),
// which would otherwise make the cache directory itself the destination.
func cacheName(src contract.Source) string {
	if name := src.FileName(); name != "" {
		return name
	}
	return "package.tar.gz"
}
