package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
)

// IfaceAddrs is one interface and its IPv4 addresses, as seen when
// choosing the interface of the virtual IP.
type IfaceAddrs struct {
	Name     string
	Loopback bool
	Prefixes []netip.Prefix
}

// SelectInterface picks the one non-loopback interface with an IPv4
// address whose subnet contains vip. /32 addresses (the virtual IP itself,
// left by an earlier run) do not count.
func SelectInterface(vip netip.Addr, ifaces []IfaceAddrs) (string, error) {
	var match, seen []string
	for _, ifc := range ifaces {
		if ifc.Loopback {
			continue
		}
		var ps []string
		hit := false
		for _, p := range ifc.Prefixes {
			ps = append(ps, p.String())
			if p.Bits() < 32 && p.Masked().Contains(vip) {
				hit = true
			}
		}
		seen = append(seen, fmt.Sprintf("%s [%s]", ifc.Name, strings.Join(ps, " ")))
		if hit {
			match = append(match, ifc.Name)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		if len(seen) == 0 {
			seen = []string{"none"}
		}
		return "", fmt.Errorf("no interface has an IPv4 subnet containing %s (interfaces: %s); set interface in the config", vip, strings.Join(seen, ", "))
	default:
		sort.Strings(match)
		return "", fmt.Errorf("interfaces %s all have an IPv4 subnet containing %s; set interface in the config", strings.Join(match, ", "), vip)
	}
}

// ListInterfaces reads the interfaces and their IPv4 addresses through h
// (nil: the calling thread's network namespace).
func ListInterfaces(h *netlink.Handle) ([]IfaceAddrs, error) {
	if h == nil {
		h = &netlink.Handle{}
	}
	links, err := h.LinkList()
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []IfaceAddrs
	for _, l := range links {
		a := l.Attrs()
		ps, err := addrList(h, l)
		if err != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", a.Name, err)
		}
		out = append(out, IfaceAddrs{Name: a.Name, Loopback: a.Flags&net.FlagLoopback != 0, Prefixes: ps})
	}
	return out, nil
}

// ResolveInterface returns iface when set, else the interface chosen by
// SelectInterface among those of h.
func ResolveInterface(h *netlink.Handle, iface string, vip netip.Addr) (string, error) {
	if iface != "" {
		return iface, nil
	}
	ifaces, err := ListInterfaces(h)
	if err != nil {
		return "", err
	}
	return SelectInterface(vip, ifaces)
}

// interfacesHolding names the interfaces that carry vip/32.
func interfacesHolding(ifaces []IfaceAddrs, vip netip.Addr) []string {
	var out []string
	for _, ifc := range ifaces {
		for _, p := range ifc.Prefixes {
			if p == hostPrefix(vip) {
				out = append(out, ifc.Name)
				break
			}
		}
	}
	return out
}
