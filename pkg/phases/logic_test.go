package phases

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

func TestDecideAction(t *testing.T) {
	this := map[string]bool{"ca1": true}
	ready := clusterState{exists: true, caHashes: this, nodes: map[string]nodeStatus{"n2": {Name: "n2", Ready: true}, "n3": {Name: "n3"}}}
	fresh := clusterState{caHashes: map[string]bool{}}
	joined := func(name string) Facts {
		return Facts{Hostname: name, KubeletConf: true, KubeadmFiles: true, CAHash: "ca1", KubeletCAHash: "ca1"}
	}
	withDone := func(f Facts) Facts { f.Done = true; return f }
	withJoining := func(f Facts) Facts { f.Joining = true; return f }
	tests := []struct {
		name        string
		leader      bool
		facts       Facts
		cs          clusterState
		want        action
		wantForeign bool
	}{
		{"fresh leader", true, Facts{Hostname: "n1"}, fresh, actInit, false},
		{"leader with kubeadm traces, no control plane", true, Facts{Hostname: "n1", KubeadmFiles: true}, fresh, actReinit, false},
		{"leader of a running cluster", true, withDone(Facts{Hostname: "n1", AdminConf: true, KubeletConf: true, KubeadmFiles: true}), ready, actNone, false},
		{"leader whose init never finished (or made by hand)", true, Facts{Hostname: "n1", AdminConf: true, KubeletConf: true, KubeadmFiles: true}, ready, actFinishInit, false},
		{"fresh node", false, Facts{Hostname: "n4"}, ready, actJoin, false},
		{"joined and Ready", false, joined("n2"), ready, actNone, false},
		{"joined by edgeops, NotReady (rebooting)", false, withDone(joined("n3")), ready, actNone, false},
		{"kubelet.conf but NotReady, never finished", false, joined("n3"), ready, actRejoin, false},
		{"Ready, but edgeops never saw its join finish", false, withJoining(joined("n2")), ready, actRejoin, false},
		{"kubelet.conf but not registered", false, joined("n5"), ready, actRejoin, false},
		{"kubeadm files of this cluster, no kubelet.conf", false, Facts{Hostname: "n5", KubeadmFiles: true, CAHash: "ca1"}, ready, actRejoin, false},
		{"kubeadm files and no CA (join died early)", false, Facts{Hostname: "n5", KubeadmFiles: true}, ready, actRejoin, false},
		{"member of another cluster", false, withDone(Facts{Hostname: "n2", KubeletConf: true, KubeadmFiles: true, KubeletCAHash: "ca2"}), ready, actNone, true},
		{"half-joined to another cluster", false, Facts{Hostname: "n5", KubeadmFiles: true, CAHash: "ca2"}, ready, actNone, true},
		{"member of a cluster while the leader has none", false, joined("n2"), fresh, actNone, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Host{Host: &inventory.Host{Address: "10.0.0.9", Role: inventory.RoleEdge}, Facts: tt.facts}
			got, err := decideAction(h, tt.leader, tt.cs)
			var fe *ForeignClusterError
			if foreign := errors.As(err, &fe); foreign != tt.wantForeign || (err != nil && !foreign) {
				t.Fatalf("decideAction error = %v, want foreign=%v", err, tt.wantForeign)
			}
			if got != tt.want {
				t.Errorf("decideAction = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseFacts(t *testing.T) {
	sent := time.Unix(1_700_000_000, 0)
	recv := sent.Add(200 * time.Millisecond)
	tests := []struct {
		name    string
		out     string
		want    func(Facts) bool
		wantErr string
	}{
		{"fresh debian", "os=debian\nosversion=12\narch=x86_64\nhostname=e2e-1\nclock=1700000000.100000000\nlisten=0016\n",
			func(f Facts) bool {
				return f.OS == "debian" && f.Arch == "amd64" && f.Hostname == "e2e-1" && !f.InCluster() && f.ListeningPorts[22] && f.ClockSkew.Abs() < time.Millisecond
			}, ""},
		{"joined node", "os=debian\narch=aarch64\nhostname=n2\nedgeadm=1\nkubelet=1\nkubeletconf=1\nkubeadmfiles=1\ndone=1\nclock=1700000000.1\nlisten=282A\n",
			func(f Facts) bool {
				return f.Arch == "arm64" && f.InCluster() && !f.HalfJoined() && f.Done && f.ListeningPorts[10282]
			}, ""},
		{"half joined, swap, skewed", "hostname=n3\nkubeadmfiles=1\nswap=1\nclock=1700000090.1\n",
			func(f Facts) bool { return f.HalfJoined() && f.SwapOn && f.ClockSkew > 89*time.Second }, ""},
		{"no hostname", "os=debian\nclock=1700000000.1\n", nil, "no hostname"},
		{"bad clock", "hostname=a\nclock=x\n", nil, "clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseFacts(tt.out, sent, recv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(f) {
				t.Errorf("unexpected facts %+v", f)
			}
		})
	}
}

// The facts script must run under a plain POSIX sh and produce what
// parseFacts needs, here on this machine.
func TestFactsScriptRunsLocally(t *testing.T) {
	sent := time.Now()
	out, err := exec.Command("sh", "-c", factsScript).CombinedOutput()
	if err != nil {
		t.Fatalf("facts script: %v\n%s", err, out)
	}
	f, err := parseFacts(string(out), sent, time.Now())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if f.Hostname == "" || f.ClockSkew.Abs() > 2*time.Second {
		t.Errorf("facts %+v", f)
	}
}

// The lock script, run here with sh against a temporary state directory.
// It looks for a process by name that nothing on this machine runs: lab
// hosts' edgeadm processes are visible here and would hold the lock.
func TestLockScript(t *testing.T) {
	const noSuchProcess = "edgeops-test-no-such-process"
	const stale = 45 * time.Second
	run := func(t *testing.T, dir, owner, dead string) lockDecision {
		t.Helper()
		out, err := exec.Command("sh", "-c", acquireScript(dir, dir+".guard", owner, dead, noSuchProcess, stale)).CombinedOutput()
		if err != nil {
			t.Fatalf("acquire: %v\n%s", err, out)
		}
		d, err := parseLock(string(out))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name       string
		existing   string        // owner already in the lock ("" none)
		age        time.Duration // since its heartbeat
		dead       string
		wantGot    bool
		wantTaken  bool
		wantHolder string
	}{
		{"free", "", 0, "", true, false, ""},
		{"own lock again", "run-A", 0, "", true, false, ""},
		{"fresh lock of another run", "run-B", 5 * time.Second, "", false, false, "run-B"},
		{"stale lock of another run", "run-B", 2 * time.Minute, "", true, true, "run-B"},
		{"fresh lock of a dead local run", "run-B", 5 * time.Second, "run-B", true, true, "run-B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "edgeops")
			if tt.existing != "" {
				os.MkdirAll(dir, 0o700)
				f := filepath.Join(dir, "lock")
				os.WriteFile(f, []byte(tt.existing+"\n"), 0o600)
				at := time.Now().Add(-tt.age)
				os.Chtimes(f, at, at)
			}
			d := run(t, dir, "run-A", tt.dead)
			if d.Acquired != tt.wantGot || d.TookOver != tt.wantTaken || d.Owner != tt.wantHolder {
				t.Errorf("decision %+v, want acquired=%v tookOver=%v owner=%q", d, tt.wantGot, tt.wantTaken, tt.wantHolder)
			}
			data, _ := os.ReadFile(filepath.Join(dir, "lock"))
			holder := strings.TrimSpace(string(data))
			if tt.wantGot && holder != "run-A" {
				t.Errorf("lock holds %q after acquiring", holder)
			}
			if !tt.wantGot && holder != tt.existing {
				t.Errorf("lock of %q was overwritten: %q", tt.existing, holder)
			}
			if st, err := os.Stat(filepath.Join(dir, "lock")); err == nil && st.Mode().Perm() != 0o600 && tt.wantGot {
				t.Errorf("lock mode %v", st.Mode().Perm())
			}
			// heartbeat refreshes only our own lock; release removes only ours
			exec.Command("sh", "-c", heartbeatCmd(dir, "run-A")).Run()
			exec.Command("sh", "-c", releaseCmd(dir, "run-A")).Run()
			_, err := os.Stat(filepath.Join(dir, "lock"))
			if tt.wantGot && err == nil {
				t.Errorf("release left our lock behind")
			}
			if tt.wantGot {
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("release left an empty state directory")
				}
			}
			if !tt.wantGot && err != nil {
				t.Errorf("release removed another run's lock")
			}
		})
	}
}

func TestParseLock(t *testing.T) {
	tests := []struct {
		out     string
		want    lockDecision
		wantErr bool
	}{
		{"acquired\n", lockDecision{Acquired: true}, false},
		{"held 12 edgeops/ws/42/ab\n", lockDecision{Owner: "edgeops/ws/42/ab", Age: 12 * time.Second}, false},
		{"stale 300 edgeops/ws/42/ab\nacquired\n", lockDecision{Acquired: true, TookOver: true, Owner: "edgeops/ws/42/ab", Age: 300 * time.Second}, false},
		{"held x y\n", lockDecision{}, true},
		{"garbage\n", lockDecision{}, true},
	}
	for _, tt := range tests {
		got, err := parseLock(tt.out)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseLock(%q) err = %v", tt.out, err)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("parseLock(%q) = %+v, want %+v", tt.out, got, tt.want)
		}
	}
}

func TestDeadLocalRun(t *testing.T) {
	host, _ := os.Hostname()
	alive := NewRunID() // this process
	tests := []struct {
		owner string
		want  bool
	}{
		{alive, false},
		{"edgeops/" + host + "/999999999/00", true},
		{"edgeops/other-machine/999999999/00", false},
		{"something else", false},
	}
	for _, tt := range tests {
		if got := deadLocalRun(tt.owner); got != tt.want {
			t.Errorf("deadLocalRun(%q) = %v, want %v", tt.owner, got, tt.want)
		}
	}
}

func TestParseNodes(t *testing.T) {
	data := []byte(`{"items":[
 {"metadata":{"name":"m1"},"status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],"addresses":[{"type":"InternalIP","address":"172.28.30.11"},{"type":"Hostname","address":"m1"}]}},
 {"metadata":{"name":"e1"},"status":{"conditions":[{"type":"Ready","status":"False","message":"Kubelet stopped posting node status."}],"nodeInfo":{"kubeletVersion":"v1.37.2","containerRuntimeVersion":"containerd://2.1.4"}}},
 {"metadata":{"name":"e2"},"status":{}}]}`)
	nodes, err := parseNodes(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]nodeStatus{"m1": {Name: "m1", Ready: true, IP: "172.28.30.11"},
		"e1": {Name: "e1", ReadyMessage: "Kubelet stopped posting node status.", KubeletVersion: "v1.37.2", RuntimeVersion: "containerd://2.1.4"}, "e2": {Name: "e2"}}
	if len(nodes) != len(want) {
		t.Fatalf("nodes = %v", nodes)
	}
	for k, v := range want {
		if nodes[k] != v {
			t.Errorf("node %s = %+v, want %+v", k, nodes[k], v)
		}
	}
	if _, err := parseNodes([]byte("error: the server doesn't have a resource type")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestEdgeadmArgs(t *testing.T) {
	no := false
	inv := &inventory.Inventory{Cluster: inventory.Cluster{
		KubernetesVersion: "v1.34.4", PodCIDR: "10.244.0.0/16", ServiceCIDR: "10.96.0.0/12",
		ImageRepository: "registry.local", ControlPlaneEndpoint: "vip.example:6443",
		APIServerCertExtraSANs: []string{"a.example", "10.0.0.100"}, EnableEdge: &no,
		ContainerRuntime: inventory.ContainerRuntime{RuntimeBinary: "/usr/local/sbin/runc-lab",
			RegistryCAFile: "/home/u/ca.pem", InsecureRegistries: []string{"10.0.0.5:5000"}},
		Kubeadm: inventory.Kubeadm{InitArgs: []string{"--v=2"}, JoinArgs: []string{"--v=3"}},
	}}
	m := &inventory.Host{Address: "10.0.0.1", Role: inventory.RoleMaster, Hostname: "m1"}
	m2 := &inventory.Host{Address: "10.0.0.2", Role: inventory.RoleMaster, InternalAddress: "192.168.0.2", Hostname: "m2"}
	e := &inventory.Host{Address: "10.0.0.3", Role: inventory.RoleEdge, Hostname: "e1"}
	inv.Hosts = []*inventory.Host{m, m2, e}
	s := NewState(Config{Inventory: inv, Package: "/x/_output/edgeops-bundle-v1.34.4-linux-amd64.tar.gz", PackageSHA256: "ab12"}, inv.Hosts)
	info := joininfo.Info{Token: "abcdef.0123456789abcdef", CertificateKey: "c0ffee" + strings.Repeat("0", 58)}
	tests := []struct {
		name string
		argv []string
		want []string
		not  []string
	}{
		{"init HA", initArgs(s, s.Hosts[0], true), []string{
			"init --skip-token-print --upload-certs --skip-certificate-key-print",
			"--install-pkg-path /var/lib/edgeops/packages/edgeops-bundle-v1.34.4-linux-amd64.tar.gz --install-pkg-sha256 ab12",
			"--enable-edge=false", "--join-info-file /etc/edgeadm/join-info.json", "--node-name m1",
			"--kubernetes-version v1.34.4", "--pod-network-cidr 10.244.0.0/16", "--service-cidr 10.96.0.0/12",
			"--image-repository registry.local", "--control-plane-endpoint vip.example:6443",
			"--apiserver-cert-extra-sans a.example,10.0.0.100", "--apiserver-advertise-address 10.0.0.1",
			"--runtime-binary /usr/local/sbin/runc-lab", "--registry-ca-file /var/lib/edgeops/registry-ca.pem",
			"--insecure-registry 10.0.0.5:5000", "--v=2"}, []string{"--v=3", "/home/u/ca.pem"}},
		{"init single", initArgs(s, s.Hosts[0], false), []string{"init --skip-token-print --install-pkg-path"}, []string{"--upload-certs"}},
		{"join master", joinArgs(s, s.Hosts[1], false), []string{"join --join-info-file /etc/edgeadm/join-info.json --control-plane --apiserver-advertise-address 192.168.0.2", "--node-name m2", "--v=3"}, []string{"--node-role", "--v=2", "--skip-phases"}},
		{"join edge", joinArgs(s, s.Hosts[2], true), []string{"--node-role edge", "--node-name e1", "--runtime-binary /usr/local/sbin/runc-lab",
			"--registry-ca-file /var/lib/edgeops/registry-ca.pem", "--insecure-registry 10.0.0.5:5000",
			"--skip-phases prepare-node,install-package --v=3"}, []string{"--control-plane"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := command(tt.argv...)
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("%q missing in\n%s", w, line)
				}
			}
			for _, n := range append(tt.not, info.Secrets()...) {
				if strings.Contains(line, n) {
					t.Errorf("%q must not be in\n%s", n, line)
				}
			}
		})
	}
}

func TestCheckHost(t *testing.T) {
	tests := []struct {
		name     string
		master   bool
		a        action
		facts    Facts
		arch     string
		wantErr  []string
		wantWarn []string
	}{
		{"clean edge", false, actJoin, Facts{Arch: "amd64"}, "amd64", nil, nil},
		{"wrong arch", false, actJoin, Facts{Arch: "arm64"}, "amd64", []string{"architecture arm64"}, nil},
		{"kubelet port busy on fresh join", false, actJoin, Facts{ListeningPorts: map[int]bool{10250: true}}, "", []string{"port 10250"}, nil},
		{"apiserver port busy on fresh init", true, actInit, Facts{ListeningPorts: map[int]bool{6443: true, 2379: true}}, "", []string{"port 6443", "port 2379"}, nil},
		{"ports of a rejoin are its own", false, actRejoin, Facts{ListeningPorts: map[int]bool{10250: true}}, "", nil, nil},
		{"small skew warns", false, actJoin, Facts{ClockSkew: -10 * time.Second}, "", nil, []string{"clock is -10s off"}},
		{"big skew fails", false, actJoin, Facts{ClockSkew: 5 * time.Minute}, "", []string{"clock is 5m0s off"}, nil},
		{"swap warns", false, actJoin, Facts{SwapOn: true}, "", nil, []string{"swap is on"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := inventory.RoleEdge
			if tt.master {
				role = inventory.RoleMaster
			}
			h := &Host{Host: &inventory.Host{Address: "h", Role: role}, Facts: tt.facts}
			warns, err := checkHost(h, tt.a, tt.arch)
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not mention %q", err, w)
				}
			}
			if tt.wantErr == nil && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if got := strings.Join(warns, "|"); len(tt.wantWarn) != len(warns) || (len(warns) > 0 && !strings.Contains(got, tt.wantWarn[0])) {
				t.Errorf("warnings %q, want %q", warns, tt.wantWarn)
			}
		})
	}
}

func TestUniqueNodeNames(t *testing.T) {
	mk := func(addr, override, hostname string) *Host {
		return &Host{Host: &inventory.Host{Address: addr, Hostname: override}, Facts: Facts{Hostname: hostname}}
	}
	tests := []struct {
		name  string
		hosts []*Host
		want  string
	}{
		{"distinct", []*Host{mk("a", "", "n1"), mk("b", "", "n2")}, ""},
		{"same hostname", []*Host{mk("a", "", "debian"), mk("b", "", "debian")}, `hosts a and b have the same node name "debian"`},
		{"override fixes it", []*Host{mk("a", "", "debian"), mk("b", "n2", "debian")}, ""},
		{"override collides", []*Host{mk("a", "", "n2"), mk("b", "n2", "debian")}, `same node name "n2"`},
	}
	for _, tt := range tests {
		err := uniqueNodeNames(tt.hosts)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestPackageNames(t *testing.T) {
	tests := []struct{ pkg, remote, arch string }{
		{"/a/b/edgeops-bundle-v1.34.4-linux-amd64.tar.gz", "/var/lib/edgeops/packages/edgeops-bundle-v1.34.4-linux-amd64.tar.gz", "amd64"},
		{"https://example.com/p/edgeops-bundle-v1.34.4-linux-arm64.tar.gz", "https://example.com/p/edgeops-bundle-v1.34.4-linux-arm64.tar.gz", "arm64"},
		{"/tmp/custom.tar.gz", "/var/lib/edgeops/packages/custom.tar.gz", ""},
		{"/a/edgeops-bundle-v1.37.2-linux-amd64-noimages.tar.gz", "/var/lib/edgeops/packages/edgeops-bundle-v1.37.2-linux-amd64-noimages.tar.gz", "amd64"},
	}
	for _, tt := range tests {
		if got := remotePackage(tt.pkg); got != tt.remote {
			t.Errorf("remotePackage(%q) = %q, want %q", tt.pkg, got, tt.remote)
		}
		if got := packageArch(tt.pkg); got != tt.arch {
			t.Errorf("packageArch(%q) = %q, want %q", tt.pkg, got, tt.arch)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain-word_1.2/x:y=z", "plain-word_1.2/x:y=z"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
		out, err := exec.Command("sh", "-c", "printf %s "+quote(tt.in)).Output()
		if err != nil || string(out) != tt.in {
			t.Errorf("sh saw %q for %q (%v)", out, tt.in, err)
		}
	}
}

func TestNodeLabels(t *testing.T) {
	tests := []struct {
		role   inventory.Role
		labels map[string]string
		want   map[string]string
		site   string
	}{
		{inventory.RoleMaster, nil, map[string]string{}, ""},
		{inventory.RoleMaster, map[string]string{"zone": "a"}, map[string]string{"zone": "a"}, ""},
		{inventory.RoleEdge, nil, map[string]string{"node-role.kubernetes.io/edge": ""}, ""},
		{inventory.RoleWorker, map[string]string{"zone": "b"}, map[string]string{"node-role.kubernetes.io/worker": "", "zone": "b"}, ""},
		// The inventory's own value wins over the default role label.
		{inventory.RoleEdge, map[string]string{"node-role.kubernetes.io/edge": "gpu"}, map[string]string{"node-role.kubernetes.io/edge": "gpu"}, ""},
		// The site is the zone.
		{inventory.RoleEdge, nil, map[string]string{"node-role.kubernetes.io/edge": "", inventory.ZoneLabel: "branch-12"}, "branch-12"},
		{inventory.RoleMaster, map[string]string{"rack": "r1"}, map[string]string{"rack": "r1", inventory.ZoneLabel: "dc-1"}, "dc-1"},
	}
	for _, tt := range tests {
		h := &Host{Host: &inventory.Host{Address: "h", Role: tt.role, Labels: tt.labels, Site: tt.site}}
		if got := nodeLabels(h); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("role %s labels %v: got %v, want %v", tt.role, tt.labels, got, tt.want)
		}
	}
}

// A dead first master does not stop a run on an existing cluster: another
// master with the control plane leads; a new cluster is never led by one
// without it.
func TestChooseLeader(t *testing.T) {
	dead := errors.New("dial tcp: connection refused")
	for _, tc := range []struct {
		name         string
		firstDown    bool
		secondAdmin  bool
		thirdAdmin   bool
		want         string
		wantReplaced bool
	}{
		{name: "first master up", secondAdmin: true, want: "10.0.0.1"},
		{name: "first master down, second has the control plane", firstDown: true, secondAdmin: true, thirdAdmin: true, want: "10.0.0.2", wantReplaced: true},
		{name: "first master down, only the third has it", firstDown: true, thirdAdmin: true, want: "10.0.0.3", wantReplaced: true},
		{name: "first master down, no other control plane (a new cluster)", firstDown: true, want: "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewState(Config{Inventory: &inventory.Inventory{}}, []*inventory.Host{
				{Address: "10.0.0.9", Role: inventory.RoleEdge},
				{Address: "10.0.0.1", Role: inventory.RoleMaster},
				{Address: "10.0.0.2", Role: inventory.RoleMaster},
				{Address: "10.0.0.3", Role: inventory.RoleMaster},
			})
			if tc.firstDown {
				s.Hosts[1].fail(dead)
			}
			s.Hosts[2].Facts.AdminConf = tc.secondAdmin
			s.Hosts[3].Facts.AdminConf = tc.thirdAdmin
			l, replaced := s.chooseLeader()
			if l.Addr() != tc.want || (replaced != nil) != tc.wantReplaced {
				t.Fatalf("leader %s (replaced %v), want %s (replaced %v)", l.Addr(), replaced, tc.want, tc.wantReplaced)
			}
			if s.Leader() != l {
				t.Fatalf("Leader() %s after the choice, want %s", s.Leader().Addr(), l.Addr())
			}
		})
	}
}

func TestVIPFits(t *testing.T) {
	const out = `1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
2: eth0    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0\       valid_lft forever preferred_lft forever
2: eth0    inet 10.0.0.100/32 scope global eth0\       valid_lft forever preferred_lft forever
3: eth1    inet 192.168.5.11/24 brd 192.168.5.255 scope global eth1
`
	for _, tc := range []struct {
		name, vip, iface, wantErr string
	}{
		{name: "in eth0's subnet", vip: "10.0.0.100"},
		{name: "in the named interface's subnet", vip: "192.168.5.100", iface: "eth1"},
		{name: "in another interface's subnet than the named one", vip: "192.168.5.100", iface: "eth0", wantErr: "no subnet of interface eth0"},
		{name: "in no subnet", vip: "172.16.0.100", wantErr: "it has eth0 10.0.0.11/24"},
		{name: "the host's own address", vip: "10.0.0.11", wantErr: "this host's own address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := vipFits(out, &inventory.VIP{Address: tc.vip, Interface: tc.iface})
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// add-node with the first master down: that master only helps, another
// leads, and the run's result is about the added host.
func TestResultIgnoresIdleHelpers(t *testing.T) {
	s := NewState(Config{Inventory: &inventory.Inventory{}, Targets: map[string]bool{"10.0.0.9": true}}, []*inventory.Host{
		{Address: "10.0.0.1", Role: inventory.RoleMaster},
		{Address: "10.0.0.2", Role: inventory.RoleMaster},
		{Address: "10.0.0.9", Role: inventory.RoleWorker},
	})
	s.Hosts[0].fail(errors.New("connect: no route to host"))
	s.Hosts[1].Facts.AdminConf = true
	if l, _ := s.chooseLeader(); l != s.Hosts[1] {
		t.Fatalf("leader %s, want 10.0.0.2", l.Addr())
	}
	if err := result(t.Context(), s, false); err != nil {
		t.Fatalf("result: %v, want success (the dead master was not needed)", err)
	}
	s.Hosts[1].fail(errors.New("mint token: boom"))
	if err := result(t.Context(), s, false); err == nil {
		t.Fatal("a failed leader must fail the run")
	}
}

// reset with the first master down: another master of the cluster leads
// and is reset last, after the other masters.
func TestResetOrderWithFirstMasterDown(t *testing.T) {
	s := NewState(Config{Inventory: &inventory.Inventory{}}, []*inventory.Host{
		{Address: "10.0.0.1", Role: inventory.RoleMaster},
		{Address: "10.0.0.2", Role: inventory.RoleMaster},
		{Address: "10.0.0.3", Role: inventory.RoleMaster},
		{Address: "10.0.0.9", Role: inventory.RoleEdge},
	})
	s.Hosts[0].fail(errors.New("connect: no route to host"))
	s.Hosts[1].Facts.AdminConf, s.Hosts[2].Facts.AdminConf = true, true
	phases := ResetPhases()
	var order []string
	for _, p := range phases {
		if pr, ok := p.(interface {
			Prepare(context.Context, *State) error
		}); ok {
			if err := pr.Prepare(t.Context(), s); err != nil {
				t.Fatal(err)
			}
		}
		if rp, ok := p.(resetPhase); ok {
			for _, h := range rp.Hosts(s) {
				order = append(order, rp.which+":"+h.Addr())
			}
		}
	}
	if got, want := strings.Join(order, " "), "nodes:10.0.0.9 masters:10.0.0.3 leader:10.0.0.2"; got != want {
		t.Fatalf("reset order %q, want %q", got, want)
	}
}
