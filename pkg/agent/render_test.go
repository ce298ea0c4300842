package agent

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func TestRenderContainerdConfig(t *testing.T) {
	v3 := "version = 3\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = 'registry.k8s.io/pause:3.10.1'\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n"
	tests := []struct {
		name, in, bin, repo string
		want, notWant       []string
	}{
		{"unchanged without settings", v3, "", "", []string{"SystemdCgroup = true", "registry.k8s.io/pause"}, []string{"BinaryName"}},
		{"binary into existing section", v3, "/usr/local/sbin/runc-lab", "",
			[]string{"runtimes.runc.options]\n  BinaryName = \"/usr/local/sbin/runc-lab\"\n  SystemdCgroup = true"}, nil},
		{"existing BinaryName replaced", "[plugins.x.runtimes.runc.options]\n  BinaryName = \"/old\"\n", "/new", "",
			[]string{"BinaryName = \"/new\""}, []string{"/old"}},
		{"section added (v2)", "version = 2\n", "/b", "", []string{`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]`, `BinaryName = "/b"`}, nil},
		{"section added (v3)", "version = 3\n", "/b", "", []string{`[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]`}, nil},
		{"sandbox image repository", v3, "", "reg.local/k8s", []string{"reg.local/k8s/pause:3.10.1"}, []string{"registry.k8s.io/pause"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(RenderContainerdConfig([]byte(tt.in), tt.bin, tt.repo))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in\n%s", w, got)
				}
			}
		})
	}
}

func TestConflist(t *testing.T) {
	tests := []struct {
		cidrs   []string
		ipam    string
		route   string
		wantErr bool
	}{
		{[]string{"10.244.1.0/24"}, IPAMEdge, "0.0.0.0/0", false},
		{[]string{"10.244.1.0/24"}, IPAMHostLocal, "0.0.0.0/0", false},
		{[]string{"fd00:1::/64"}, IPAMEdge, "::/0", false},
		{[]string{"not-a-cidr"}, IPAMEdge, "", true},
	}
	for _, tt := range tests {
		data, err := Conflist(tt.cidrs, tt.ipam)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%v: no error", tt.cidrs)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			CNIVersion string `json:"cniVersion"`
			Plugins    []struct {
				Type   string `json:"type"`
				Bridge string `json:"bridge"`
				IPAM   struct {
					Type   string                `json:"type"`
					Ranges [][]map[string]string `json:"ranges"`
					Routes []map[string]string   `json:"routes"`
				} `json:"ipam"`
			} `json:"plugins"`
		}
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		p := c.Plugins[0]
		if p.Type != "bridge" || p.Bridge != "cni0" || p.IPAM.Type != tt.ipam ||
			p.IPAM.Ranges[0][0]["subnet"] != tt.cidrs[0] || p.IPAM.Routes[0]["dst"] != tt.route || c.Plugins[1].Type != "portmap" {
			t.Errorf("%v: conflist %s", tt.cidrs, data)
		}
	}
}

func TestStripChains(t *testing.T) {
	save := `*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:CNI-abc - [0:0]
:FLANNEL-POSTRTG - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -j KUBE-POSTROUTING
-A POSTROUTING -s 10.244.0.0/24 -j CNI-abc
-A POSTROUTING -j FLANNEL-POSTRTG
-A KUBE-SERVICES -j RETURN
-A CNI-abc -d 10.244.0.0/24 -j ACCEPT
COMMIT
`
	got, changed := StripChains(save)
	if !changed {
		t.Fatal("nothing stripped")
	}
	for _, gone := range []string{"KUBE-", "CNI-", "FLANNEL-"} {
		if strings.Contains(got, gone) {
			t.Errorf("%s left in\n%s", gone, got)
		}
	}
	for _, kept := range []string{":DOCKER - [0:0]", "-j DOCKER", "*nat", "COMMIT", ":PREROUTING ACCEPT"} {
		if !strings.Contains(got, kept) {
			t.Errorf("%s removed from\n%s", kept, got)
		}
	}
	if _, changed := StripChains(got); changed {
		t.Error("second strip changed something")
	}
}

func TestCommentSwap(t *testing.T) {
	tests := []struct {
		in      string
		changed bool
	}{
		{"UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n", true},
		{"UUID=1 / ext4 defaults 0 1\n# /swapfile none swap sw 0 0\n", false},
		{"", false},
	}
	for _, tt := range tests {
		out, changed := CommentSwap(tt.in)
		if changed != tt.changed {
			t.Errorf("%q: changed %v", tt.in, changed)
		}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) >= 3 && f[2] == "swap" && !strings.HasPrefix(l, "#") {
				t.Errorf("active swap line left: %q", l)
			}
		}
		if !strings.Contains(out, "UUID=1 / ext4") && strings.Contains(tt.in, "UUID=1") {
			t.Errorf("root line lost: %q", out)
		}
	}
}

func TestSubstituteImages(t *testing.T) {
	yaml := []byte("image: __IMAGE_REPOSITORY__/flannel:v0.28.4\n  image: __IMAGE_REPOSITORY__/tunnel:v0.9.0\n")
	pkg := []string{"docker.io/flannel/flannel:v0.28.4", "registry.k8s.io/pause:3.10.1"}
	tests := []struct {
		repo, fallback string
		want           []string
	}{
		{"", "registry.k8s.io", []string{"image: docker.io/flannel/flannel:v0.28.4", "image: registry.k8s.io/tunnel:v0.9.0"}},
		{"reg.local/k8s", "x", []string{"image: reg.local/k8s/flannel:v0.28.4", "image: reg.local/k8s/tunnel:v0.9.0"}},
	}
	for _, tt := range tests {
		got := string(SubstituteImages(yaml, tt.repo, tt.fallback, pkg))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("repo %q: missing %q in %s", tt.repo, w, got)
			}
		}
	}
}

func TestRetagName(t *testing.T) {
	tests := []struct{ name, repo, want string }{
		{"registry.k8s.io/kube-apiserver:v1.34.4", "reg.local/k8s", "reg.local/k8s/kube-apiserver:v1.34.4"},
		{"registry.k8s.io/coredns/coredns:v1.12.1", "reg.local/k8s/", "reg.local/k8s/coredns:v1.12.1"},
		{"docker.io/flannel/flannel:v0.28.4", "reg.local", "reg.local/flannel:v0.28.4"},
		{"registry.k8s.io/pause:3.10.1", "", ""},
		{"registry.k8s.io/pause:3.10.1", "registry.k8s.io", ""},
	}
	for _, tt := range tests {
		if got := RetagName(tt.name, tt.repo); got != tt.want {
			t.Errorf("RetagName(%q, %q) = %q, want %q", tt.name, tt.repo, got, tt.want)
		}
	}
}

func TestDestination(t *testing.T) {
	tests := []struct {
		member, dest string
		ok           bool
	}{
		{"bin/kubelet", "/usr/local/bin/kubelet", true},
		{"bin/edgeadm", "", false},
		{"cni/bin/bridge", "/opt/cni/bin/bridge", true},
		{"systemd/kubelet.service", "/etc/systemd/system/kubelet.service", true},
		{"systemd/10-kubeadm.conf", "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", true},
		{"config/containerd-config.toml", "/etc/containerd/config.toml", true},
		{"manifests/edge/tunnel-cloud.yaml", ManifestsDir + "/edge/tunnel-cloud.yaml", true},
		{"images/pause.tar", "", false},
	}
	for _, tt := range tests {
		d, _, ok := destination(tt.member)
		if d != tt.dest || ok != tt.ok {
			t.Errorf("destination(%q) = %q %v, want %q %v", tt.member, d, ok, tt.dest, tt.ok)
		}
	}
}

func TestSplitSkips(t *testing.T) {
	mine, theirs := SplitSkips([]string{"prepare-node", " addon/coredns", "", "cni"}, append(PrePhases(), InitPostPhases()...))
	if !mine["prepare-node"] || !mine["cni"] || len(mine) != 2 {
		t.Errorf("mine %v", mine)
	}
	if strings.Join(theirs, ",") != "addon/coredns" {
		t.Errorf("kubeadm's %v", theirs)
	}
}

func TestSetSysctls(t *testing.T) {
	tests := []struct {
		name             string
		instances, want  string
		ipForward        string
		wantErr, written bool
	}{
		{"low inotify raised, ip_forward set", "128", "1024", "0", false, true},
		{"high inotify kept", "8192", "8192", "1", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Host{Root: t.TempDir(), Log: &strings.Builder{}}
			files := map[string]string{
				"/proc/sys/fs/inotify/max_user_instances":       tt.instances,
				"/proc/sys/fs/inotify/max_user_watches":         "600000",
				"/proc/sys/net/ipv4/ip_forward":                 tt.ipForward,
				"/proc/sys/net/bridge/bridge-nf-call-iptables":  "1",
				"/proc/sys/net/bridge/bridge-nf-call-ip6tables": "1",
			}
			for p, v := range files {
				if err := h.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := setSysctls(h); (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			got, _ := h.ReadFile("/proc/sys/fs/inotify/max_user_instances")
			if strings.TrimSpace(string(got)) != tt.want {
				t.Errorf("max_user_instances %q, want %s", got, tt.want)
			}
			if fwd, _ := h.ReadFile("/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(string(fwd)) != "1" {
				t.Errorf("ip_forward %q", fwd)
			}
			conf, _ := h.ReadFile(SysctlFile)
			if !strings.Contains(string(conf), "net.ipv4.ip_forward = 1") ||
				strings.Contains(string(conf), "max_user_instances") != (tt.instances == "128") {
				t.Errorf("sysctl file:\n%s", conf)
			}
		})
	}
}

func TestCRIStatus(t *testing.T) {
	list := "TYPE                                      ID                       PLATFORMS      STATUS\n" +
		"io.containerd.grpc.v1                     cri                      -              error\n" +
		"io.containerd.grpc.v1                     containers               -              ok\n"
	if st, ok := CRIStatus(list); !ok || st != "error" {
		t.Errorf("got %q %v", st, ok)
	}
	if _, ok := CRIStatus("io.containerd.grpc.v1 containers - ok\n"); ok {
		t.Error("found a CRI plugin that is not there")
	}
}

func TestCNIChoiceObjects(t *testing.T) {
	objs, err := SplitObjects(cniChoiceObjects(CNICustom))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, o := range objs {
		kinds = append(kinds, o.GetKind())
	}
	if strings.Join(kinds, ",") != "ConfigMap,Role,RoleBinding" {
		t.Fatalf("objects %v", kinds)
	}
	if v, _, _ := unstructured.NestedString(objs[0].Object, "data", "plugin"); v != CNICustom {
		t.Errorf("plugin %q", v)
	}
}

func TestClusterCNI(t *testing.T) {
	tests := []struct {
		name string
		objs []runtime.Object
		want string
	}{
		{"no choice recorded: bridge", nil, CNIBridge},
		{"custom", []runtime.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cniChoiceConfigMap, Namespace: "kube-system"},
			Data: map[string]string{"plugin": CNICustom}}}, CNICustom},
	}
	for _, tt := range tests {
		got, err := clusterCNI(context.Background(), fake.NewSimpleClientset(tt.objs...))
		if err != nil || got != tt.want {
			t.Errorf("%s: %q %v, want %q", tt.name, got, err, tt.want)
		}
	}
}
