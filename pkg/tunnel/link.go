package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// serverDialTimeout bounds the agent's TCP dial of a server.
	serverDialTimeout = 5 * time.Second
	// targetDialTimeout bounds the agent's dial of a relayed target.
	targetDialTimeout = 5 * time.Second
	// stableSession is how long a session must have lived for the next
	// reconnect to start from the shortest wait again.
	stableSession = 30 * time.Second
)

// link is the agent's side of one server: its state for /status.
type link struct {
	addr   string
	cancel context.CancelFunc

	mu        sync.Mutex
	since     time.Time // connected since; zero while not
	lastError string

	streams atomic.Int64
	relayed atomic.Int64
}

func (l *link) setUp(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.since = t
}

func (l *link) setDown(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.since = time.Time{}
	l.lastError = errString(err)
}

func (l *link) status() ServerLink {
	l.mu.Lock()
	defer l.mu.Unlock()
	return ServerLink{
		Address:   l.addr,
		Connected: !l.since.IsZero(),
		Since:     formatSince(l.since),
		LastError: l.lastError,
		Streams:   l.streams.Load(),
		Relayed:   l.relayed.Load(),
	}
}

// runLink keeps a session with one server until ctx ends: connect, carry
// streams, and after any failure wait a short, growing, jittered while.
func (a *Agent) runLink(ctx context.Context, l *link) {
	bo := newBackoff(a.opts.BackoffMin, a.opts.BackoffMax)
	lastLogged := "" // a failure repeating while a server is away is logged once
	for {
		up, err := a.session(ctx, l)
		if !up.IsZero() {
			a.log.Printf("agent: server %s: disconnected after %s: %v", l.addr, roundDuration(time.Since(up)), err)
		}
		if ctx.Err() != nil {
			l.setDown(nil)
			return
		}
		l.setDown(err)
		if !up.IsZero() {
			lastLogged = ""
			if time.Since(up) > stableSession {
				bo.reset()
			}
		} else if msg := err.Error(); msg != lastLogged {
			a.log.Printf("agent: server %s: %v", l.addr, err)
			lastLogged = msg
		}
		if _, refused := errorsAs[*RefusedError](err); refused {
			bo.atMax() // the server said no: asking at once will not change that
		}
		if !sleep(ctx, bo.delay()) {
			l.setDown(nil)
			return
		}
	}
}

// session connects to the server and carries its streams until the
// session ends. It returns when the session came up (zero if it did not)
// and why it ended.
func (a *Agent) session(ctx context.Context, l *link) (time.Time, error) {
	conn, err := a.dialServer(ctx, l.addr)
	if err != nil {
		return time.Time{}, err
	}
	sess, err := newMuxSession(conn, true, a.log, "agent: server "+l.addr+": ")
	if err != nil {
		_ = conn.Close()
		return time.Time{}, err
	}
	up := time.Now()
	l.setUp(up)
	a.log.Printf("agent: server %s: connected as node %s", l.addr, a.cfg.NodeName)

	stop := context.AfterFunc(ctx, func() {
		reason := "agent stopping"
		if cause := context.Cause(ctx); errors.Is(cause, errServerDropped) {
			reason = cause.Error()
		}
		sess.closeWith(reason)
	})
	// streams end with the session, dials included
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for {
		st, err := sess.AcceptStream()
		if err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.carry(sctx, l, st)
		}()
	}
	stop()
	_ = sess.Close()
	cancel()
	wg.Wait()
	return up, fmt.Errorf("session: %s", sess.why())
}

// dialServer opens the TLS connection to a server with the node's current
// certificate and says hello. It returns the connection ready for yamux.
func (a *Agent) dialServer(ctx context.Context, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("address: %w", err)
	}
	// both are read on every dial: kubelet rotates its certificate
	cert, err := loadClientCert(a.cfg.ClientCertFile)
	if err != nil {
		return nil, err
	}
	roots, err := loadCAPool(a.cfg.ClusterCAFile)
	if err != nil {
		return nil, fmt.Errorf("cluster CA: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, serverDialTimeout)
	raw, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	tc := tls.Client(raw, &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    roots,
		ServerName: host,
		// sent whatever CAs the server asks for: a refusal is then the
		// server's to state
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil },
	})
	fail := func(what string, err error) (net.Conn, error) {
		_ = raw.Close()
		if oe, ok := errorsAs[*net.OpError](err); ok && oe.Op == "remote error" {
			return nil, fmt.Errorf("%s: server refused the TLS session (is %s a cluster CA node certificate?): %w", what, a.cfg.ClientCertFile, err)
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	_ = raw.SetDeadline(time.Now().Add(helloTimeout))
	hctx, cancel := context.WithTimeout(ctx, helloTimeout)
	err = tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		return fail("TLS handshake", err)
	}
	// the deadline, and ctx through it, bound the hello exchange
	stop := interruptOnDone(ctx, raw)
	defer stop()
	if _, err := io.WriteString(tc, hello{Node: a.cfg.NodeName}.String()); err != nil {
		return fail("hello", err)
	}
	br := newLineReader(tc)
	line, err := readLine(br)
	if err != nil {
		return fail("hello", err)
	}
	if err := parseReply(line); err != nil {
		return fail("hello", err)
	}
	if !stop() {
		return fail("hello", ctx.Err())
	}
	_ = raw.SetDeadline(time.Time{})
	return &bufConn{Conn: tc, r: br}, nil
}

// carry serves one stream: read the target, dial it, answer, splice.
func (a *Agent) carry(ctx context.Context, l *link, st net.Conn) {
	_ = st.SetDeadline(time.Now().Add(streamReplyTimeout))
	stop := interruptOnDone(ctx, st)
	defer stop()
	br := newLineReader(st)
	refuse := func(err error) {
		if ctx.Err() == nil {
			a.log.Printf("agent: server %s: relay: %v", l.addr, err)
		}
		_, _ = io.WriteString(st, errLine(err.Error()))
		_ = st.Close()
	}
	line, err := readLine(br)
	if err != nil {
		refuse(fmt.Errorf("stream header: %w", err))
		return
	}
	target, err := parseStreamHeader(line)
	if err != nil {
		refuse(err)
		return
	}
	dctx, cancel := context.WithTimeout(ctx, targetDialTimeout)
	tc, err := a.opts.DialTarget(dctx, "tcp", target)
	cancel()
	if err != nil {
		refuse(err)
		return
	}
	if _, err := io.WriteString(st, okLine); err != nil || !stop() {
		_ = tc.Close()
		_ = st.Close()
		return
	}
	_ = st.SetDeadline(time.Time{})
	l.relayed.Add(1)
	l.streams.Add(1)
	defer l.streams.Add(-1)
	_ = splice(ctx, &a.bufs, &bufConn{Conn: st, r: br}, tc)
}
