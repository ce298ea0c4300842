package tunnel

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// Session timings. A dead peer is noticed within about two keepalive
// intervals; a stream the peer does not acknowledge ends the session.
const (
	keepAliveInterval      = 5 * time.Second
	connectionWriteTimeout = 5 * time.Second
	streamOpenTimeout      = 10 * time.Second
	// streamCloseTimeout resets a stream whose peer never finishes after
	// we half-closed it (a backstop against abandoned streams).
	streamCloseTimeout = 5 * time.Minute
)

// muxSession is a yamux session over an agent's TLS connection, with the
// reason it ended.
type muxSession struct {
	*yamux.Session
	conn *readErrConn
	ylog *yamuxLog

	mu     sync.Mutex
	reason string
}

// newMuxSession starts yamux over conn: the agent is the client. yamux's
// own messages go to lg with prefix.
func newMuxSession(conn net.Conn, client bool, lg *log.Logger, prefix string) (*muxSession, error) {
	s := &muxSession{conn: &readErrConn{Conn: conn}, ylog: &yamuxLog{lg: lg, prefix: prefix}}
	cfg := yamux.DefaultConfig()
	cfg.KeepAliveInterval = keepAliveInterval
	cfg.ConnectionWriteTimeout = connectionWriteTimeout
	cfg.StreamOpenTimeout = streamOpenTimeout
	cfg.StreamCloseTimeout = streamCloseTimeout
	cfg.LogOutput = nil
	cfg.Logger = s.ylog
	var err error
	if client {
		s.Session, err = yamux.Client(s.conn, cfg)
	} else {
		s.Session, err = yamux.Server(s.conn, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("yamux: %w", err)
	}
	return s, nil
}

// closeWith ends the session, recording why (the first reason given wins).
func (s *muxSession) closeWith(reason string) {
	s.mu.Lock()
	if s.reason == "" {
		s.reason = reason
	}
	s.mu.Unlock()
	_ = s.Close()
}

// why says why the session ended: our own reason, else what yamux
// complained of, else how the connection failed.
func (s *muxSession) why() string {
	s.mu.Lock()
	r := s.reason
	s.mu.Unlock()
	if r != "" {
		return r
	}
	if m := s.ylog.first(); m != "" {
		return m
	}
	switch err := s.conn.err(); {
	case err == nil:
		return "session closed"
	case errors.Is(err, io.EOF):
		return "connection closed by peer"
	default:
		return err.Error()
	}
}

// readErrConn remembers the first read error of a connection.
type readErrConn struct {
	net.Conn
	mu   sync.Mutex
	rerr error
}

func (c *readErrConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.mu.Lock()
		if c.rerr == nil {
			c.rerr = err
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *readErrConn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rerr
}

// yamuxLog passes yamux's messages to our logger and keeps the first
// error as the likely reason the session ends.
type yamuxLog struct {
	lg     *log.Logger
	prefix string

	mu   sync.Mutex
	msg1 string
}

func (l *yamuxLog) Print(v ...any)                 { l.put(fmt.Sprint(v...)) }
func (l *yamuxLog) Println(v ...any)               { l.put(fmt.Sprintln(v...)) }
func (l *yamuxLog) Printf(format string, v ...any) { l.put(fmt.Sprintf(format, v...)) }

func (l *yamuxLog) put(m string) {
	m = strings.TrimSpace(m)
	isErr := strings.HasPrefix(m, "[ERR] ")
	for _, p := range []string{"[ERR] ", "[WARN] ", "[DEBUG] ", "yamux: "} {
		m = strings.TrimPrefix(m, p)
	}
	// late frames of a stream already forgotten are routine, not news
	if strings.HasPrefix(m, "frame for missing stream") || strings.HasPrefix(m, "Discarding data for stream") {
		return
	}
	if isErr {
		l.mu.Lock()
		if l.msg1 == "" {
			l.msg1 = m
		}
		l.mu.Unlock()
	}
	l.lg.Printf("%syamux: %s", l.prefix, m)
}

func (l *yamuxLog) first() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msg1
}
