package ssh

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
)

// Forward listens on a free 127.0.0.1 port and forwards every connection to
// remoteAddr as seen from the host (e.g. "127.0.0.1:6443" for the API
// server, or another address behind it). It stops when ctx ends or the
// returned Closer is closed.
func (c *Client) Forward(ctx context.Context, remoteAddr string) (localAddr string, closer io.Closer, err error) {
	if _, err := c.client(ctx); err != nil {
		return "", nil, err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("host %s: forward %s: listen: %w", c.cfg.Name, remoteAddr, err)
	}
	fw := &forwarder{c: c, ln: ln, remote: remoteAddr, conns: map[net.Conn]struct{}{}}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	fw.cancel = cancel
	stop := context.AfterFunc(ctx, func() { fw.Close() })
	go func() {
		<-fctx.Done()
		stop()
	}()
	go fw.serve(fctx)
	return ln.Addr().String(), fw, nil
}

type forwarder struct {
	c      *Client
	ln     net.Listener
	remote string
	cancel context.CancelFunc

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func (f *forwarder) serve(ctx context.Context) {
	for {
		lc, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.handle(ctx, lc)
	}
}

func (f *forwarder) handle(ctx context.Context, lc net.Conn) {
	cl, err := f.c.client(ctx)
	if err != nil {
		lc.Close()
		return
	}
	rc, err := cl.DialContext(ctx, "tcp", f.remote)
	if err != nil {
		lc.Close()
		return
	}
	if !f.track(lc, rc) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(rc, lc); rc.Close(); done <- struct{}{} }()
	go func() { io.Copy(lc, rc); lc.Close(); done <- struct{}{} }()
	<-done
	<-done
	f.untrack(lc, rc)
}

func (f *forwarder) track(conns ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		f.conns[c] = struct{}{}
	}
	return true
}

func (f *forwarder) untrack(conns ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range conns {
		delete(f.conns, c)
	}
}

// Close stops listening and closes every forwarded connection.
func (f *forwarder) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	conns := f.conns
	f.conns = nil
	f.mu.Unlock()
	f.cancel()
	err := f.ln.Close()
	for c := range conns {
		c.Close()
	}
	return err
}
