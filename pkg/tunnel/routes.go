package tunnel

import (
	"net/netip"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// routeTable says which node a CONNECT host belongs to: one of its status
// addresses (any type), or an IP inside one of its pod CIDRs.
type routeTable struct {
	hosts map[string]string // normalized address → node
	cidrs []nodeCIDR
}

type nodeCIDR struct {
	prefix netip.Prefix
	node   string
}

// buildRoutes indexes nodes. Nodes are taken in name order so that an
// address two nodes claim always goes to the same one.
func buildRoutes(nodes []*corev1.Node) *routeTable {
	sorted := slices.Clone(nodes)
	slices.SortFunc(sorted, func(a, b *corev1.Node) int { return strings.Compare(a.Name, b.Name) })
	t := &routeTable{hosts: map[string]string{}}
	for _, n := range sorted {
		for _, a := range n.Status.Addresses {
			k := normalizeHost(a.Address)
			if _, taken := t.hosts[k]; !taken && k != "" {
				t.hosts[k] = n.Name
			}
		}
		for _, c := range podCIDRs(n) {
			if p, err := netip.ParsePrefix(c); err == nil {
				t.cidrs = append(t.cidrs, nodeCIDR{prefix: p.Masked(), node: n.Name})
			}
		}
	}
	// longest prefix first: the most specific CIDR wins
	slices.SortStableFunc(t.cidrs, func(a, b nodeCIDR) int { return b.prefix.Bits() - a.prefix.Bits() })
	return t
}

func podCIDRs(n *corev1.Node) []string {
	if len(n.Spec.PodCIDRs) > 0 {
		return n.Spec.PodCIDRs
	}
	if n.Spec.PodCIDR != "" {
		return []string{n.Spec.PodCIDR}
	}
	return nil
}

// normalizeHost makes equal addresses compare equal: IPs in canonical
// form, host names lower-case without a trailing dot.
func normalizeHost(h string) string {
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap().WithZone("").String()
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// lookup returns the node owning host (a CONNECT target's host part).
func (t *routeTable) lookup(host string) (string, bool) {
	k := normalizeHost(host)
	if n, ok := t.hosts[k]; ok {
		return n, true
	}
	ip, err := netip.ParseAddr(k)
	if err != nil {
		return "", false
	}
	for _, c := range t.cidrs {
		if c.prefix.Contains(ip) {
			return c.node, true
		}
	}
	return "", false
}

// route is where one CONNECT goes.
type route struct {
	Node     string // the node owning the host, "" if none
	ViaAgent bool   // through Node's agent; otherwise dialled directly
}

// chooseRoute decides a CONNECT host's route: through the owning node's
// agent when that agent is connected, directly otherwise.
func chooseRoute(t *routeTable, connected func(node string) bool, host string) route {
	node, ok := t.lookup(host)
	if !ok {
		return route{}
	}
	return route{Node: node, ViaAgent: connected(node)}
}

// router keeps a routeTable current with a NodeSource, rebuilding it on
// the first lookup after the nodes changed.
type router struct {
	src NodeSource

	mu    sync.Mutex
	gen   uint64
	table *routeTable
}

func newRouter(src NodeSource) *router { return &router{src: src} }

func (r *router) current() *routeTable {
	gen := r.src.Generation()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.table == nil || gen != r.gen {
		r.table, r.gen = buildRoutes(r.src.Nodes()), gen
	}
	return r.table
}
