package vip

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
)

// ARP operations (RFC 826).
const (
	arpRequest = 1
	arpReply   = 2
)

const (
	etherTypeARP  = 0x0806
	etherTypeIPv4 = 0x0800
	// minFrameLen is Ethernet's minimum frame without the FCS; the
	// 42 bytes of header and ARP body are zero-padded up to it.
	minFrameLen = 60
)

// Announcer sends one gratuitous ARP announcement (both forms) for the
// address on the interface.
type Announcer interface {
	Announce() error
}

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// GARPFrame builds a broadcast Ethernet frame carrying a gratuitous ARP for
// ip from mac: sender and target protocol address are both ip. The request
// form (op 1) has a zero target hardware address (RFC 5227's
// announcement); the reply form (op 2) repeats mac there (RFC 5944 4.6).
// Hosts differ in which form refreshes their cache, so both are sent.
func GARPFrame(op uint16, mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("hardware address %q is not a 6-byte Ethernet address", mac)
	}
	if !ip.Is4() {
		return nil, fmt.Errorf("%s is not IPv4", ip)
	}
	if op != arpRequest && op != arpReply {
		return nil, fmt.Errorf("ARP operation %d is neither request nor reply", op)
	}
	f := make([]byte, minFrameLen)
	// Ethernet header.
	copy(f[0:6], broadcastMAC)
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], etherTypeARP)
	// ARP body.
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:2], 1) // hardware type: Ethernet
	binary.BigEndian.PutUint16(a[2:4], etherTypeIPv4)
	a[4] = 6 // hardware address length
	a[5] = 4 // protocol address length
	binary.BigEndian.PutUint16(a[6:8], op)
	ip4 := ip.As4()
	copy(a[8:14], mac)
	copy(a[14:18], ip4[:])
	if op == arpReply {
		copy(a[18:24], mac)
	} // request: target hardware address stays zero
	copy(a[24:28], ip4[:])
	return f, nil
}

// GARPFrames is the pair sent per announcement: request, then reply.
func GARPFrames(mac net.HardwareAddr, ip netip.Addr) ([][]byte, error) {
	var out [][]byte
	for _, op := range []uint16{arpRequest, arpReply} {
		f, err := GARPFrame(op, mac, ip)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
