package vip

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/contract"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       Config
		wantErr    []string
	}{
		{
			name: "defaults",
			yaml: "address: 10.0.0.100\nnodeName: m1\n",
			want: Config{Address: netip.MustParseAddr("10.0.0.100"), NodeName: "m1", Kubeconfig: contract.VIPKubeconfig,
				HealthListen: contract.VIPHealthAddress, LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: time.Second},
		},
		{
			name: "all set",
			yaml: "address: 192.168.1.10\ninterface: eth1\nnodeName: m2\nkubeconfig: /k\nleaseDuration: 10s\nrenewDeadline: 8s\nretryPeriod: 2s\nhealthListen: 127.0.0.1:1\n",
			want: Config{Address: netip.MustParseAddr("192.168.1.10"), Interface: "eth1", NodeName: "m2", Kubeconfig: "/k",
				HealthListen: "127.0.0.1:1", LeaseDuration: 10 * time.Second, RenewDeadline: 8 * time.Second, RetryPeriod: 2 * time.Second},
		},
		{name: "unknown field", yaml: "address: 10.0.0.100\nnodeName: m1\nleaseDurations: 4s\n", wantErr: []string{"unknown field"}},
		{name: "not YAML", yaml: "{", wantErr: []string{"parse"}},
		{name: "missing address and node", yaml: "interface: eth0\n", wantErr: []string{"address: missing", "nodeName: missing"}},
		{name: "not an IP", yaml: "address: vip.example\nnodeName: m1\n", wantErr: []string{`"vip.example" is not an IP address`}},
		{name: "IPv6", yaml: "address: fd00::1\nnodeName: m1\n", wantErr: []string{"not IPv4"}},
		{name: "CIDR", yaml: "address: 10.0.0.100/32\nnodeName: m1\n", wantErr: []string{"not an IP address"}},
		{name: "loopback", yaml: "address: 127.0.0.5\nnodeName: m1\n", wantErr: []string{"cannot be a virtual IP"}},
		{name: "bad duration", yaml: "address: 10.0.0.1\nnodeName: m1\nrenewDeadline: soon\n", wantErr: []string{`renewDeadline: "soon" is not a positive duration`}},
		{name: "negative duration", yaml: "address: 10.0.0.1\nnodeName: m1\nretryPeriod: -1s\n", wantErr: []string{"retryPeriod"}},
		{name: "lease not above renew", yaml: "address: 10.0.0.1\nnodeName: m1\nleaseDuration: 3s\n", wantErr: []string{"leaseDuration 3s must be greater than renewDeadline 3s"}},
		{name: "renew not above retry", yaml: "address: 10.0.0.1\nnodeName: m1\nretryPeriod: 2.5s\n", wantErr: []string{"renewDeadline 3s must be greater than retryPeriod 2.5s"}},
		{name: "fractional lease", yaml: "address: 10.0.0.1\nnodeName: m1\nleaseDuration: 4500ms\n", wantErr: []string{"whole number of seconds"}},
		{name: "bad health address", yaml: "address: 10.0.0.1\nnodeName: m1\nhealthListen: localhost\n", wantErr: []string{"healthListen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tt.yaml))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, tt.want)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("address: 10.0.0.100\nnodeName: m1\nleaseDuration: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "config "+path) || !strings.Contains(err.Error(), "leaseDuration") {
		t.Fatalf("err = %v", err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Fatalf("missing file: %v", err)
	}
}
