package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// AddrManager adds and removes the virtual IP, as a /32, on one interface.
// Add and Remove are idempotent.
type AddrManager interface {
	Present() (bool, error)
	Add() error
	Remove() error
}

// netlinkAddrs is the AddrManager of the real interface.
type netlinkAddrs struct {
	h     *netlink.Handle
	iface string
	ip    netip.Addr
}

// NewNetlinkAddrs manages ip/32 on iface through h (nil: the network
// namespace of the calling thread).
func NewNetlinkAddrs(h *netlink.Handle, iface string, ip netip.Addr) AddrManager {
	if h == nil {
		h = &netlink.Handle{}
	}
	return &netlinkAddrs{h: h, iface: iface, ip: ip}
}

func (n *netlinkAddrs) String() string { return n.ip.String() + "/32 on " + n.iface }

func (n *netlinkAddrs) link() (netlink.Link, error) {
	l, err := n.h.LinkByName(n.iface)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", n.iface, err)
	}
	return l, nil
}

func (n *netlinkAddrs) Present() (bool, error) {
	l, err := n.link()
	if err != nil {
		return false, err
	}
	addrs, err := addrList(n.h, l)
	if err != nil {
		return false, fmt.Errorf("list addresses of %s: %w", n.iface, err)
	}
	for _, p := range addrs {
		if p == hostPrefix(n.ip) {
			return true, nil
		}
	}
	return false, nil
}

func (n *netlinkAddrs) Add() error {
	l, err := n.link()
	if err != nil {
		return err
	}
	err = n.h.AddrAdd(l, n.nlAddr())
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add %s: %w", n, err)
	}
	return nil
}

func (n *netlinkAddrs) Remove() error {
	l, err := n.link()
	if err != nil {
		return err
	}
	err = n.h.AddrDel(l, n.nlAddr())
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("remove %s: %w", n, err)
	}
	return nil
}

func (n *netlinkAddrs) nlAddr() *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: n.ip.AsSlice(), Mask: net.CIDRMask(32, 32)}}
}

func hostPrefix(ip netip.Addr) netip.Prefix { return netip.PrefixFrom(ip, 32) }

// addrList is the IPv4 addresses of l with their prefix lengths, retried
// when the kernel interrupts the dump.
func addrList(h *netlink.Handle, l netlink.Link) ([]netip.Prefix, error) {
	var addrs []netlink.Addr
	var err error
	for range 3 {
		addrs, err = h.AddrList(l, netlink.FAMILY_V4)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		if a.IPNet == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IPNet.IP)
		if !ok {
			continue
		}
		ones, _ := a.IPNet.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out, nil
}
