package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// conn is one established connection: the target client and the bastion
// clients it runs through (closed together).
type conn struct {
	client   *gossh.Client
	bastions []*gossh.Client
}

func (c *conn) close() {
	c.client.Close()
	for i := len(c.bastions) - 1; i >= 0; i-- {
		c.bastions[i].Close()
	}
}

// dialRetry connects, retrying transient failures with exponential backoff.
// Auth and host-key failures return at once.
func dialRetry(ctx context.Context, cfg Config) (*conn, error) {
	backoff := 250 * time.Millisecond
	var err error
	for attempt := 1; ; attempt++ {
		var c *conn
		c, err = dialChain(ctx, cfg)
		if err == nil {
			return c, nil
		}
		var ue *UnreachableError
		if errors.As(err, &ue) {
			ue.Attempts = attempt
		}
		if attempt >= cfg.DialAttempts || !transient(err) || ctx.Err() != nil {
			return nil, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// transient: worth another attempt (refused, reset, timeout, closed during handshake).
func transient(err error) bool {
	var ae *AuthError
	var he *HostKeyError
	if errors.As(err, &ae) || errors.As(err, &he) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ETIMEDOUT) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, io.EOF) ||
		errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) ||
		strings.Contains(strings.ToLower(err.Error()), "connection refused") // refusals relayed by a bastion
}

// dialChain connects through cfg.Bastions to cfg.
func dialChain(ctx context.Context, cfg Config) (*conn, error) {
	out := &conn{}
	var via *gossh.Client
	viaName := ""
	hops := append(append([]Config(nil), cfg.Bastions...), cfg)
	for i, hop := range hops {
		if i < len(hops)-1 {
			hop = hop.withDefaults()
		}
		c, err := dialHop(ctx, via, viaName, hop)
		if err != nil {
			for j := len(out.bastions) - 1; j >= 0; j-- {
				out.bastions[j].Close()
			}
			if i < len(hops)-1 {
				return nil, fmt.Errorf("host %s: bastion %d: %w", cfg.Name, i+1, err)
			}
			return nil, err
		}
		if i < len(hops)-1 {
			out.bastions = append(out.bastions, c)
		} else {
			out.client = c
		}
		via, viaName = c, hop.Name
	}
	return out, nil
}

// dialHop makes one TCP connection (direct or through via) and one SSH
// handshake, bounded by the earlier of ctx's deadline and hop.ConnectTimeout.
func dialHop(ctx context.Context, via *gossh.Client, viaName string, hop Config) (*gossh.Client, error) {
	deadline := time.Now().Add(hop.ConnectTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	addr := hop.addr()
	unreachable := func(err error) error {
		if ctx.Err() != nil { // the caller's context, not our timeout
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return &UnreachableError{Host: hop.Name, Addr: addr, Via: viaName, Attempts: 1, Err: err}
	}

	var nc net.Conn
	var err error
	if via == nil {
		nc, err = (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	} else {
		nc, err = via.DialContext(dctx, "tcp", addr)
	}
	if err != nil {
		return nil, unreachable(err)
	}

	auth, err := buildAuth(hop)
	if err != nil {
		nc.Close()
		return nil, err
	}
	defer auth.close() // the agent is only needed during the handshake
	hk := hostKeys{host: hop.Name, files: hop.KnownHostsFiles, policy: hop.HostKeyPolicy}
	cc := &gossh.ClientConfig{
		User:              hop.User,
		Auth:              auth.methods,
		HostKeyCallback:   hk.callback(addr),
		HostKeyAlgorithms: hk.algorithms(addr),
	}

	type result struct {
		c     gossh.Conn
		chans <-chan gossh.NewChannel
		reqs  <-chan *gossh.Request
		err   error
	}
	done := make(chan result, 1)
	go func() {
		c, chans, reqs, err := gossh.NewClientConn(nc, addr, cc)
		done <- result{c, chans, reqs, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-dctx.Done():
		nc.Close() // channel conns have no deadlines; closing unblocks the handshake
		if r = <-done; r.err == nil {
			r.c.Close()
		}
		return nil, unreachable(fmt.Errorf("ssh handshake: %w", dctx.Err()))
	}
	if r.err != nil {
		nc.Close()
		var he *HostKeyError
		if errors.As(r.err, &he) {
			return nil, he
		}
		if strings.Contains(r.err.Error(), "unable to authenticate") {
			return nil, &AuthError{Host: hop.Name, User: hop.User, Methods: auth.names, Err: r.err}
		}
		return nil, unreachable(r.err)
	}
	return gossh.NewClient(r.c, r.chans, r.reqs), nil
}

// keepalive sends keepalive@openssh.com every interval and closes the
// connection when the server stops answering, so the next call reconnects.
func keepalive(c *gossh.Client, interval time.Duration, stop <-chan struct{}) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		errc := make(chan error, 1)
		go func() {
			_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
			errc <- err
		}()
		timeout := time.NewTimer(3 * interval)
		select {
		case err := <-errc:
			timeout.Stop()
			if err != nil {
				c.Close()
				return
			}
		case <-timeout.C:
			c.Close()
			return
		case <-stop:
			timeout.Stop()
			return
		}
	}
}
