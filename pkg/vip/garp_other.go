//go:build !linux

package vip

import (
	"errors"
	"net/netip"
)

type noAnnouncer struct{}

// NewARPAnnouncer: gratuitous ARP needs Linux's AF_PACKET.
func NewARPAnnouncer(string, netip.Addr) Announcer { return noAnnouncer{} }

func (noAnnouncer) Announce() error { return errors.New("gratuitous ARP is only supported on Linux") }
