package phases

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/edgeops/edgeops/pkg/inventory"
)

// vipOnMaster checks, on a master, that the VIP can live there: an
// interface (the named one, or any) has an IPv4 subnet that contains it,
// and the host does not own it as its own address (a /32 is the VIP
// itself, held by edge-vip).
func vipOnMaster(ctx context.Context, h *Host, vip *inventory.VIP) error {
	out, err := h.Remote.Run(ctx, "ip -o -4 addr show", nil)
	if err != nil {
		return fmt.Errorf("list addresses (ip -o -4 addr show): %w", err)
	}
	return vipFits(string(out), vip)
}

// vipFits is vipOnMaster's rule over `ip -o -4 addr show` output, lines like
// "2: eth0    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0".
func vipFits(ipAddrOutput string, vip *inventory.VIP) error {
	a, err := netip.ParseAddr(vip.Address)
	if err != nil {
		return fmt.Errorf("cluster.vip.address %q: %w", vip.Address, err)
	}
	var seen []string
	fits := false
	for _, line := range strings.Split(ipAddrOutput, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[2] != "inet" {
			continue
		}
		iface := strings.TrimSuffix(f[1], ":")
		p, err := netip.ParsePrefix(f[3])
		if err != nil || p.Addr().IsLoopback() {
			continue
		}
		seen = append(seen, iface+" "+p.String())
		if p.Addr() == a && p.Bits() < 32 {
			return fmt.Errorf("cluster.vip.address %s is this host's own address (%s on %s): the VIP must be an address no host has", vip.Address, p, iface)
		}
		if p.Bits() < 32 && p.Masked().Contains(a) && (vip.Interface == "" || vip.Interface == iface) {
			fits = true
		}
	}
	if !fits {
		where := "any interface"
		if vip.Interface != "" {
			where = "interface " + vip.Interface
		}
		return fmt.Errorf("cluster.vip.address %s is in no subnet of %s on this master (it has %s): the VIP must lie in the masters' subnet so ARP can move it",
			vip.Address, where, strings.Join(seen, ", "))
	}
	return nil
}
