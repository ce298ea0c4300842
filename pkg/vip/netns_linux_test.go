package vip

import (
	"bytes"
	"context"
	"log"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// TestNetlinkInNamespace exercises the real address operations, the
// interface choice and the gratuitous ARP on a veth pair (or a dummy
// interface when veth is missing) inside a fresh network namespace.
func TestNetlinkInNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace and interfaces (CAP_NET_ADMIN, CAP_NET_RAW)")
	}
	runtime.LockOSThread() // the thread enters the namespace; never unlocked if it cannot leave
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.New() // creates it and moves this thread in
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("new network namespace: %v", err)
	}
	defer ns.Close()
	defer func() {
		if err := netns.Set(orig); err != nil {
			t.Errorf("back to the original namespace: %v", err)
			return
		}
		runtime.UnlockOSThread()
	}()

	h := &netlink.Handle{}
	peer := ""
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "d0"}, PeerName: "d1"}); err == nil {
		peer = "d1"
	} else if err := h.LinkAdd(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "d0"}}); err != nil {
		t.Skipf("neither veth nor dummy interfaces available: %v", err)
	}
	for _, name := range []string{"lo", "d0", peer} {
		if name == "" {
			continue
		}
		l, err := h.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	d0, _ := h.LinkByName("d0")
	if err := h.AddrAdd(d0, &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, 9, 9, 1), Mask: net.CIDRMask(24, 32)}}); err != nil {
		t.Fatal(err)
	}
	vip := netip.MustParseAddr("10.9.9.9")

	// Interface by subnet.
	if got, err := ResolveInterface(nil, "", vip); err != nil || got != "d0" {
		t.Fatalf("ResolveInterface = %q, %v", got, err)
	}
	if _, err := ResolveInterface(nil, "", netip.MustParseAddr("10.7.7.7")); err == nil {
		t.Fatal("no error for an address outside every subnet")
	}

	// Add, Present, Remove, each twice.
	a := NewNetlinkAddrs(nil, "d0", vip)
	for range 2 {
		if err := a.Add(); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := a.Present(); err != nil || !p {
		t.Fatalf("Present after Add = %v, %v", p, err)
	}
	ps, _ := addrList(h, d0)
	if !containsPrefix(ps, netip.MustParsePrefix("10.9.9.9/32")) {
		t.Fatalf("addresses of d0: %v", ps)
	}
	// Still d0 with the /32 on it.
	if got, err := ResolveInterface(nil, "", vip); err != nil || got != "d0" {
		t.Fatalf("ResolveInterface with the VIP present = %q, %v", got, err)
	}
	for range 2 {
		if err := a.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := a.Present(); err != nil || p {
		t.Fatalf("Present after Remove = %v, %v", p, err)
	}
	if _, err := NewNetlinkAddrs(nil, "nope0", vip).Present(); err == nil {
		t.Fatal("no error for a missing interface")
	}

	// announce / release as the subcommands do, watching the wire on the peer.
	var rx int
	if peer != "" {
		rx = listenARP(t, peer)
		defer unix.Close(rx)
	}
	lg := log.New(&testWriter{t}, "", 0)
	if err := Announce(context.Background(), vip.String(), "", lg); err != nil {
		t.Fatal(err)
	}
	if p, _ := a.Present(); !p {
		t.Fatal("announce did not add the address")
	}
	if peer != "" {
		ifi, _ := net.InterfaceByName("d0")
		want := map[uint16][]byte{}
		for _, op := range []uint16{arpRequest, arpReply} {
			want[op], _ = GARPFrame(op, ifi.HardwareAddr, vip)
		}
		got := map[uint16]int{}
		buf := make([]byte, 1500)
		for {
			n, _, err := unix.Recvfrom(rx, buf, 0)
			if err != nil {
				break // timeout: all read
			}
			// The kernel hands the frame without the FCS; compare the 42
			// bytes of header and ARP body (padding may be trimmed).
			for op, w := range want {
				if n >= 42 && bytes.Equal(buf[:42], w[:42]) {
					got[op]++
				}
			}
		}
		if got[arpRequest] != 3 || got[arpReply] != 3 {
			t.Errorf("frames seen on %s: %v, want 3 requests and 3 replies", peer, got)
		}
	}
	for range 2 {
		if err := Release(vip.String(), "", lg); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := a.Present(); p {
		t.Fatal("release left the address")
	}
}

func containsPrefix(ps []netip.Prefix, p netip.Prefix) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// listenARP opens a packet socket receiving the ARP frames of iface, with
// a short read timeout.
func listenARP(t *testing.T, iface string) int {
	t.Helper()
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index}); err != nil {
		t.Fatal(err)
	}
	tv := unix.NsecToTimeval(int64(300 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return fd
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}
