package edgeproxy

import (
	"log"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// upstream is one API server.
type upstream struct {
	raw string
	url *url.URL

	// guarded by upstreams.mu
	healthy bool
	down    chan struct{} // closed when the server goes from healthy to unhealthy
}

// upstreams is the list of API servers, their health and the one in use
// (sticky until it fails).
type upstreams struct {
	log *log.Logger

	mu        sync.Mutex
	list      []*upstream
	current   *upstream
	online    bool
	recovered chan struct{} // closed when going from offline to online
}

func newUpstreams(servers []string, lg *log.Logger) *upstreams {
	u := &upstreams{log: lg, recovered: make(chan struct{})}
	u.set(servers)
	return u
}

func normalizeServer(s string) (*url.URL, bool) {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	if s == "" {
		return nil, false
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	pu, err := url.Parse(s)
	if err != nil || pu.Host == "" || pu.Scheme != "https" {
		return nil, false
	}
	pu.Path, pu.RawQuery = "", ""
	return pu, true
}

// set replaces the list, keeping the state of servers already known. It
// never empties the list; it returns whether the list changed.
func (u *upstreams) set(servers []string) bool {
	var next []*upstream
	seen := map[string]bool{}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, s := range servers {
		pu, ok := normalizeServer(s)
		if !ok || seen[pu.String()] {
			continue
		}
		seen[pu.String()] = true
		i := slices.IndexFunc(u.list, func(x *upstream) bool { return x.raw == pu.String() })
		if i >= 0 {
			next = append(next, u.list[i])
		} else {
			next = append(next, &upstream{raw: pu.String(), url: pu, down: make(chan struct{})})
		}
	}
	if len(next) == 0 || slices.Equal(u.rawLocked(next), u.rawLocked(u.list)) {
		return false
	}
	u.list = next
	if u.current != nil && !slices.Contains(next, u.current) {
		u.current = nil
	}
	u.updateOnlineLocked()
	return true
}

func (u *upstreams) rawLocked(l []*upstream) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = x.raw
	}
	return out
}

func (u *upstreams) servers() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rawLocked(u.list)
}

func (u *upstreams) all() []*upstream {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.list)
}

// pick returns the server to use: the current one while it is healthy,
// else another healthy one (logged), else nil (offline).
func (u *upstreams) pick() *upstream {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.current != nil && u.current.healthy {
		return u.current
	}
	for _, x := range u.list {
		if x.healthy {
			prev := "none"
			if u.current != nil {
				prev = u.current.raw
			}
			u.log.Printf("upstream: using %s (was %s)", x.raw, prev)
			u.current = x
			return x
		}
	}
	return nil
}

// setHealth records a health result for a server.
func (u *upstreams) setHealth(x *upstream, ok bool, why string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if x.healthy == ok {
		return
	}
	x.healthy = ok
	if ok {
		x.down = make(chan struct{})
		u.log.Printf("upstream: %s healthy", x.raw)
	} else {
		close(x.down)
		u.log.Printf("upstream: %s unhealthy: %s", x.raw, why)
	}
	u.updateOnlineLocked()
}

func (u *upstreams) updateOnlineLocked() {
	online := slices.ContainsFunc(u.list, func(x *upstream) bool { return x.healthy })
	if online == u.online {
		return
	}
	u.online = online
	if online {
		u.log.Printf("upstream: online")
		close(u.recovered)
		u.recovered = make(chan struct{})
	} else {
		u.log.Printf("upstream: offline: no API server reachable")
	}
}

// downCh is closed when x becomes unhealthy.
func (u *upstreams) downCh(x *upstream) <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	return x.down
}

// state returns whether any server is healthy and a channel closed when
// the proxy next goes from offline to online.
func (u *upstreams) state() (online bool, recovered <-chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.online, u.recovered
}

func (u *upstreams) currentRaw() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.current == nil || !u.current.healthy {
		return ""
	}
	return u.current.raw
}
