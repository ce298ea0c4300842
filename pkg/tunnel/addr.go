package tunnel

import (
	"fmt"
	"net"
	"strconv"
)

// splitTarget checks a host:port address (a server, or a CONNECT target).
func splitTarget(addr string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("%q: port %q is not a number in 1-65535", addr, p)
	}
	if h == "" {
		return "", 0, fmt.Errorf("%q: empty host", addr)
	}
	return h, n, nil
}
