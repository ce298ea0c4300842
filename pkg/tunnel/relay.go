package tunnel

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/hashicorp/yamux"
)

// copyBufferSize is each direction's buffer.
const copyBufferSize = 32 << 10

// bufferPool recycles the copy buffers: a relay is often short (one
// kubelet request) and two fresh buffers each would be most of its cost.
type bufferPool struct{ p sync.Pool }

func (bp *bufferPool) get() *[]byte {
	if b, ok := bp.p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBufferSize)
	return &b
}

func (bp *bufferPool) put(b *[]byte) { bp.p.Put(b) }

// splice copies a→b and b→a until both directions end or ctx does. A
// direction that ends cleanly (EOF) half-closes its destination so the
// other direction may go on; an error, or ctx ending, closes both. The
// first error other than a close is returned.
func splice(ctx context.Context, bufs *bufferPool, a, b net.Conn) error {
	a, b = unwrap(a), unwrap(b)
	var (
		once     sync.Once
		firstErr error
	)
	closeBoth := func(err error) {
		once.Do(func() { firstErr = err })
		_ = a.Close()
		_ = b.Close()
	}
	stop := context.AfterFunc(ctx, func() { closeBoth(ctx.Err()) })
	defer stop()

	var wg sync.WaitGroup
	one := func(dst, src net.Conn) {
		defer wg.Done()
		buf := bufs.get()
		defer bufs.put(buf)
		_, err := io.CopyBuffer(dst, src, *buf)
		if err == nil {
			err = closeWrite(dst)
		}
		if err != nil {
			closeBoth(err)
		}
	}
	wg.Add(2)
	go one(b, a)
	go one(a, b)
	wg.Wait()
	closeBoth(nil)
	if firstErr != nil && !isClosedErr(firstErr) {
		return firstErr
	}
	return nil
}

// isClosedErr says whether err only reports a connection we or the peer closed.
func isClosedErr(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, yamux.ErrStreamClosed) || errors.Is(err, yamux.ErrSessionShutdown)
}

// closeWrite half-closes c: the peer reads EOF and may still send.
func closeWrite(c net.Conn) error {
	switch c := c.(type) {
	case interface{ CloseWrite() error }:
		return c.CloseWrite()
	case *yamux.Stream:
		// a yamux stream's Close sends FIN and keeps reading: a half-close
		return c.Close()
	default:
		return c.Close()
	}
}

// bufConn is a connection whose first bytes may sit in r, read ahead
// while its protocol header was parsed.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufConn) CloseWrite() error { return closeWrite(c.Conn) }

// unwrap drops a bufConn with nothing buffered, so that the copy may use
// the kernel's splice between two sockets.
func unwrap(c net.Conn) net.Conn {
	if b, ok := c.(*bufConn); ok && b.r.Buffered() == 0 {
		return b.Conn
	}
	return c
}
