package vip

import (
	"context"
	"fmt"
	"log"
	"time"
)

// Announce is "edge-vip announce": it adds address/32 to iface (chosen by
// subnet when empty) unless it is there and sends the 3 gratuitous ARPs,
// 0, 0.5 and 1 s apart. edgeadm holds the virtual IP with it on the first
// master before any API server exists; "edge-vip run" keeps it (see the
// package doc).
func Announce(ctx context.Context, address, iface string, lg *log.Logger) error {
	ip, err := ParseAddress(address)
	if err != nil {
		return fmt.Errorf("address: %w", err)
	}
	iface, err = ResolveInterface(nil, iface, ip)
	if err != nil {
		return err
	}
	return announce(ctx, NewNetlinkAddrs(nil, iface, ip), NewARPAnnouncer(iface, ip), ip.String()+"/32 on "+iface, lg)
}

func announce(ctx context.Context, addrs AddrManager, arp Announcer, what string, lg *log.Logger) error {
	present, err := addrs.Present()
	if err != nil {
		return err
	}
	if !present {
		if err := addrs.Add(); err != nil {
			return err
		}
	}
	start := time.Now()
	for _, at := range arpBurst {
		t := time.NewTimer(time.Until(start.Add(at)))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err := arp.Announce(); err != nil {
			return err
		}
	}
	if present {
		lg.Printf("%s was already there; gratuitous ARP sent %d times", what, len(arpBurst))
	} else {
		lg.Printf("added %s; gratuitous ARP sent %d times", what, len(arpBurst))
	}
	return nil
}

// Release is "edge-vip release": it removes address/32 from iface, or when
// iface is empty from every interface carrying it. Absent is fine.
func Release(address, iface string, lg *log.Logger) error {
	ip, err := ParseAddress(address)
	if err != nil {
		return fmt.Errorf("address: %w", err)
	}
	ifaces := []string{iface}
	if iface == "" {
		all, err := ListInterfaces(nil)
		if err != nil {
			return err
		}
		ifaces = interfacesHolding(all, ip)
	}
	for _, name := range ifaces {
		if err := release(NewNetlinkAddrs(nil, name, ip), ip.String()+"/32 on "+name, lg); err != nil {
			return err
		}
	}
	if len(ifaces) == 0 {
		lg.Printf("%s/32 is on no interface; nothing to remove", ip)
	}
	return nil
}

func release(addrs AddrManager, what string, lg *log.Logger) error {
	present, err := addrs.Present()
	if err != nil {
		return err
	}
	if !present {
		lg.Printf("%s is not there; nothing to remove", what)
		return nil
	}
	if err := addrs.Remove(); err != nil {
		return err
	}
	lg.Printf("removed %s", what)
	return nil
}
