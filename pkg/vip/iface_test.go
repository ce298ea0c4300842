package vip

import (
	"net/netip"
	"strings"
	"testing"
)

func TestSelectInterface(t *testing.T) {
	pfx := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	lo := IfaceAddrs{Name: "lo", Loopback: true, Prefixes: pfx("127.0.0.1/8")}
	vip := netip.MustParseAddr("10.0.0.100")
	tests := []struct {
		name    string
		ifaces  []IfaceAddrs
		want    string
		wantErr []string
	}{
		{
			name:   "one match",
			ifaces: []IfaceAddrs{lo, {Name: "eth0", Prefixes: pfx("10.0.0.11/24")}, {Name: "eth1", Prefixes: pfx("192.168.5.2/24")}},
			want:   "eth0",
		},
		{
			name:   "match on a secondary address",
			ifaces: []IfaceAddrs{{Name: "eth0", Prefixes: pfx("192.168.5.2/24", "10.0.0.11/16")}},
			want:   "eth0",
		},
		{
			name:   "the VIP itself already there does not count twice",
			ifaces: []IfaceAddrs{{Name: "eth0", Prefixes: pfx("10.0.0.11/24", "10.0.0.100/32")}, {Name: "cni0", Prefixes: pfx("10.244.0.1/24")}},
			want:   "eth0",
		},
		{
			name:    "a /32 elsewhere is not a subnet",
			ifaces:  []IfaceAddrs{{Name: "eth0", Prefixes: pfx("192.168.5.2/24")}, {Name: "kube-ipvs0", Prefixes: pfx("10.0.0.100/32")}},
			wantErr: []string{"no interface", "10.0.0.100", "eth0 [192.168.5.2/24]", "kube-ipvs0 [10.0.0.100/32]"},
		},
		{
			name:    "none",
			ifaces:  []IfaceAddrs{lo, {Name: "eth0", Prefixes: pfx("192.168.5.2/24")}},
			wantErr: []string{"no interface has an IPv4 subnet containing 10.0.0.100", "eth0 [192.168.5.2/24]", "set interface"},
		},
		{
			name:    "loopback never",
			ifaces:  []IfaceAddrs{{Name: "lo", Loopback: true, Prefixes: pfx("10.0.0.1/8")}},
			wantErr: []string{"no interface", "interfaces: none"},
		},
		{
			name:    "two",
			ifaces:  []IfaceAddrs{{Name: "eth1", Prefixes: pfx("10.0.0.12/24")}, {Name: "eth0", Prefixes: pfx("10.0.0.11/16")}},
			wantErr: []string{"interfaces eth0, eth1 all have an IPv4 subnet containing 10.0.0.100"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectInterface(vip, tt.ifaces)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if got := interfacesHolding([]IfaceAddrs{{Name: "eth0", Prefixes: pfx("10.0.0.11/24", "10.0.0.100/32")}, {Name: "eth1", Prefixes: pfx("10.0.0.100/24")}}, vip); len(got) != 1 || got[0] != "eth0" {
		t.Errorf("interfacesHolding = %v", got)
	}
}
