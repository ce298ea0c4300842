package tunnel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The wire protocol between agent and server, after the TLS handshake:
//
//	agent → server  "EDGE-TUNNEL/1 node=<name>\n"   (hello)
//	server → agent  "OK\n" or "ERR <reason>\n"      (then the server closes)
//
// then a yamux session (agent = client, server = server). For every relayed
// CONNECT the server opens a stream and writes
//
//	server → agent  "CONNECT <host:port>\n"
//	agent → server  "OK\n" or "ERR <reason>\n"
//
// after which the stream carries the connection's bytes both ways.
const (
	protoVersion = "EDGE-TUNNEL/1"
	// maxLine bounds every protocol line (and the reader buffer holding it).
	maxLine = 1024
)

// hello is what the agent says first.
type hello struct {
	Node string
}

func (h hello) String() string { return protoVersion + " node=" + h.Node + "\n" }

// parseHello reads the agent's hello line. Unknown key=value fields are
// ignored so a newer agent can say more.
func parseHello(line string) (hello, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return hello{}, errors.New("empty hello")
	}
	if fields[0] != protoVersion {
		return hello{}, fmt.Errorf("protocol %q, want %s", truncate(fields[0], 32), protoVersion)
	}
	var h hello
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return hello{}, fmt.Errorf("hello field %q is not key=value", truncate(f, 64))
		}
		if k == "node" {
			h.Node = v
		}
	}
	if h.Node == "" {
		return hello{}, errors.New("hello names no node")
	}
	return h, nil
}

// streamHeader is what the server writes first on a stream.
func streamHeader(target string) string { return "CONNECT " + target + "\n" }

// parseStreamHeader returns the target of a stream header line.
func parseStreamHeader(line string) (string, error) {
	target, ok := strings.CutPrefix(line, "CONNECT ")
	if !ok {
		return "", fmt.Errorf("stream header %q is not CONNECT <host:port>", truncate(line, 64))
	}
	if _, _, err := splitTarget(target); err != nil {
		return "", err
	}
	return target, nil
}

// RefusedError is an "ERR <reason>" answer from the other side.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// okLine and errLine are the answers to a hello or a stream header.
const okLine = "OK\n"

func errLine(reason string) string {
	// a reason is one line: the reader stops at the first newline
	return "ERR " + strings.NewReplacer("\n", " ", "\r", " ").Replace(reason) + "\n"
}

// parseReply turns an answer line into nil or a *RefusedError.
func parseReply(line string) error {
	if line == "OK" {
		return nil
	}
	if reason, ok := strings.CutPrefix(line, "ERR "); ok {
		return &RefusedError{Reason: reason}
	}
	return fmt.Errorf("unexpected answer %q", truncate(line, 64))
}

// readLine reads one '\n'-terminated line of at most maxLine bytes
// (br must be at least that big) and returns it without the newline.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("line longer than %d bytes", br.Size())
	case errors.Is(err, io.EOF) && len(b) > 0:
		return "", io.ErrUnexpectedEOF
	case err != nil:
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

func newLineReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, maxLine) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
