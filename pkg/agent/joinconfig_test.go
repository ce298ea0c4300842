package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"

	"github.com/edgeops/edgeops/pkg/joininfo"
)

// fixedInfo stands for a join information file that holds info.
func fixedInfo(info joininfo.Info) func() (joininfo.Info, error) {
	return func() (joininfo.Info, error) { return info, nil }
}

// noInfo fails the test if the join information file is read.
func noInfo(t *testing.T) func() (joininfo.Info, error) {
	return func() (joininfo.Info, error) {
		t.Errorf("the join information file was read, though discovery was given by hand")
		return joininfo.Info{}, errors.New("read")
	}
}

const (
	handToken = "abcdef.0123456789abcdef"
	handHash  = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// TestJoinConfigByHand: kubeadm's discovery flags (and a user's --config
// with discovery) reach kubeadm as kubeadm join would take them, without
// the join information file; the edge settings still apply.
func TestJoinConfigByHand(t *testing.T) {
	certKey := strings.Repeat("cd", 32)
	dir := t.TempDir()
	userCfg := filepath.Join(dir, "join.yaml")
	if err := os.WriteFile(userCfg, []byte(`apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.9.9.9:6443
    token: `+handToken+`
    caCertHashes: [`+handHash+`]
  tlsBootstrapToken: `+handToken+`
nodeRegistration:
  name: from-config
`), 0o600); err != nil {
		t.Fatal(err)
	}
	clusterInfo := filepath.Join(dir, "cluster-info.yaml")
	if err := os.WriteFile(clusterInfo, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noDiscovery := filepath.Join(dir, "nodisc.yaml")
	if err := os.WriteFile(noDiscovery, []byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: n2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		endpoint string
		s        JoinSettings
		wantErr  string
		check    func(t *testing.T, j *kubeadmv1.JoinConfiguration)
	}{
		{
			name: "token and CA hash, edge worker", endpoint: "10.0.0.1:6443",
			args: []string{"--token", handToken, "--discovery-token-ca-cert-hash", handHash},
			s:    JoinSettings{Role: RoleEdge},
			check: func(t *testing.T, j *kubeadmv1.JoinConfiguration) {
				bt := j.Discovery.BootstrapToken
				if bt == nil || bt.Token != handToken || bt.APIServerEndpoint != "10.0.0.1:6443" || len(bt.CACertHashes) != 1 || bt.CACertHashes[0] != handHash {
					t.Errorf("discovery %+v", bt)
				}
				if j.Discovery.TLSBootstrapToken != handToken || j.Discovery.File != nil {
					t.Errorf("discovery %+v", j.Discovery)
				}
				if argValue(j.NodeRegistration.KubeletExtraArgs, "node-labels") != EdgeNodeLabelKey+"="+EdgeNodeLabelValue || !hasTaint(j.NodeRegistration.Taints, EdgeTaintKey) {
					t.Errorf("edge label/taint missing on the by-hand path: %+v", j.NodeRegistration)
				}
			},
		},
		{
			name: "control plane with certificate key", endpoint: "10.0.0.1:6443",
			args: []string{"--token", handToken, "--discovery-token-ca-cert-hash", handHash, "--control-plane", "--certificate-key", certKey},
			s:    JoinSettings{Role: RoleControlPlane},
			check: func(t *testing.T, j *kubeadmv1.JoinConfiguration) {
				if j.ControlPlane == nil || j.ControlPlane.CertificateKey != certKey {
					t.Errorf("control plane %+v", j.ControlPlane)
				}
				if len(j.NodeRegistration.Taints) != 0 {
					t.Errorf("a control-plane node got the edge taint")
				}
			},
		},
		{
			name: "separate discovery and TLS bootstrap tokens, unsafe skip", endpoint: "10.0.0.1:6443",
			args: []string{"--discovery-token", handToken, "--tls-bootstrap-token", "zyxwvu.0123456789abcdef", "--discovery-token-unsafe-skip-ca-verification"},
			s:    JoinSettings{Role: RoleWorker},
			check: func(t *testing.T, j *kubeadmv1.JoinConfiguration) {
				bt := j.Discovery.BootstrapToken
				if bt == nil || bt.Token != handToken || !bt.UnsafeSkipCAVerification || j.Discovery.TLSBootstrapToken != "zyxwvu.0123456789abcdef" {
					t.Errorf("discovery %+v / %+v", bt, j.Discovery)
				}
				if len(j.NodeRegistration.Taints) != 0 {
					t.Errorf("a worker got the edge taint")
				}
			},
		},
		{
			name: "discovery file wins over token discovery",
			args: []string{"--discovery-file", clusterInfo, "--tls-bootstrap-token", handToken},
			s:    JoinSettings{Role: RoleWorker},
			check: func(t *testing.T, j *kubeadmv1.JoinConfiguration) {
				if j.Discovery.File == nil || j.Discovery.File.KubeConfigPath != clusterInfo || j.Discovery.BootstrapToken != nil {
					t.Errorf("discovery %+v", j.Discovery)
				}
			},
		},
		{
			name: "user config with discovery",
			args: []string{"--config", userCfg},
			s:    JoinSettings{Role: RoleEdge},
			check: func(t *testing.T, j *kubeadmv1.JoinConfiguration) {
				if j.Discovery.BootstrapToken == nil || j.Discovery.BootstrapToken.APIServerEndpoint != "10.9.9.9:6443" || j.NodeRegistration.Name != "from-config" {
					t.Errorf("user config not kept: %+v %+v", j.Discovery.BootstrapToken, j.NodeRegistration)
				}
				if !hasTaint(j.NodeRegistration.Taints, EdgeTaintKey) {
					t.Errorf("edge taint missing")
				}
			},
		},
		{
			name: "user config without discovery takes the join information",
			args: []string{"--config", noDiscovery},
			s:    JoinSettings{Role: RoleWorker, LoadInfo: fixedInfo(testInfo())},
			check: func(t *testing.T, j *kubeadmv1.JoinConfiguration) {
				if j.Discovery.BootstrapToken == nil || j.Discovery.BootstrapToken.APIServerEndpoint != "10.0.0.1:6443" || j.NodeRegistration.Name != "n2" {
					t.Errorf("discovery %+v", j.Discovery.BootstrapToken)
				}
			},
		},
		{
			name:    "flags and --join-info-file",
			args:    []string{"--token", handToken, "--discovery-token-ca-cert-hash", handHash},
			s:       JoinSettings{InfoFileGiven: true},
			wantErr: "--token, --discovery-token-ca-cert-hash and --join-info-file both give",
		},
		{
			name:    "config with discovery and --join-info-file",
			args:    []string{"--config", userCfg},
			s:       JoinSettings{InfoFileGiven: true},
			wantErr: "--config's JoinConfiguration.discovery and --join-info-file",
		},
		{
			name:    "config and discovery flags",
			args:    []string{"--config", noDiscovery, "--token", handToken},
			wantErr: "can not mix '--config' with arguments [token]",
		},
		{
			name: "nothing given, no file",
			s: JoinSettings{LoadInfo: func() (joininfo.Info, error) {
				return joininfo.Info{}, errors.New("read /etc/edgeadm/join-info.json: no such file")
			}},
			wantErr: "join-info.json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := kubeadmCommand(t, "join", tt.args...)
			if tt.s.LoadInfo == nil {
				tt.s.LoadInfo = noInfo(t)
			}
			tt.s.Endpoint = tt.endpoint
			c, err := JoinConfigFromFlags(cmd.Flags(), tt.s)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error with %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "0123456789abcdef") {
					t.Errorf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c.Join)
			acceptedByKubeadm(t, cmd)
			if err := CheckJoinConfig(c); err != nil {
				t.Errorf("kubeadm refuses what edgeadm built: %v", err)
			}
		})
	}
}

// TestCheckJoinConfig: kubeadm's validation runs before any phase, so a
// malformed token or a missing endpoint stops the join on a clean host.
func TestCheckJoinConfig(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		endpoint string
		wantErr  string
	}{
		{"malformed token", []string{"--token", "nope", "--discovery-token-ca-cert-hash", handHash}, "10.0.0.1:6443", "token"},
		{"no endpoint", []string{"--token", handToken, "--discovery-token-ca-cert-hash", handHash}, "", "discovery"},
		{"no CA pin", []string{"--token", handToken}, "10.0.0.1:6443", "discovery-token-unsafe-skip-ca-verification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := kubeadmCommand(t, "join", tt.args...)
			c, err := JoinConfigFromFlags(cmd.Flags(), JoinSettings{Role: RoleWorker, Endpoint: tt.endpoint, LoadInfo: noInfo(t)})
			if err != nil {
				t.Fatal(err)
			}
			err = CheckJoinConfig(c)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want a kubeadm error mentioning %q", err, tt.wantErr)
			}
		})
	}
}
