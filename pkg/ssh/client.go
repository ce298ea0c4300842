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
		return nil, nil, fmt.Errorf("host %s: wait for a free session: %w", c.cfg.Name, ctx.Err())
	}
	release = func() { <-c.sessions }
	for attempt := 0; attempt < 2; attempt++ {
		var cl *gossh.Client
		cl, err = c.client(ctx)
		if err != nil {
			release()
			return nil, nil, err
		}
		s, err = cl.NewSession()
		if err == nil {
			return s, release, nil
		}
		var oce *gossh.OpenChannelError
		if errors.As(err, &oce) { // the server refused; the connection is fine
			break
		}
		c.markBroken(cl)
	}
	release()
	return nil, nil, fmt.Errorf("host %s: open session: %w", c.cfg.Name, err)
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
		if sc, err = c.startSFTP(cl); err == nil {
			return sc, nil
		}
		c.markBroken(cl)
	}
	return nil, fmt.Errorf("host %s: start sftp: %w", c.cfg.Name, err)
}

func (c *Client) startSFTP(cl *gossh.Client) (*sftp.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil || c.conn.client != cl {
		return nil, errors.New("connection dropped")
	}
	if c.sftp != nil {
		return c.sftp, nil
	}
	sc, err := sftp.NewClient(cl,
		sftp.UseConcurrentWrites(true),
		sftp.MaxConcurrentRequestsPerFile(sftpConcurrency),
		sftp.MaxPacketUnchecked(sftpPacket),
	)
	if err != nil {
		return nil, err
	}
	c.sftp = sc
	return sc, nil
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
