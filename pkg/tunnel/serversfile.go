package tunnel

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
)

// serversFile is edge-proxy's persisted list of API servers.
type serversFile struct {
	Servers []string `json:"servers"`
}

// readServersFile returns the tunnel servers (host:port) on the masters
// an edge-proxy servers file names: each API server's host with port.
// A missing file names none and is no error.
func readServersFile(path string, port int) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("servers file: %w", err)
	}
	var f serversFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("servers file %s: %w", path, err)
	}
	var out []string
	for _, s := range f.Servers {
		h, err := serverHost(s)
		if err != nil {
			return nil, fmt.Errorf("servers file %s: %w", path, err)
		}
		out = append(out, net.JoinHostPort(h, strconv.Itoa(port)))
	}
	return sortedUnique(out), nil
}

// serverHost is the host of an API server URL (https://host:6443); a bare
// host or host:port is taken too.
func serverHost(s string) (string, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("server %q: %w", s, err)
		}
		if u.Hostname() == "" {
			return "", fmt.Errorf("server %q: no host", s)
		}
		return u.Hostname(), nil
	}
	if h, _, err := net.SplitHostPort(s); err == nil && h != "" {
		return h, nil
	}
	if s == "" || strings.ContainsAny(s, "/ ") {
		return "", fmt.Errorf("server %q: not a URL or host", s)
	}
	return strings.Trim(s, "[]"), nil
}

func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
