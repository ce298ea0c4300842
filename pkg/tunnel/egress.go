package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

const (
	// connectReadTimeout bounds reading a CONNECT request head.
	connectReadTimeout = 30 * time.Second
	// streamReplyTimeout bounds the agent's answer to a stream header
	// (it dials the target with a 5 s timeout first).
	streamReplyTimeout = 10 * time.Second
)

// handleEgress serves one connection from kube-apiserver: a CONNECT, then
// the relayed bytes.
func (s *Server) handleEgress(ctx context.Context, c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(connectReadTimeout))
	stop := interruptOnDone(ctx, c)
	defer stop()
	br := newLineReader(c)
	if _, err := br.Peek(1); err != nil {
		_ = c.Close() // closed without a request: nothing to answer
		return
	}
	target, err := readConnect(br)
	if err != nil {
		var ce *connectError
		if !errors.As(err, &ce) {
			ce = badRequest("%v", err)
		}
		s.log.Printf("egress: refused request: %v", err)
		s.answerAndClose(c, ce.status, ce.msg)
		return
	}
	if !stop() {
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	up, via, err := s.dialTarget(ctx, target)
	if err != nil {
		s.log.Printf("relay %s: %v", target, err)
		s.answerAndClose(c, http.StatusBadGateway, err.Error())
		return
	}
	if via != nil {
		via.streams.Add(1)
		defer via.streams.Add(-1)
	}
	if err := writeEstablished(c); err != nil {
		_ = c.Close()
		_ = up.Close()
		return
	}
	// a failure halfway through is the client's or the target's business
	// (either may reset); only failures to set a relay up are logged
	_ = splice(ctx, &s.bufs, &bufConn{Conn: c, r: br}, up)
}

func (s *Server) answerAndClose(c net.Conn, status int, reason string) {
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = writeHTTPError(c, status, "edge-tunnel: "+reason)
	_ = c.Close()
}

// dialTarget opens the connection a CONNECT asks for: through the agent of
// the node owning the host if it is connected, otherwise directly. An
// agent whose session cannot carry the stream is passed over; an agent's
// refusal (it could not dial the target) is final.
func (s *Server) dialTarget(ctx context.Context, target string) (net.Conn, *agentConn, error) {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return nil, nil, fmt.Errorf("target: %w", err)
	}
	rt := chooseRoute(s.routes.current(), s.agents.connected, host)
	if a := s.agents.get(rt.Node); rt.ViaAgent && a != nil {
		c, err := a.open(ctx, target)
		var refused *RefusedError
		switch {
		case err == nil:
			a.relayed.Add(1)
			return c, a, nil
		case errors.As(err, &refused):
			return nil, nil, fmt.Errorf("agent of node %s: %w", rt.Node, err)
		}
		s.log.Printf("relay %s: agent of node %s: %v; dialling directly", target, rt.Node, err)
	}
	dctx, cancel := context.WithTimeout(ctx, directDialTimeout)
	defer cancel()
	c, err := s.dialDirect(dctx, "tcp", target)
	if err != nil {
		return nil, nil, fmt.Errorf("direct: %w", err)
	}
	return c, nil, nil
}

// open asks the agent for a stream to target and waits for its answer.
func (a *agentConn) open(ctx context.Context, target string) (net.Conn, error) {
	st, err := a.sess.OpenStream()
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	stop := interruptOnDone(ctx, st)
	defer stop()
	_ = st.SetDeadline(time.Now().Add(streamReplyTimeout))
	fail := func(what string, err error) (net.Conn, error) {
		_ = st.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if _, err := io.WriteString(st, streamHeader(target)); err != nil {
		return fail("stream header", err)
	}
	br := newLineReader(st)
	line, err := readLine(br)
	if err != nil {
		return fail("stream answer", err)
	}
	if err := parseReply(line); err != nil {
		_ = st.Close()
		return nil, err
	}
	if !stop() {
		return fail("stream", ctx.Err())
	}
	_ = st.SetDeadline(time.Time{})
	return &bufConn{Conn: st, r: br}, nil
}
