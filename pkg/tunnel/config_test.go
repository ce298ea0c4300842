package tunnel

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/pkg/contract"
)

func TestLoadServerConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, yaml string
		want       contract.EdgeTunnelServerConfig
		wantErr    string
	}{
		{
			name: "defaults",
			yaml: "nodeName: master-1\n",
			want: contract.EdgeTunnelServerConfig{
				NodeName: "master-1", Listen: ":10262", SocketPath: contract.EdgeTunnelSocket,
				HealthListen: contract.EdgeTunnelServerHealthAddress, ServingCertFile: contract.EdgeTunnelServingCert,
				ServingKeyFile: contract.EdgeTunnelServingKey, ClusterCAFile: contract.ClusterCAFile, Kubeconfig: contract.EdgeTunnelKubeconfig,
			},
		},
		{
			name: "set fields kept",
			yaml: "nodeName: m\nlisten: 10.0.0.1:1\nsocketPath: /s\nhealthListen: :1\nservingCertFile: /c\nservingKeyFile: /k\nclusterCAFile: /ca\nkubeconfig: /kc\n",
			want: contract.EdgeTunnelServerConfig{NodeName: "m", Listen: "10.0.0.1:1", SocketPath: "/s", HealthListen: ":1",
				ServingCertFile: "/c", ServingKeyFile: "/k", ClusterCAFile: "/ca", Kubeconfig: "/kc"},
		},
		{name: "unknown field", yaml: "nodeName: m\nlisen: :1\n", wantErr: "unknown field"},
		{name: "not YAML", yaml: "{", wantErr: "parse config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml"), []byte(tt.yaml))
			got, err := LoadServerConfig(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, tt.want)
			}
		})
	}
	if _, err := LoadServerConfig(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestLoadAgentConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, yaml string
		want       contract.EdgeTunnelAgentConfig
		wantErr    string
	}{
		{
			name: "defaults",
			yaml: "nodeName: edge-1\nservers: [\"10.0.0.1:10262\", \"master-2:10262\"]\n",
			want: contract.EdgeTunnelAgentConfig{NodeName: "edge-1", Servers: []string{"10.0.0.1:10262", "master-2:10262"},
				ServersFile: contract.EdgeProxyServersFile, ClusterCAFile: contract.ClusterCAFile,
				ClientCertFile: contract.KubeletClientCert, HealthListen: contract.EdgeTunnelAgentHealthAddress},
		},
		{name: "server without port", yaml: "nodeName: e\nservers: [10.0.0.1]\n", wantErr: "not host:port"},
		{name: "unknown field", yaml: "nodeName: e\nserver: [10.0.0.1:1]\n", wantErr: "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml"), []byte(tt.yaml))
			got, err := LoadAgentConfig(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.NodeName != tt.want.NodeName || strings.Join(got.Servers, ",") != strings.Join(tt.want.Servers, ",") ||
				got.ServersFile != tt.want.ServersFile || got.ClusterCAFile != tt.want.ClusterCAFile ||
				got.ClientCertFile != tt.want.ClientCertFile || got.HealthListen != tt.want.HealthListen {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, tt.want)
			}
		})
	}
}

func TestAgentNodeNameFromCertificate(t *testing.T) {
	p := newTestPKI(t)
	a, err := NewAgent(contract.EdgeTunnelAgentConfig{ClientCertFile: p.nodeCert(t, "edge-7"), ClusterCAFile: p.caFile}, AgentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status().Node != "edge-7" {
		t.Fatalf("node %q, want edge-7", a.Status().Node)
	}
}
