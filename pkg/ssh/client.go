package ssh

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
)

// Client is one SSH connection to a host (through its bastions), shared by
// many concurrent sessions. It reconnects on the next call after the
// connection drops. Safe for concurrent use.
type Client struct {
	cfg      Config
	sessions chan struct{} // semaphore: at most cfg.MaxSessions exec sessions

	mu     sync.Mutex // guards the fields below; per host, never shared
	conn   *conn
	dead   chan struct{} // closed when conn's transport ends
	stop   chan struct{} // closes to stop keepalive
	sftp   *sftp.Client
	closed bool

	sudoMu    sync.Mutex
	sudoKnown bool
	sudo      sudoMode
}

// Dial validates cfg and connects to the host, through its bastions.
// Transient failures are retried with backoff (cfg.DialAttempts); auth and
// host-key failures are returned at once as *AuthError / *HostKeyError.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{cfg: cfg, sessions: make(chan struct{}, cfg.MaxSessions)}
	if _, err := c.client(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Config returns the effective configuration (defaults applied).
func (c *Client) Config() Config { return c.cfg }

// Host is the host's name as used in output prefixes and errors.
func (c *Client) Host() string { return c.cfg.Name }

// client returns the live connection, reconnecting when it has dropped.
func (c *Client) client(ctx context.Context) (*gossh.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("host %s: %w", c.cfg.Name, ErrClosed)
	}
	if c.conn != nil {
		select {
		case <-c.dead:
			c.dropLocked()
		default:
			return c.conn.client, nil
		}
	}
	cn, err := dialRetry(ctx, c.cfg)
	if err != nil {
		return nil, err
	}
	c.conn, c.dead, c.stop = cn, make(chan struct{}), make(chan struct{})
	go func(dead chan struct{}) {
		cn.client.Wait()
		close(dead)
	}(c.dead)
	go keepalive(cn.client, c.cfg.KeepaliveInterval, c.stop)
	return cn.client, nil
}

// dropLocked forgets the current connection. c.mu must be held.
func (c *Client) dropLocked() {
	if c.sftp != nil {
		c.sftp.Close()
		c.sftp = nil
	}
	if c.conn != nil {
		close(c.stop)
		c.conn.close()
		c.conn = nil
	}
}

// markBroken closes the connection if it is still cl, so the next call
// reconnects.
func (c *Client) markBroken(cl *gossh.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil && c.conn.client == cl {
		c.dropLocked()
	}
}

// session opens a session, reconnecting once when the connection turns out
// to be dead. release must be called when done.
func (c *Client) session(ctx context.Context) (s *gossh.Session, release func(), err error) {
	select {
	case c.sessions <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("wait for a free session: %w", ctx.Err())
	}
	release = func() { <-c.sessions }
	for attempt := 0; attempt < 2; attempt++ {
		var cl *gossh.Client
		cl, err = c.client(ctx)
		if err != nil {
			release()
			return nil, nil, err
		}
		s, err = newSession(ctx, cl)
		if err == nil {
			return s, release, nil
		}
		if ctx.Err() != nil {
			break
		}
		var oce *gossh.OpenChannelError
		if errors.As(err, &oce) { // the server refused; the connection is fine
			break
		}
		c.markBroken(cl)
	}
	release()
	return nil, nil, fmt.Errorf("open session: %w", err)
}

// newSession opens a session, giving up when ctx ends (a dead peer would
// otherwise block forever; the keepalive closes such connections later).
func newSession(ctx context.Context, cl *gossh.Client) (*gossh.Session, error) {
	type result struct {
		s   *gossh.Session
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := cl.NewSession()
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		return r.s, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// sftpClient returns the SFTP client of the live connection, reconnecting
// once when the connection turns out to be dead.
func (c *Client) sftpClient(ctx context.Context) (*sftp.Client, error) {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var cl *gossh.Client
		if cl, err = c.client(ctx); err != nil {
			return nil, err
		}
		var sc *sftp.Client
		if sc, err = c.startSFTP(ctx, cl); err == nil {
			return sc, nil
		}
		if ctx.Err() != nil {
			break
		}
		c.markBroken(cl)
	}
	return nil, fmt.Errorf("host %s: start sftp: %w", c.cfg.Name, err)
}

func (c *Client) startSFTP(ctx context.Context, cl *gossh.Client) (*sftp.Client, error) {
	c.mu.Lock()
	if c.conn == nil || c.conn.client != cl {
		c.mu.Unlock()
		return nil, errors.New("connection dropped")
	}
	if c.sftp != nil {
		defer c.mu.Unlock()
		return c.sftp, nil
	}
	c.mu.Unlock()

	// Started without the lock: on a dead peer it blocks until ctx ends.
	type result struct {
		sc  *sftp.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		sc, err := newSFTP(cl,
			sftp.UseConcurrentWrites(true),
			sftp.MaxConcurrentRequestsPerFile(sftpConcurrency),
			sftp.MaxPacketUnchecked(sftpPacket),
		)
		done <- result{sc, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		go func() {
			if r := <-done; r.sc != nil {
				r.sc.Close()
			}
		}()
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sftp != nil || c.conn == nil || c.conn.client != cl { // lost a race, or the connection went
		r.sc.Close()
		if c.sftp == nil {
			return nil, errors.New("connection dropped")
		}
		return c.sftp, nil
	}
	c.sftp = r.sc
	return r.sc, nil
}

// resetSFTP drops a broken SFTP client.
func (c *Client) resetSFTP(sc *sftp.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sftp == sc {
		c.sftp.Close()
		c.sftp = nil
	}
}

// Close closes the connection and its bastions. Further calls fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.dropLocked()
	return nil
}
