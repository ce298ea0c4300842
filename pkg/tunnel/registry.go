package tunnel

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// agentConn is one connected agent on the server.
type agentConn struct {
	node   string
	remote string
	since  time.Time
	sess   *muxSession

	streams atomic.Int64 // relays open now
	relayed atomic.Int64 // relays opened in all
}

// registry holds the connected agents, one per node.
type registry struct {
	mu     sync.Mutex
	agents map[string]*agentConn
}

func newRegistry() *registry { return &registry{agents: map[string]*agentConn{}} }

// add makes a the node's agent. A session the node had before is closed:
// the newer one is the one that works (the old may be half-dead).
func (r *registry) add(a *agentConn) {
	r.mu.Lock()
	old := r.agents[a.node]
	r.agents[a.node] = a
	r.mu.Unlock()
	if old != nil {
		old.sess.closeWith("replaced by a newer session from " + a.remote)
	}
}

// remove forgets a unless a newer session replaced it already.
func (r *registry) remove(a *agentConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.agents[a.node] == a {
		delete(r.agents, a.node)
	}
}

func (r *registry) get(node string) *agentConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.agents[node]
}

func (r *registry) connected(node string) bool { return r.get(node) != nil }

// list returns the agents sorted by node.
func (r *registry) list() []*agentConn {
	r.mu.Lock()
	out := make([]*agentConn, 0, len(r.agents))
	for _, a := range r.agents {
		out = append(out, a)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *agentConn) int { return strings.Compare(a.node, b.node) })
	return out
}

// closeAll ends every session (the server is stopping).
func (r *registry) closeAll(reason string) {
	for _, a := range r.list() {
		a.sess.closeWith(reason)
	}
}
