package vip

import (
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// packetAnnouncer writes the frames on an AF_PACKET socket of the
// interface, looked up at each announcement (its index or MAC may change).
type packetAnnouncer struct {
	iface string
	ip    netip.Addr
}

// NewARPAnnouncer returns the Announcer that sends real frames on iface.
func NewARPAnnouncer(iface string, ip netip.Addr) Announcer {
	return &packetAnnouncer{iface: iface, ip: ip}
}

func (p *packetAnnouncer) Announce() error {
	ifi, err := net.InterfaceByName(p.iface)
	if err != nil {
		return fmt.Errorf("gratuitous ARP: %w", err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return fmt.Errorf("gratuitous ARP: interface %s has no Ethernet address (%q)", p.iface, ifi.HardwareAddr)
	}
	frames, err := GARPFrames(ifi.HardwareAddr, p.ip)
	if err != nil {
		return fmt.Errorf("gratuitous ARP: %w", err)
	}
	return sendFrames(ifi.Index, frames)
}

// sendFrames writes each frame to the broadcast address of the interface
// with index ifindex.
func sendFrames(ifindex int, frames [][]byte) error {
	proto := htons(unix.ETH_P_ARP)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return fmt.Errorf("gratuitous ARP: packet socket: %w", err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifindex, Halen: 6}
	copy(to.Addr[:], broadcastMAC)
	for _, f := range frames {
		if err := unix.Sendto(fd, f, 0, to); err != nil {
			return fmt.Errorf("gratuitous ARP: send on interface %d: %w", ifindex, err)
		}
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
