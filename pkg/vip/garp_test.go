package vip

import (
	"bytes"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestGARPFrame(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0x00, 0x02}
	ip := netip.MustParseAddr("10.0.0.100")
	pad := strings.Repeat("00", 18)
	tests := []struct {
		name string
		op   uint16
		want string // hex, spaces for reading
	}{
		{
			name: "request",
			op:   arpRequest,
			want: "ffffffffffff 0242ac110002 0806" + // Ethernet: broadcast, from mac, ARP
				" 0001 0800 06 04 0001" + // Ethernet/IPv4, request
				" 0242ac110002 0a000064" + // sender: mac, VIP
				" 000000000000 0a000064" + // target: zero, VIP
				" " + pad,
		},
		{
			name: "reply",
			op:   arpReply,
			want: "ffffffffffff 0242ac110002 0806" +
				" 0001 0800 06 04 0002" +
				" 0242ac110002 0a000064" +
				" 0242ac110002 0a000064" + // target: mac, VIP
				" " + pad,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GARPFrame(tt.op, mac, ip)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := hex.DecodeString(strings.ReplaceAll(tt.want, " ", ""))
			if len(got) != 60 || !bytes.Equal(got, want) {
				t.Fatalf("frame\n got %x\nwant %x", got, want)
			}
		})
	}

	frames, err := GARPFrames(mac, ip)
	if err != nil || len(frames) != 2 || frames[0][21] != arpRequest || frames[1][21] != arpReply {
		t.Fatalf("GARPFrames: %v, %x", err, frames)
	}
	for _, bad := range []struct {
		op  uint16
		mac net.HardwareAddr
		ip  netip.Addr
	}{
		{arpRequest, net.HardwareAddr{1, 2, 3}, ip},
		{arpRequest, mac, netip.MustParseAddr("fd00::1")},
		{3, mac, ip},
	} {
		if _, err := GARPFrame(bad.op, bad.mac, bad.ip); err == nil {
			t.Errorf("GARPFrame(%d, %v, %v): no error", bad.op, bad.mac, bad.ip)
		}
	}
	if htons(0x0806) != 0x0608 {
		t.Errorf("htons(0x0806) = %#x", htons(0x0806))
	}
}
