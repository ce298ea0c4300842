package inventory

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/edgeops/edgeops/bundles"
)

func TestLoadAppliesDefaultsAndResolvesPaths(t *testing.T) {
	f := newFixture(t)
	inv, err := f.load(t, edit(t, "name: demo", "name: demo\n  cniManifest: cni.yaml\n  edgeManifestsDir: ./edge"))
	if err != nil {
		t.Fatal(err)
	}
	c := inv.Cluster
	checks := []struct{ name, got, want string }{
		{"kubernetesVersion", c.KubernetesVersion, bundles.KubernetesVersion()},
		{"imageRepository", c.ImageRepository, DefaultImageRepository},
		{"podCIDR", c.PodCIDR, DefaultPodCIDR},
		{"serviceCIDR", c.ServiceCIDR, DefaultServiceCIDR},
		{"installPackage.path", c.InstallPackage.Path, filepath.Join(f.dir, "pkg.tar.gz")},
		{"cniManifest", c.CNIManifest, filepath.Join(f.dir, "cni.yaml")},
		{"edgeManifestsDir", c.EdgeManifestsDir, filepath.Join(f.dir, "edge")},
		{"ssh.identityFiles[0]", inv.SSH.IdentityFiles[0], filepath.Join(f.dir, "id_ed25519")},
		{"ssh.knownHosts", inv.SSH.KnownHosts, filepath.Join(f.dir, "known_hosts")},
		{"ssh.hostKeyPolicy", string(inv.SSH.HostKeyPolicy), string(HostKeyStrict)},
		{"file", inv.File, filepath.Join(f.dir, "hosts.yaml")},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if !c.EdgeEnabled() {
		t.Error("enableEdge should default to true")
	}
	if inv.SSH.Port != 22 || inv.Concurrency.Limit != DefaultConcurrency || inv.Concurrency.Uploads != DefaultUploads {
		t.Errorf("port/concurrency defaults: %d %+v", inv.SSH.Port, inv.Concurrency)
	}
}

func TestTildeExpandsToHome(t *testing.T) {
	f := newFixture(t)
	inv, err := f.load(t, edit(t, "[id_ed25519]", "[~/.ssh/id_ed25519]", "knownHosts: known_hosts", "knownHosts: ~/.ssh/known_hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(f.dir, ".ssh/id_ed25519"); inv.SSH.IdentityFiles[0] != want {
		t.Errorf("identity file = %q, want %q", inv.SSH.IdentityFiles[0], want)
	}
}

func TestHostSelection(t *testing.T) {
	f := newFixture(t)
	text := edit(t,
		"name: demo", "name: demo\n  controlPlaneEndpoint: vip.lan",
		"role: edge", "role: master\n    internalAddress: 10.1.0.12\n    hostname: m2",
		"role: worker", "role: worker\n  - address: edge1.lan\n    role: edge\n  - address: 192.168.10.15\n    role: master",
	)
	inv, err := f.load(t, text)
	if err != nil {
		t.Fatal(err)
	}
	addrs := func(hs []*Host) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Address)
		}
		return out
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"Masters", addrs(inv.Masters()), []string{"192.168.10.11", "192.168.10.12", "192.168.10.15"}},
		{"Followers", addrs(inv.Followers()), []string{"192.168.10.12", "192.168.10.15"}},
		{"Edges", addrs(inv.Edges()), []string{"edge1.lan"}},
		{"Workers", addrs(inv.Workers()), []string{"192.168.10.13"}},
		{"Nodes", addrs(inv.Nodes()), []string{"192.168.10.13", "edge1.lan"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if l := inv.Leader(); l == nil || l.Address != "192.168.10.11" {
		t.Errorf("Leader = %v", l)
	}
	for _, q := range []string{"192.168.10.12", "10.1.0.12", "M2", "EDGE1.lan"} {
		if _, ok := inv.Host(q); !ok {
			t.Errorf("Host(%q) not found", q)
		}
	}
	if _, err := inv.HostsByAddress("192.168.10.13", "10.9.9.9"); err == nil {
		t.Error("HostsByAddress with an unknown address: want an error")
	}
	if got := inv.ControlPlaneEndpoint(); got != "vip.lan:6443" {
		t.Errorf("ControlPlaneEndpoint = %q", got)
	}
	if got := inv.Hosts[1].AdvertiseAddress(); got != "10.1.0.12" {
		t.Errorf("AdvertiseAddress = %q", got)
	}
}

func TestSSHConfigMerge(t *testing.T) {
	f := newFixture(t)
	t.Setenv("BASTION_PW", "x")
	text := edit(t,
		"user: root", "user: ops\n  useAgent: true\n  sudo: {passwordFile: secret.txt}\n  bastion:\n    address: jump2.lan\n    user: jumper\n    bastion: {address: 203.0.113.5, port: 2200, passwordEnv: BASTION_PW}",
		"role: edge", "role: edge\n    port: 2222\n    ssh:\n      user: root\n      identityFiles: [~/.ssh/id_ed25519]\n      useAgent: false",
	)
	inv, err := f.load(t, text)
	if err != nil {
		t.Fatal(err)
	}
	def := inv.SSHConfig(inv.Hosts[0])
	if def.User != "ops" || def.Port != 22 || !def.UseAgent || !def.Sudo || def.SudoPassword.File != filepath.Join(f.dir, "secret.txt") {
		t.Errorf("default host config: %+v", def)
	}
	if len(def.Jumps) != 2 || def.Jumps[0].Address != "203.0.113.5" || def.Jumps[0].Port != 2200 ||
		def.Jumps[0].Password.Env != "BASTION_PW" || def.Jumps[1].Address != "jump2.lan" || def.Jumps[1].User != "jumper" {
		t.Errorf("jumps (outermost first): %+v", def.Jumps)
	}
	if def.Jumps[0].User != "ops" || def.Addr() != "192.168.10.11:22" {
		t.Errorf("bastion inherits the default user: %+v, addr %s", def.Jumps[0], def.Addr())
	}
	o := inv.SSHConfig(inv.Hosts[1])
	if o.User != "root" || o.Port != 2222 || o.UseAgent || o.Sudo || o.IdentityFiles[0] != filepath.Join(f.dir, ".ssh/id_ed25519") {
		t.Errorf("override host config: %+v", o)
	}
	if o.KnownHosts != filepath.Join(f.dir, "known_hosts") || o.HostKeyPolicy != HostKeyStrict {
		t.Errorf("override host keeps known_hosts and policy: %+v", o)
	}
}

func TestValidateInCode(t *testing.T) {
	f := newFixture(t)
	inv, err := f.load(t, validInventory)
	if err != nil {
		t.Fatal(err)
	}
	inv.Hosts[1].Role = "boss"
	err = inv.Validate()
	errs := fieldErrors(t, err)
	if len(errs) != 1 || errs[0].Field != "hosts[1].role" {
		t.Fatalf("Validate after a change in code: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	errs := fieldErrors(t, err)
	if len(errs) != 1 || errs[0].Expected == "" {
		t.Fatalf("missing file: %v", err)
	}
}

func TestMergeKeysAndAnchors(t *testing.T) {
	f := newFixture(t)
	text := validInventory + "  - &edge {address: 192.168.10.20, role: edge, labels: {zone: a}}\n  - {<<: *edge, address: 192.168.10.21}\n"
	inv, err := f.load(t, text)
	if err != nil {
		t.Fatal(err)
	}
	if h := inv.Hosts[4]; h.Role != RoleEdge || h.Labels["zone"] != "a" || h.Address != "192.168.10.21" {
		t.Errorf("merged host: %+v", h)
	}
}
