package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// helloTimeout bounds an agent's TLS handshake and hello.
const helloTimeout = 10 * time.Second

// handleAgent admits one agent connection and carries its session until
// it ends or ctx does.
func (s *Server) handleAgent(ctx context.Context, raw net.Conn, cfg *tls.Config) {
	remote := raw.RemoteAddr().String()
	tc := tls.Server(raw, cfg)
	_ = raw.SetDeadline(time.Now().Add(helloTimeout))
	stop := interruptOnDone(ctx, raw)
	defer stop()
	hctx, cancel := context.WithTimeout(ctx, helloTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		s.log.Printf("refused agent from %s: TLS handshake: %v", remote, err)
		_ = raw.Close()
		return
	}
	node, br, err := admit(tc)
	if err != nil {
		s.log.Printf("refused agent from %s: %v", remote, err)
		_, _ = io.WriteString(tc, errLine(err.Error()))
		_ = tc.Close()
		return
	}
	if _, err := io.WriteString(tc, okLine); err != nil || !stop() {
		s.log.Printf("agent %s (%s): hello: answer: %v", node, remote, errors.Join(err, ctx.Err()))
		_ = tc.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	sess, err := newMuxSession(&bufConn{Conn: tc, r: br}, false, s.log, fmt.Sprintf("agent %s (%s): ", node, remote))
	if err != nil {
		s.log.Printf("agent %s (%s): %v", node, remote, err)
		_ = tc.Close()
		return
	}
	a := &agentConn{node: node, remote: remote, since: time.Now(), sess: sess}
	s.agents.add(a)
	s.log.Printf("agent %s connected from %s", node, remote)
	go refuseStreams(sess)
	select {
	case <-sess.CloseChan():
	case <-ctx.Done():
		sess.closeWith("server stopping")
	}
	s.agents.remove(a)
	s.log.Printf("agent %s (%s) disconnected after %s: %s", node, remote, roundDuration(time.Since(a.since)), sess.why())
}

// admit reads the agent's hello and applies the identity rules; it
// returns the node and the reader holding what follows the hello.
func admit(tc *tls.Conn) (string, *bufio.Reader, error) {
	br := newLineReader(tc)
	line, err := readLine(br)
	if err != nil {
		return "", nil, fmt.Errorf("hello: %w", err)
	}
	h, err := parseHello(line)
	if err != nil {
		return "", nil, fmt.Errorf("hello: %w", err)
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", nil, errors.New("no client certificate")
	}
	node, err := certNode(certs[0])
	if err != nil {
		return "", nil, err
	}
	if err := checkClaim(node, h.Node); err != nil {
		return "", nil, err
	}
	return node, br, nil
}

// refuseStreams closes any stream an agent opens: streams go server → agent only.
func refuseStreams(sess *muxSession) {
	for {
		st, err := sess.AcceptStream()
		if err != nil {
			return
		}
		_ = st.Close()
	}
}

// roundDuration keeps log lines short.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
