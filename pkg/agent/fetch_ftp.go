package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/edgeops/edgeops/pkg/bundle"
	"github.com/edgeops/edgeops/pkg/contract"
)

// ftpFetcher holds the FTP download's tunables, so tests can shorten them.
type ftpFetcher struct {
	attempts int           // connections tried before giving up
	idle     time.Duration // no byte for this long: the attempt is stalled
	backoff  time.Duration // first wait between attempts, doubled after each
}

// defaultFTPFetcher matches the http path's retries and stall timeout.
var defaultFTPFetcher = ftpFetcher{attempts: 6, idle: 60 * time.Second, backoff: time.Second}

// errFTPPermanent marks an answer that another attempt cannot change (no
// such file, login refused).
type errFTPPermanent struct{ error }

func (e errFTPPermanent) Unwrap() error { return e.error }

// fetch downloads src into part in passive mode, continuing from part's
// length (REST) as the http path continues with Range; a server that
// refuses REST gets a clean restart from byte 0.
func (f ftpFetcher) fetch(ctx context.Context, src contract.Source, part string, progress func(done, total int64)) error {
	var last error
	for attempt := 0; attempt < f.attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (last error: %w)", ctx.Err(), last)
			case <-time.After(time.Duration(1<<min(attempt-1, 4)) * f.backoff):
			}
		}
		err := f.once(ctx, src, part, progress)
		if err == nil {
			return nil
		}
		var perm errFTPPermanent
		if ctx.Err() != nil || errors.As(err, &perm) {
			return err
		}
		last = err
	}
	return fmt.Errorf("gave up after %d attempts: %w", f.attempts, last)
}

// conns closes every connection of one attempt when its context ends:
// jlaffaye/ftp takes a context for the dial only.
type conns struct {
	mu   sync.Mutex
	list []net.Conn
	done bool
}

func (c *conns) add(conn net.Conn) net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		conn.Close()
	} else {
		c.list = append(c.list, conn)
	}
	return conn
}

func (c *conns) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	for _, conn := range c.list {
		conn.Close()
	}
}

func (f ftpFetcher) once(ctx context.Context, src contract.Source, part string, progress func(done, total int64)) error {
	var open conns
	stop := context.AfterFunc(ctx, open.closeAll)
	defer stop()
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	addr := src.URL.Host
	if src.URL.Port() == "" {
		addr = net.JoinHostPort(src.URL.Hostname(), "21")
	}
	c, err := ftp.Dial(addr, ftp.DialWithContext(ctx), ftp.DialWithDialFunc(func(network, address string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return open.add(conn), nil
	}))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer c.Quit()

	user, pass := "anonymous", "anonymous"
	if u := src.URL.User; u != nil {
		user = u.Username()
		if p, ok := u.Password(); ok {
			pass = p
		}
	}
	if err := c.Login(user, pass); err != nil {
		return classify(fmt.Errorf("log in as %q: %w", user, err))
	}
	// Login has switched to binary (TYPE I): SIZE and REST count bytes.
	file := src.URL.Path
	total, err := c.FileSize(file)
	if err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code == ftp.StatusFileUnavailable {
			return errFTPPermanent{fmt.Errorf("the server has no file %s: SIZE answered %d %s", file, te.Code, te.Msg)}
		}
		total = -1 // SIZE is optional (RFC 3659); RETR decides
	}

	out, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return errFTPPermanent{err}
	}
	defer out.Close()
	offset, err := out.Seek(0, io.SeekEnd)
	if err != nil {
		return errFTPPermanent{err}
	}
	if total >= 0 && offset == total {
		progress(offset, total) // complete already; the checksum decides
		return nil
	}
	if total >= 0 && offset > total {
		offset = 0 // not this file's beginning
	}
	resp, err := c.RetrFrom(file, uint64(offset))
	if err != nil && offset > 0 {
		// REST refused (or the partial file is stale): start again from zero.
		offset = 0
		resp, err = c.Retr(file)
	}
	if err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return errFTPPermanent{fmt.Errorf("the server has no file %s or refuses it: RETR answered %d %s", file, te.Code, te.Msg)}
		}
		return fmt.Errorf("RETR %s: %w", file, err)
	}
	defer resp.Close()
	if err := out.Truncate(offset); err != nil {
		return errFTPPermanent{err}
	}
	if _, err := out.Seek(offset, io.SeekStart); err != nil {
		return errFTPPermanent{err}
	}
	body := &deadlineReader{r: resp, idle: f.idle}
	n, err := io.Copy(out, bundle.NewProgressReader(body, offset, total, progress))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("download broke after %d bytes: %w", offset+n, err)
	}
	if total >= 0 && offset+n != total {
		return fmt.Errorf("download ended at %d of %d bytes", offset+n, total)
	}
	// The server's 226 after the data: a transfer it aborted is not complete.
	if err := resp.Close(); err != nil {
		return fmt.Errorf("transfer not confirmed by the server: %w", err)
	}
	return nil
}

// classify marks FTP's permanent negative answers (5xx) as such.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return errFTPPermanent{err}
	}
	return err
}

// deadlineReader ends a read that waits longer than idle (a stalled link).
type deadlineReader struct {
	r    *ftp.Response
	idle time.Duration
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if err := d.r.SetDeadline(time.Now().Add(d.idle)); err != nil {
		return 0, err
	}
	n, err := d.r.Read(p)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		err = fmt.Errorf("stalled: no data for %s", d.idle)
	}
	return n, err
}
