package tunnel

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// serveConns accepts connections on ln until ctx ends and runs handle for
// each; it closes ln and returns once every handler has returned.
// Handlers must return soon after ctx ends.
func serveConns(ctx context.Context, ln net.Listener, handle func(context.Context, net.Conn)) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	var pause time.Duration // after an accept error such as too many open files
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			if !sleep(ctx, pause) {
				return nil
			}
			continue
		}
		pause = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			handle(ctx, c)
		}()
	}
}

// serveHTTP serves h on ln (plain HTTP) until ctx ends.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	defer stop()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// interruptOnDone makes c's blocked and later reads and writes fail once
// ctx ends (through its deadline), for the protocol exchanges before a
// relay. stop reports false if ctx has ended already.
func interruptOnDone(ctx context.Context, c net.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
}
