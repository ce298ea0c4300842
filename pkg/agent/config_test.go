package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
	"k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/validation"
	kubeadmcmd "k8s.io/kubernetes/cmd/kubeadm/app/cmd"
	"k8s.io/kubernetes/cmd/kubeadm/app/cmd/options"

	"github.com/edgeops/edgeops/pkg/joininfo"
)

// kubeadmCommand is kubeadm's init or join command with args parsed.
func kubeadmCommand(t *testing.T, name string, args ...string) *cobra.Command {
	t.Helper()
	root := kubeadmcmd.NewKubeadmCommand(nil, nil, nil)
	c, _, err := root.Find([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

// acceptedByKubeadm replays the flags left set, adds --config as the
// wrapper does, and runs kubeadm's own mixed-arguments check.
func acceptedByKubeadm(t *testing.T, c *cobra.Command) {
	t.Helper()
	if err := ReplayChangedFlags(c); err != nil {
		t.Fatal(err)
	}
	if err := c.Flags().Set(options.CfgPath, "/x"); err != nil {
		t.Fatal(err)
	}
	if err := validation.ValidateMixedArguments(c.Flags()); err != nil {
		t.Errorf("kubeadm refuses the flags left: %v", err)
	}
}

func argValue(args []kubeadmv1.Arg, name string) string {
	for _, a := range args {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func TestInitConfigFromFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		s     InitSettings
		check func(t *testing.T, c *KubeadmConfig)
	}{
		{
			name: "flags become the configuration",
			args: []string{"--apiserver-advertise-address=10.1.2.3", "--pod-network-cidr=10.50.0.0/16", "--node-name=m1",
				"--image-repository=reg.local/k8s", "--apiserver-cert-extra-sans=a.example,b.example", "--service-cidr=10.96.0.0/16",
				"--control-plane-endpoint=vip:6443", "--token=abcdef.0123456789abcdef", "--token-ttl=2h"},
			check: func(t *testing.T, c *KubeadmConfig) {
				if c.Init.LocalAPIEndpoint.AdvertiseAddress != "10.1.2.3" || c.Init.NodeRegistration.Name != "m1" {
					t.Errorf("init: %+v", c.Init)
				}
				if c.Cluster.Networking.PodSubnet != "10.50.0.0/16" || c.Cluster.Networking.ServiceSubnet != "10.96.0.0/16" {
					t.Errorf("networking: %+v", c.Cluster.Networking)
				}
				if c.Cluster.ImageRepository != "reg.local/k8s" || c.Cluster.ControlPlaneEndpoint != "vip:6443" {
					t.Errorf("cluster: %+v", c.Cluster)
				}
				if strings.Join(c.Cluster.APIServer.CertSANs, ",") != "a.example,b.example" {
					t.Errorf("SANs %v", c.Cluster.APIServer.CertSANs)
				}
				bt := c.Init.BootstrapTokens[0]
				if bt.Token.String() != "abcdef.0123456789abcdef" || bt.TTL.Duration != 2*time.Hour {
					t.Errorf("token %v ttl %v", bt.Token, bt.TTL)
				}
				if c.Cluster.KubernetesVersion != "" {
					t.Errorf("kubernetes version %q set though no flag gave it", c.Cluster.KubernetesVersion)
				}
			},
		},
		{
			name: "defaults: generated token, pod subnet, edge settings",
			s:    InitSettings{EnableEdge: true},
			check: func(t *testing.T, c *KubeadmConfig) {
				if len(c.Init.BootstrapTokens) != 1 || c.Init.BootstrapTokens[0].Token == nil {
					t.Fatalf("no token generated")
				}
				if c.Cluster.Networking.PodSubnet != DefaultPodSubnet {
					t.Errorf("pod subnet %q", c.Cluster.Networking.PodSubnet)
				}
				if argValue(c.Cluster.ControllerManager.ExtraArgs, "node-monitor-grace-period") != edgeNodeMonitorGracePeriod {
					t.Errorf("controller manager args %v", c.Cluster.ControllerManager.ExtraArgs)
				}
				if argValue(c.Cluster.APIServer.ExtraArgs, "default-unreachable-toleration-seconds") != "86400" {
					t.Errorf("apiserver args %v", c.Cluster.APIServer.ExtraArgs)
				}
			},
		},
		{
			name: "edge eviction toleration from --edge-eviction-toleration-seconds",
			s:    InitSettings{EnableEdge: true, EvictionTolerationSeconds: 600},
			check: func(t *testing.T, c *KubeadmConfig) {
				for _, a := range []string{"default-not-ready-toleration-seconds", "default-unreachable-toleration-seconds"} {
					if got := argValue(c.Cluster.APIServer.ExtraArgs, a); got != "600" {
						t.Errorf("%s=%q, want 600", a, got)
					}
				}
			},
		},
		{
			name: "plain cluster: no edge settings; upload-certs makes a key",
			s:    InitSettings{EnableEdge: false, UploadCerts: true},
			check: func(t *testing.T, c *KubeadmConfig) {
				if len(c.Cluster.ControllerManager.ExtraArgs) != 0 || len(c.Cluster.APIServer.ExtraArgs) != 0 {
					t.Errorf("edge args on a plain cluster: %v %v", c.Cluster.ControllerManager.ExtraArgs, c.Cluster.APIServer.ExtraArgs)
				}
				if len(c.Init.CertificateKey) != 64 {
					t.Errorf("certificate key %d hex chars, want 64", len(c.Init.CertificateKey))
				}
			},
		},
		{
			name: "feature gates and patches",
			args: []string{"--feature-gates=RootlessControlPlane=true", "--patches=/etc/p"},
			check: func(t *testing.T, c *KubeadmConfig) {
				if !c.Cluster.FeatureGates["RootlessControlPlane"] {
					t.Errorf("feature gates %v", c.Cluster.FeatureGates)
				}
				if c.Init.Patches == nil || c.Init.Patches.Directory != "/etc/p" {
					t.Errorf("patches %v", c.Init.Patches)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := kubeadmCommand(t, "init", append(tt.args, "--skip-token-print", "--upload-certs", "--ignore-preflight-errors=Swap,Mem")...)
			c, err := InitConfigFromFlags(cmd.Flags(), tt.s)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
			acceptedByKubeadm(t, cmd)
			for name, want := range map[string]string{"skip-token-print": "true", "upload-certs": "true", "ignore-preflight-errors": "[Swap,Mem]"} {
				if got := cmd.Flags().Lookup(name).Value.String(); got != want || !cmd.Flags().Changed(name) {
					t.Errorf("--%s after replay: %q (changed %v), want %q", name, got, cmd.Flags().Changed(name), want)
				}
			}
			// The rendered file parses back to the same objects.
			data, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseKubeadmConfig(data)
			if err != nil {
				t.Fatalf("%v\n%s", err, data)
			}
			if back.Cluster.Networking != c.Cluster.Networking || back.Init.BootstrapTokens[0].Token.String() != c.Init.BootstrapTokens[0].Token.String() {
				t.Errorf("round trip changed the configuration:\n%s", data)
			}
		})
	}
}

func TestInitConfigFromUserFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kubeadm.yaml")
	user := `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.34.4
networking:
  podSubnet: 10.77.0.0/16
controllerManager:
  extraArgs:
  - name: node-monitor-grace-period
    value: 1m0s
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
`
	if err := os.WriteFile(p, []byte(user), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := kubeadmCommand(t, "init", "--config="+p)
	c, err := InitConfigFromFlags(cmd.Flags(), InitSettings{EnableEdge: true})
	if err != nil {
		t.Fatal(err)
	}
	FinishInitConfig(c, NodeFacts{KubernetesVersion: "v9.9.9", KubeletResolvConf: "/etc/edgeadm/resolv.conf", CgroupDriver: "cgroupfs", ConntrackReadOnly: true})
	if c.Cluster.Networking.PodSubnet != "10.77.0.0/16" || c.Cluster.KubernetesVersion != "v1.34.4" {
		t.Errorf("user values lost: %+v %s", c.Cluster.Networking, c.Cluster.KubernetesVersion)
	}
	if v := argValue(c.Cluster.ControllerManager.ExtraArgs, "node-monitor-grace-period"); v != "1m0s" {
		t.Errorf("user's grace period overridden: %s", v)
	}
	if v := argValue(c.Init.NodeRegistration.KubeletExtraArgs, "resolv-conf"); v != "/etc/edgeadm/resolv.conf" {
		t.Errorf("kubelet resolv-conf %q", v)
	}
	data, _ := c.Marshal()
	if len(c.Other) != 2 || !strings.Contains(string(data), "kind: KubeletConfiguration") || strings.Contains(string(data), "cgroupDriver: cgroupfs") ||
		!strings.Contains(string(data), "maxPerCore: 0") {
		t.Errorf("KubeletConfiguration not passed through:\n%s", data)
	}
}

func TestParseKubeadmConfigRejectsOldAPI(t *testing.T) {
	_, err := ParseKubeadmConfig([]byte("apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n"))
	if err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Fatalf("got %v, want a migrate hint", err)
	}
}

func testInfo() joininfo.Info {
	return joininfo.Info{APIServerEndpoint: "10.0.0.1:6443", Token: "abcdef.0123456789abcdef",
		CACertHashes: []string{"sha256:00ff"}, CertificateKey: strings.Repeat("ab", 32)}
}

func TestJoinConfigFromFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		s       JoinSettings
		wantErr string
		check   func(t *testing.T, j *kubeadmv1.JoinConfiguration)
	}{
		{
			name: "edge worker",
			args: []string{"--node-name=e1", "--cri-socket=unix:///run/containerd/containerd.sock"},
			s:    JoinSettings{LoadInfo: fixedInfo(testInfo()), Role: RoleEdge, KubeletResolvConf: "/r"},
			check: func(t *testing.T, j *kubeadmv1.JoinConfiguration) {
				bt := j.Discovery.BootstrapToken
				if bt.Token != "abcdef.0123456789abcdef" || bt.APIServerEndpoint != "10.0.0.1:6443" || bt.CACertHashes[0] != "sha256:00ff" {
					t.Errorf("discovery %+v", bt)
				}
				if j.Discovery.TLSBootstrapToken != bt.Token {
					t.Errorf("tls bootstrap token not set")
				}
				if j.NodeRegistration.Name != "e1" || j.NodeRegistration.CRISocket == "" {
					t.Errorf("node registration %+v", j.NodeRegistration)
				}
				if argValue(j.NodeRegistration.KubeletExtraArgs, "node-labels") != EdgeNodeLabelKey+"="+EdgeNodeLabelValue {
					t.Errorf("labels %v", j.NodeRegistration.KubeletExtraArgs)
				}
				if !hasTaint(j.NodeRegistration.Taints, EdgeTaintKey) {
					t.Errorf("taints %v", j.NodeRegistration.Taints)
				}
				if argValue(j.NodeRegistration.KubeletExtraArgs, "resolv-conf") != "/r" {
					t.Errorf("resolv-conf %v", j.NodeRegistration.KubeletExtraArgs)
				}
				if j.ControlPlane != nil {
					t.Errorf("worker got a control plane section")
				}
			},
		},
		{
			name: "plain worker, endpoint override",
			s:    JoinSettings{LoadInfo: fixedInfo(testInfo()), Role: RoleWorker, Endpoint: "vip:6443"},
			check: func(t *testing.T, j *kubeadmv1.JoinConfiguration) {
				if len(j.NodeRegistration.KubeletExtraArgs) != 0 || len(j.NodeRegistration.Taints) != 0 {
					t.Errorf("plain worker got edge settings: %+v", j.NodeRegistration)
				}
				if j.Discovery.BootstrapToken.APIServerEndpoint != "vip:6443" {
					t.Errorf("endpoint %s", j.Discovery.BootstrapToken.APIServerEndpoint)
				}
			},
		},
		{
			name: "control plane",
			args: []string{"--control-plane", "--apiserver-advertise-address=10.0.0.2", "--apiserver-bind-port=6444"},
			s:    JoinSettings{LoadInfo: fixedInfo(testInfo()), Role: "control-plane"},
			check: func(t *testing.T, j *kubeadmv1.JoinConfiguration) {
				if j.ControlPlane == nil || j.ControlPlane.LocalAPIEndpoint.AdvertiseAddress != "10.0.0.2" ||
					j.ControlPlane.LocalAPIEndpoint.BindPort != 6444 || j.ControlPlane.CertificateKey != testInfo().CertificateKey {
					t.Errorf("control plane %+v", j.ControlPlane)
				}
			},
		},
		{
			name:    "control plane without certificate key",
			args:    []string{"--control-plane"},
			s:       JoinSettings{LoadInfo: fixedInfo(joininfo.Info{APIServerEndpoint: "a:1", Token: "abcdef.0123456789abcdef", CACertHashes: []string{"sha256:1"}})},
			wantErr: "no certificate key",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := kubeadmCommand(t, "join", tt.args...)
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
			data, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseKubeadmConfig(data); err != nil {
				t.Errorf("rendered JoinConfiguration does not parse: %v\n%s", err, data)
			}
		})
	}
}

func TestRole(t *testing.T) {
	tests := []struct {
		role         string
		edge, cp     bool
		want, errHas string
	}{
		{"", true, false, RoleEdge, ""},
		{"", false, false, RoleWorker, ""},
		{"worker", true, false, RoleWorker, ""},
		{"edge", false, false, RoleEdge, ""},
		{"edge", true, true, "control-plane", ""},
		{"cloud", true, false, "", "want edge or worker"},
	}
	for _, tt := range tests {
		o := &Options{NodeRole: tt.role, EnableEdge: tt.edge}
		got, err := o.Role(tt.cp)
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("%+v: err %v", tt, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v: got %q, %v", tt, got, err)
		}
	}
}

func TestFinishInitConfigCgroupDriver(t *testing.T) {
	tests := []struct{ driver, want string }{{"cgroupfs", "cgroupDriver: cgroupfs"}, {"systemd", "cgroupDriver: systemd"}, {"", ""}}
	for _, tt := range tests {
		c := &KubeadmConfig{Init: &kubeadmv1.InitConfiguration{}, Cluster: &kubeadmv1.ClusterConfiguration{}}
		FinishInitConfig(c, NodeFacts{KubernetesVersion: "v1.34.4", CgroupDriver: tt.driver})
		data, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if (tt.want == "") == strings.Contains(string(data), "KubeletConfiguration") || !strings.Contains(string(data), tt.want) {
			t.Errorf("driver %q:\n%s", tt.driver, data)
		}
		if _, err := ParseKubeadmConfig(data); err != nil {
			t.Errorf("driver %q: %v", tt.driver, err)
		}
	}
}

func TestCgroupDriver(t *testing.T) {
	tests := []struct{ cfg, want string }{
		{"[x.runc.options]\n  SystemdCgroup = true\n", "systemd"},
		{"[x.runc.options]\n  SystemdCgroup = false\n", "cgroupfs"},
		{"[x.runc.options]\n  SystemdCgroup=true\n", "systemd"},
		{"", "cgroupfs"},
	}
	for _, tt := range tests {
		h := &Host{Root: t.TempDir()}
		if err := h.WriteFile("/etc/containerd/config.toml", []byte(tt.cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := CgroupDriver(h); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.cfg, got, tt.want)
		}
	}
	if got := CgroupDriver(&Host{Root: t.TempDir()}); got != "" {
		t.Errorf("no config: %q", got)
	}
}
