package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// fetchAttempts bounds how often a broken download is resumed.
const fetchAttempts = 6

// fetchIdleTimeout ends a download attempt that receives nothing for this
// long (a stalled link); the next attempt resumes where it stopped.
const fetchIdleTimeout = 60 * time.Second

// fetcher holds Fetch's tunables, so tests can shorten them.
type fetcher struct {
	attempts int
	idle     time.Duration
	backoff  time.Duration
}

var defaultFetcher = fetcher{attempts: fetchAttempts, idle: fetchIdleTimeout, backoff: time.Second}

// Fetch copies the package at src (a local path, a file:// URL or an http(s)
// URL) to dst (mode 0600). Downloads go to dst+".part" and resume from its
// length with a Range request after a broken connection, both within this
// call (up to a few retries with backoff) and across calls. When sha256 is
// set, a dst that already matches is kept as is, and the result is checked
// before it is renamed into place; a mismatch removes the partial file.
// progress, if set, is called with bytes done and the total (-1 if unknown).
func Fetch(ctx context.Context, src, dst, sha256 string, progress func(done, total int64)) error {
	return defaultFetcher.fetch(ctx, src, dst, sha256, progress)
}

func (f fetcher) fetch(ctx context.Context, src, dst, sha256 string, progress func(done, total int64)) error {
	want := strings.ToLower(strings.TrimSpace(sha256))
	if want != "" && !hexSHA256.MatchString(want) {
		return fmt.Errorf("fetch %s: expected sha256 %q is not 64 hex digits", src, sha256)
	}
	if progress == nil {
		progress = func(int64, int64) {}
	}
	if want != "" {
		if got, size, err := FileSHA256(dst); err == nil && got == want {
			progress(size, size)
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("fetch %s: %w", src, err)
	}
	part := dst + ".part"
	u, err := url.Parse(src)
	switch {
	case err == nil && (u.Scheme == "http" || u.Scheme == "https"):
		err = f.fetchHTTP(ctx, src, part, progress)
	case err == nil && u.Scheme == "file":
		err = copyLocal(ctx, u.Path, part, progress)
	default:
		err = copyLocal(ctx, src, part, progress)
	}
	if err != nil {
		return fmt.Errorf("fetch %s: %w", src, err)
	}
	if want != "" {
		got, _, err := FileSHA256(part)
		if err != nil {
			return fmt.Errorf("fetch %s: %w", src, err)
		}
		if got != want {
			os.Remove(part)
			return fmt.Errorf("fetch %s: %w: sha256 is %s, want %s", src, ErrCorrupt, got, want)
		}
	}
	if err := os.Chmod(part, 0o600); err != nil {
		return fmt.Errorf("fetch %s: %w", src, err)
	}
	if err := os.Rename(part, dst); err != nil {
		return fmt.Errorf("fetch %s: %w", src, err)
	}
	return nil
}

func copyLocal(ctx context.Context, src, part string, progress func(done, total int64)) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(part, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, &progressReader{r: ctxReader{ctx, in}, total: st.Size(), fn: progress})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// errPermanent marks an HTTP failure a retry cannot fix.
type errPermanent struct{ error }

func (f fetcher) fetchHTTP(ctx context.Context, src, part string, progress func(done, total int64)) error {
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}}
	defer client.CloseIdleConnections()
	var last error
	for attempt := 0; attempt < f.attempts; attempt++ {
		if attempt > 0 {
			delay := time.Duration(1<<min(attempt-1, 4)) * f.backoff
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (last error: %w)", ctx.Err(), last)
			case <-time.After(delay):
			}
		}
		err := f.fetchOnce(ctx, client, src, part, progress)
		if err == nil {
			return nil
		}
		var perm errPermanent
		if ctx.Err() != nil || errors.As(err, &perm) {
			return err
		}
		last = err
	}
	return fmt.Errorf("gave up after %d attempts: %w", f.attempts, last)
}

// fetchOnce downloads into part, continuing from its current length.
func (f fetcher) fetchOnce(ctx context.Context, client *http.Client, src, part string, progress func(done, total int64)) error {
	// A watchdog cancels the attempt when no byte arrives for f.idle.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errStalled := fmt.Errorf("stalled: no data for %s", f.idle)
	watchdog := time.AfterFunc(f.idle, func() { cancel(errStalled) })
	defer watchdog.Stop()
	inner := progress
	progress = func(done, total int64) {
		watchdog.Reset(f.idle)
		inner(done, total)
	}
	err := f.fetchBody(ctx, client, src, part, progress)
	if err != nil && context.Cause(ctx) == errStalled {
		return fmt.Errorf("%w (%w)", errStalled, err)
	}
	return err
}

func (f fetcher) fetchBody(ctx context.Context, client *http.Client, src, part string, progress func(done, total int64)) error {
	out, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return errPermanent{err}
	}
	defer out.Close()
	offset, err := out.Seek(0, io.SeekEnd)
	if err != nil {
		return errPermanent{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return errPermanent{err}
	}
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	total := int64(-1)
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			return errPermanent{fmt.Errorf("server answered range %q to a request from byte %d", resp.Header.Get("Content-Range"), offset)}
		}
		total = size
	case resp.StatusCode == http.StatusOK:
		// No range support (or a fresh start): begin again from zero.
		if err := out.Truncate(0); err != nil {
			return errPermanent{err}
		}
		if _, err := out.Seek(0, io.SeekStart); err != nil {
			return errPermanent{err}
		}
		offset = 0
		total = resp.ContentLength
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		// The partial file already holds everything; the checksum decides.
		progress(offset, offset)
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout:
		return fmt.Errorf("GET %s: %s", src, resp.Status)
	default:
		return errPermanent{fmt.Errorf("GET %s: %s", src, resp.Status)}
	}
	n, err := io.Copy(out, &progressReader{r: resp.Body, done: offset, total: total, fn: progress})
	if err != nil {
		return fmt.Errorf("download broke after %d bytes: %w", offset+n, err)
	}
	if total >= 0 && offset+n != total {
		return fmt.Errorf("download ended at %d of %d bytes", offset+n, total)
	}
	return nil
}

// parseContentRange reads "bytes START-END/SIZE".
func parseContentRange(v string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(s, 10, 64)
	size = -1
	var err2 error
	if sz != "*" {
		size, err2 = strconv.ParseInt(sz, 10, 64)
	}
	return start, size, err1 == nil && err2 == nil
}

// NewProgressReader reads r and calls fn with the bytes read so far
// (starting at done, as after a resume) and total after every read.
func NewProgressReader(r io.Reader, done, total int64, fn func(done, total int64)) io.Reader {
	return &progressReader{r: r, done: done, total: total, fn: fn}
}

type progressReader struct {
	r           io.Reader
	done, total int64
	fn          func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if n > 0 {
		p.fn(p.done, p.total)
	}
	return n, err
}
