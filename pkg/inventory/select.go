package inventory

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// IsMaster reports whether h runs the control plane.
func (h *Host) IsMaster() bool { return h.Role == RoleMaster }

// String is the host's address, for messages.
func (h *Host) String() string { return h.Address }

// NodeIP is the address the node uses inside the cluster: InternalAddress,
// else Address when it is an IP, else "" (let kubelet pick).
func (h *Host) NodeIP() string {
	if h.InternalAddress != "" {
		return h.InternalAddress
	}
	if _, err := netip.ParseAddr(h.Address); err == nil {
		return h.Address
	}
	return ""
}

// AdvertiseAddress is the API server address of a master:
// APIServerAdvertiseAddress, else NodeIP.
func (h *Host) AdvertiseAddress() string {
	if h.APIServerAdvertiseAddress != "" {
		return h.APIServerAdvertiseAddress
	}
	return h.NodeIP()
}

// Filter returns the hosts for which keep is true, in file order.
func (inv *Inventory) Filter(keep func(*Host) bool) []*Host {
	var out []*Host
	for _, h := range inv.Hosts {
		if h != nil && keep(h) {
			out = append(out, h)
		}
	}
	return out
}

// WithRole returns the hosts of one role, in file order.
func (inv *Inventory) WithRole(r Role) []*Host {
	return inv.Filter(func(h *Host) bool { return h.Role == r })
}

// Masters are the control-plane hosts, the leader first.
func (inv *Inventory) Masters() []*Host { return inv.WithRole(RoleMaster) }

// Edges are the hosts with role edge.
func (inv *Inventory) Edges() []*Host { return inv.WithRole(RoleEdge) }

// Workers are the hosts with role worker.
func (inv *Inventory) Workers() []*Host { return inv.WithRole(RoleWorker) }

// Nodes are every host that is not a master (edges and workers), in file order.
func (inv *Inventory) Nodes() []*Host {
	return inv.Filter(func(h *Host) bool { return !h.IsMaster() })
}

// Leader is the master that runs `init`: the first master in the file, or nil.
func (inv *Inventory) Leader() *Host {
	if m := inv.Masters(); len(m) > 0 {
		return m[0]
	}
	return nil
}

// Followers are the masters other than the leader.
func (inv *Inventory) Followers() []*Host {
	m := inv.Masters()
	if len(m) < 2 {
		return nil
	}
	return m[1:]
}

// Host finds a host by Address, InternalAddress or Hostname (case-insensitive for names).
func (inv *Inventory) Host(addr string) (*Host, bool) {
	for _, h := range inv.Hosts {
		if h == nil {
			continue
		}
		if sameAddress(h.Address, addr) || (h.InternalAddress != "" && sameAddress(h.InternalAddress, addr)) ||
			(h.Hostname != "" && strings.EqualFold(h.Hostname, addr)) {
			return h, true
		}
	}
	return nil, false
}

// HostsByAddress finds each address with Host; the error lists every one not found.
func (inv *Inventory) HostsByAddress(addrs ...string) ([]*Host, error) {
	var out []*Host
	var missing []string
	for _, a := range addrs {
		h, ok := inv.Host(a)
		if !ok {
			missing = append(missing, a)
			continue
		}
		out = append(out, h)
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("inventory %s: no host with address %s", inv.File, strings.Join(missing, ", "))
	}
	return out, nil
}

// ControlPlaneEndpoint is host:port of the API server: the configured
// endpoint (port 6443 when it has none), else the leader's advertise address.
func (inv *Inventory) ControlPlaneEndpoint() string {
	ep := inv.Cluster.ControlPlaneEndpoint
	if ep == "" {
		l := inv.Leader()
		if l == nil {
			return ""
		}
		ep = l.AdvertiseAddress()
		if ep == "" {
			ep = l.Address
		}
		return net.JoinHostPort(ep, strconv.Itoa(DefaultAPIServerPort))
	}
	if _, _, err := net.SplitHostPort(ep); err == nil {
		return ep
	}
	return net.JoinHostPort(strings.Trim(ep, "[]"), strconv.Itoa(DefaultAPIServerPort))
}

func sameAddress(a, b string) bool {
	pa, errA := netip.ParseAddr(a)
	pb, errB := netip.ParseAddr(b)
	if errA == nil && errB == nil {
		return pa.Unmap() == pb.Unmap()
	}
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}
