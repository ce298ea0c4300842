package tunnel

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxHeaderLines bounds a CONNECT request's header (kube-apiserver sends one: Host).
const maxHeaderLines = 64

// connectError is a CONNECT request we answer with an HTTP error.
type connectError struct {
	status int
	msg    string
}

func (e *connectError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.msg) }

func badRequest(format string, args ...any) *connectError {
	return &connectError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// readConnect reads an HTTP/1.x CONNECT request head and returns its
// target (host:port). A request that is not a CONNECT is a 405; anything
// malformed a 400. br must hold at least maxLine bytes.
func readConnect(br *bufio.Reader) (string, error) {
	line, err := readLine(br)
	if err != nil {
		return "", badRequest("request line: %v", err)
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method == "" || target == "" || strings.Contains(proto, " ") {
		return "", badRequest("malformed request line %q", truncate(line, 64))
	}
	if proto != "HTTP/1.1" && proto != "HTTP/1.0" {
		return "", badRequest("protocol %q, want HTTP/1.1", truncate(proto, 16))
	}
	// the header is read even for a refusal so the answer is not sent
	// into a half-read request
	if err := skipHeader(br); err != nil {
		return "", err
	}
	if method != http.MethodConnect {
		return "", &connectError{status: http.StatusMethodNotAllowed, msg: "only CONNECT is accepted, not " + truncate(method, 16)}
	}
	if _, _, err := splitTarget(target); err != nil {
		return "", badRequest("CONNECT target: %v", err)
	}
	return target, nil
}

// skipHeader reads header lines up to the empty one; their content does
// not matter to routing (the target is the request line's authority).
func skipHeader(br *bufio.Reader) error {
	for range maxHeaderLines {
		line, err := readLine(br)
		if err != nil {
			return badRequest("header: %v", err)
		}
		if line == "" {
			return nil
		}
		if !strings.Contains(line, ":") {
			return badRequest("malformed header line %q", truncate(line, 64))
		}
	}
	return badRequest("more than %d header lines", maxHeaderLines)
}

// writeEstablished tells the client the tunnel is open.
func writeEstablished(w io.Writer) error {
	_, err := io.WriteString(w, "HTTP/1.1 200 Connection established\r\n\r\n")
	return err
}

// writeHTTPError answers with a status and a one-line plain-text reason,
// then the connection is closed.
func writeHTTPError(w io.Writer, status int, reason string) error {
	body := reason + "\n"
	head := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n",
		status, http.StatusText(status), len(body))
	if status == http.StatusMethodNotAllowed {
		head += "Allow: CONNECT\r\n"
	}
	_, err := io.WriteString(w, head+"\r\n"+body)
	return err
}
