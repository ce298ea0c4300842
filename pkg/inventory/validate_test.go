package inventory

import (
	"strings"
	"testing"
)

// TestValidationRules covers each rule: the error names the field path, the
// problem, and (where the field is in the file) its line.
func TestValidationRules(t *testing.T) {
	tests := []struct {
		name    string
		text    func(t testing.TB) string
		field   string
		problem string
		line    int // 0: do not check
	}{
		{"yaml syntax", raw("cluster:\n  name: demo\n  foo: bar: baz\nhosts: []\n"), "", "YAML syntax error", 3},
		{"yaml unclosed list", raw("cluster:\n  name: [demo\nhosts: []\n"), "", "did not find expected", 0},
		{"yaml tab indent", raw("cluster:\n\tname: x\n"), "", "YAML syntax error", 2},
		{"empty file", raw(""), "", "the file is empty", 0},
		{"second document", raw(validInventory + "---\nhosts: []\n"), "", "a second YAML document", 0},
		{"top-level not a mapping", raw("- a\n- b\n"), "", "wrong type list", 1},
		{"unknown top-level field", edits("cluster:\n", "clusters: {}\ncluster:\n"), "clusters", "unknown field", 1},
		{"unknown host field (typo)", edits("role: edge", "role: edge\n    adress: 1.2.3.4"), "hosts[1].adress", "unknown field", 14},
		{"unknown nested field", edits("path: pkg.tar.gz", "path: pkg.tar.gz\n    sha: abc"), "cluster.installPackage.sha", "unknown field", 5},
		{"duplicate key", edits("  name: demo\n", "  name: demo\n  name: other\n"), "cluster.name", "duplicate key", 3},
		{"port not a number", edits("role: edge", "role: edge\n    port: abc"), "hosts[1].port", "invalid", 14},
		{"hosts not a list", edits("hosts:\n  - address: 192.168.10.11\n    role: master\n  - address: 192.168.10.12\n    role: edge\n  - address: 192.168.10.13\n    role: worker\n", "hosts: one\n"), "hosts", "wrong type scalar", 9},
		{"enableEdge not a bool", edits("name: demo", "name: demo\n  enableEdge: maybe"), "cluster.enableEdge", "invalid", 3},
		{"hosts missing", edits("hosts:\n  - address: 192.168.10.11\n    role: master\n  - address: 192.168.10.12\n    role: edge\n  - address: 192.168.10.13\n    role: worker\n", ""), "hosts", "missing", 0},
		{"address missing", edits("- address: 192.168.10.12\n    role: edge", "- role: edge"), "hosts[1].address", "missing", 12},
		{"role missing", edits("    role: edge\n", ""), "hosts[1].role", "missing", 12},
		{"unknown role", edits("role: edge", "role: boss"), "hosts[1].role", "unknown role", 13},
		{"no master", edits("role: master", "role: worker"), "hosts", "no host with role master", 9},
		{"duplicate address", edits("192.168.10.12", "192.168.10.11"), "hosts[1].address", "duplicate address", 12},
		{"duplicate internalAddress", edits("role: edge", "role: edge\n    internalAddress: 192.168.10.13"), "hosts[2].address", "duplicate address", 0},
		{"duplicate hostname", edits("role: edge", "role: edge\n    hostname: n1", "role: worker", "role: worker\n    hostname: n1"), "hosts[2].hostname", "duplicate hostname", 17},
		{"bad IPv4", edits("192.168.10.12", "10.0.0.300"), "hosts[1].address", "invalid", 12},
		{"bad address chars", edits("192.168.10.12", "host_1!"), "hosts[1].address", "invalid", 12},
		{"internalAddress not an IP", edits("role: edge", "role: edge\n    internalAddress: node2.lan"), "hosts[1].internalAddress", "invalid", 14},
		{"bad hostname", edits("role: edge", "role: edge\n    hostname: Node_2"), "hosts[1].hostname", "invalid", 14},
		{"advertise address not an IP", edits("role: master", "role: master\n    apiserverAdvertiseAddress: x.y"), "hosts[0].apiserverAdvertiseAddress", "invalid", 12},
		{"advertise address on edge", edits("role: edge", "role: edge\n    apiserverAdvertiseAddress: 192.168.10.50"), "hosts[1].apiserverAdvertiseAddress", "set on a edge host", 14},
		{"ssh port too high", edits("user: root", "user: root\n  port: 70000"), "ssh.port", "out of range", 7},
		{"ssh port zero", edits("user: root", "user: root\n  port: 0"), "ssh.port", "out of range", 7},
		{"eviction toleration zero", edits("name: demo", "name: demo\n  edgeEvictionTolerationSeconds: 0"), "cluster.edgeEvictionTolerationSeconds", "out of range", 3},
		{"host port negative", edits("role: edge", "role: edge\n    port: -1"), "hosts[1].port", "out of range", 14},
		{"host port zero", edits("role: edge", "role: edge\n    port: 0"), "hosts[1].port", "out of range", 14},
		{"port set twice", edits("role: edge", "role: edge\n    port: 2222\n    ssh: {port: 2223}"), "hosts[1].ssh.port", "set twice", 15},
		{"malformed podCIDR", edits("name: demo", "name: demo\n  podCIDR: 10.244.0.0/33"), "cluster.podCIDR", "invalid CIDR", 3},
		{"podCIDR host bits", edits("name: demo", "name: demo\n  podCIDR: 10.244.1.0/16"), "cluster.podCIDR", "has host bits set", 3},
		{"malformed serviceCIDR", edits("name: demo", "name: demo\n  serviceCIDR: banana"), "cluster.serviceCIDR", "invalid CIDR", 3},
		{"serviceCIDR too large", edits("name: demo", "name: demo\n  serviceCIDR: 10.0.0.0/8\n  podCIDR: 172.16.0.0/16"), "cluster.serviceCIDR", "too large", 3},
		{"podCIDR too small", edits("name: demo", "name: demo\n  podCIDR: 10.244.0.0/25"), "cluster.podCIDR", "too small", 3},
		{"pod/service overlap", edits("name: demo", "name: demo\n  podCIDR: 10.96.0.0/16"), "cluster.serviceCIDR", "overlaps cluster.podCIDR", 0},
		{"pod/service family mismatch", edits("name: demo", "name: demo\n  podCIDR: fd00:10::/56"), "cluster.serviceCIDR", "different IP family", 0},
		{"host in pod network", edits("192.168.10.12", "10.244.3.4"), "hosts[1].address", "overlaps cluster.podCIDR", 12},
		{"internalAddress in service network", edits("role: edge", "role: edge\n    internalAddress: 10.96.0.10"), "hosts[1].internalAddress", "overlaps cluster.serviceCIDR", 14},
		{"endpoint in service network", edits("name: demo", "name: demo\n  controlPlaneEndpoint: 10.96.0.1:6443"), "cluster.controlPlaneEndpoint", "overlaps cluster.serviceCIDR", 3},
		{"endpoint missing with several masters", edits("role: edge", "role: master"), "cluster.controlPlaneEndpoint", "missing with 2 masters", 1},
		{"vip not IPv4", edits("name: demo", "name: demo\n  vip: {address: 'fd00::10'}"), "cluster.vip.address", "invalid", 3},
		{"vip is a host's address", edits("name: demo", "name: demo\n  vip: {address: 192.168.10.12}"), "cluster.vip.address", "is the address of hosts[1]", 3},
		{"vip is not the endpoint", edits("name: demo", "name: demo\n  controlPlaneEndpoint: 192.168.10.50\n  vip: {address: 192.168.10.100}"), "cluster.controlPlaneEndpoint", "is not cluster.vip.address 192.168.10.100", 3},
		{"vip interface invalid", edits("name: demo", "name: demo\n  vip: {address: 192.168.10.100, interface: 'eth 0'}"), "cluster.vip.interface", "invalid", 3},
		{"vip in the service network", edits("name: demo", "name: demo\n  vip: {address: 10.96.0.10}"), "cluster.vip.address", "overlaps cluster.serviceCIDR", 3},
		{"endpoint invalid", edits("name: demo", "name: demo\n  controlPlaneEndpoint: 'http://vip'"), "cluster.controlPlaneEndpoint", "invalid", 3},
		{"endpoint port out of range", edits("name: demo", "name: demo\n  controlPlaneEndpoint: vip.lan:99999"), "cluster.controlPlaneEndpoint", "port out of range", 3},
		{"bad SAN", edits("name: demo", "name: demo\n  apiserverCertExtraSANs: [ok.lan, 'bad san']"), "cluster.apiserverCertExtraSANs[1]", "invalid", 3},
		{"bad kubernetesVersion", edits("name: demo", "name: demo\n  kubernetesVersion: 1.34"), "cluster.kubernetesVersion", "invalid", 3},
		{"imageRepository with scheme", edits("name: demo", "name: demo\n  imageRepository: https://registry.lan"), "cluster.imageRepository", "invalid", 3},
		{"bad cluster name", edits("name: demo", "name: Demo_1"), "cluster.name", "invalid", 2},
		{"wrong apiVersion", edits("cluster:\n", "apiVersion: v9\ncluster:\n"), "apiVersion", "unsupported", 1},
		{"installPackage missing", edits("  installPackage:\n    path: pkg.tar.gz\n", ""), "cluster.installPackage", "missing", 0},
		{"installPackage file not found", edits("path: pkg.tar.gz", "path: nope.tar.gz"), "cluster.installPackage.path", "file not found", 4},
		{"installPackage is a folder", edits("path: pkg.tar.gz", "path: edge"), "cluster.installPackage.path", "not a regular file", 4},
		{"installPackage ftp url without sha256", edits("path: pkg.tar.gz", "url: ftp://mirror/pkg.tar.gz"), "cluster.installPackage.sha256", "missing", 0},
		{"installPackage http url without sha256", edits("path: pkg.tar.gz", "url: http://mirror:8080/pkg.tar.gz"), "cluster.installPackage.sha256", "missing", 0},
		{"installPackage sftp url", edits("path: pkg.tar.gz", "url: sftp://mirror/pkg.tar.gz"), "cluster.installPackage.url", "invalid", 4},
		{"installPackage ftp url naming no file", edits("path: pkg.tar.gz", "url: ftp://mirror/pub/\n    sha256: "+strings.Repeat("a", 64)), "cluster.installPackage.url", "invalid", 4},
		{"installPackage signed url with credentials", edits("path: pkg.tar.gz", "url: 'https://u:hunter2@m/p.tgz?sig=1'\n    sha256: "+strings.Repeat("a", 64)), "cluster.installPackage.url", "credentials in the URL", 4},
		{"installPackage ftp url with credentials", edits("path: pkg.tar.gz", "url: ftp://u:hunter2@m/p.tgz\n    sha256: "+strings.Repeat("a", 64)), "cluster.installPackage.url", "credentials in the URL", 4},
		{"installPackage url with credentials", edits("path: pkg.tar.gz", "url: https://u:hunter2@m/p.tgz\n    sha256: "+strings.Repeat("a", 64)), "cluster.installPackage.url", "credentials in the URL", 4},
		{"installPackage url without sha256", edits("path: pkg.tar.gz", "url: https://m/p.tgz"), "cluster.installPackage.sha256", "missing", 0},
		{"installPackage path and url", edits("path: pkg.tar.gz", "path: pkg.tar.gz\n    url: https://m/p.tgz"), "cluster.installPackage", "both path and url", 3},
		{"installPackage bad sha256", edits("path: pkg.tar.gz", "path: pkg.tar.gz\n    sha256: abc"), "cluster.installPackage.sha256", "invalid", 5},
		{"edge manifests dir missing", edits("name: demo", "name: demo\n  edgeManifestsDir: nodir"), "cluster.edgeManifestsDir", "folder not found", 3},
		{"cni manifest missing", edits("name: demo", "name: demo\n  cniManifest: calico.yaml"), "cluster.cniManifest", "file not found", 3},
		{"patches dir is a file", edits("name: demo", "name: demo\n  kubeadm: {patchesDir: cni.yaml}"), "cluster.kubeadm.patchesDir", "not a folder", 3},
		{"registry CA file missing", edits("name: demo", "name: demo\n  containerRuntime: {registryCAFile: ca.pem}"), "cluster.containerRuntime.registryCAFile", "file not found", 3},
		{"insecure registry with scheme", edits("name: demo", "name: demo\n  containerRuntime: {insecureRegistries: ['http://10.0.0.5:5000']}"), "cluster.containerRuntime.insecureRegistries[0]", "invalid", 3},
		{"runtime binary relative", edits("name: demo", "name: demo\n  containerRuntime: {runtimeBinary: runc}"), "cluster.containerRuntime.runtimeBinary", "invalid", 3},
		{"tagged scalar that does not decode", edits("name: demo", "name: !!int demo"), "cluster.name", "invalid", 2},
		{"kubeadm arg malformed", edits("name: demo", "name: demo\n  kubeadm: {initArgs: [v=5]}"), "cluster.kubeadm.initArgs[0]", "invalid", 3},
		{"kubeadm arg owned by edgeops", edits("name: demo", "name: demo\n  kubeadm: {joinArgs: ['--node-name=x']}"), "cluster.kubeadm.joinArgs[0]", "set by edgeops", 3},
		{"edge role without edge", edits("name: demo", "name: demo\n  enableEdge: false"), "hosts[1].role", "enableEdge: false", 14},
		{"identity file missing", edits("[id_ed25519]", "[nokey]"), "ssh.identityFiles[0]", "file not found", 7},
		{"identity file world readable", edits("[id_ed25519]", "[open_key]"), "ssh.identityFiles[0]", "group/world accessible", 7},
		{"host identity file readable", edits("role: edge", "role: edge\n    ssh: {identityFiles: [open_key]}"), "hosts[1].ssh.identityFiles[0]", "group/world accessible", 14},
		{"plain-text password", edits("user: root", "user: root\n  password: hunter2"), "ssh.password", "plain text", 7},
		{"plain-text sudo password", edits("user: root", "user: root\n  sudo: {password: hunter2}"), "ssh.sudo.password", "plain text", 7},
		{"plain-text host password", edits("role: edge", "role: edge\n    ssh: {password: hunter2}"), "hosts[1].ssh.password", "plain text", 14},
		{"plain-text bastion password", edits("user: root", "user: root\n  bastion: {address: jump.lan, password: hunter2}"), "ssh.bastion.password", "plain text", 7},
		{"inline private key", edits("[id_ed25519]", "['-----BEGIN OPENSSH PRIVATE KEY-----abc']"), "ssh.identityFiles[0]", "private key written in plain text", 7},
		{"token in kubeadm args", edits("name: demo", "name: demo\n  kubeadm: {joinArgs: ['--token=abcdef.0123456789abcdef']}"), "cluster.kubeadm.joinArgs[0]", "secret on the command line", 3},
		{"passwordEnv not set", edits("user: root", "user: root\n  passwordEnv: EDGEOPS_TEST_UNSET_VAR"), "ssh.passwordEnv", "not set", 7},
		{"passwordEnv bad name", edits("user: root", "user: root\n  passwordEnv: 'my var'"), "ssh.passwordEnv", "invalid", 7},
		{"passwordFile readable", edits("user: root", "user: root\n  passwordFile: open_key"), "ssh.passwordFile", "group/world accessible", 7},
		{"password env and file", edits("user: root", "user: root\n  passwordEnv: HOME\n  passwordFile: secret.txt"), "ssh.passwordEnv", "both", 7},
		{"sudo passwordFile missing", edits("user: root", "user: root\n  sudo: {passwordFile: nofile}"), "ssh.sudo.passwordFile", "file not found", 7},
		{"known_hosts missing (strict)", edits("knownHosts: known_hosts", "knownHosts: nothere"), "ssh.knownHosts", "file not found", 8},
		{"unknown host key policy", edits("user: root", "user: root\n  hostKeyPolicy: yolo"), "ssh.hostKeyPolicy", "unknown policy", 7},
		{"bastion without address", edits("user: root", "user: root\n  bastion: {user: jump}"), "ssh.bastion.address", "missing", 7},
		{"bastion bad port", edits("user: root", "user: root\n  bastion: {address: jump.lan, port: 65536}"), "ssh.bastion.port", "out of range", 7},
		{"chained bastion port zero", edits("user: root", "user: root\n  bastion: {address: a.lan, bastion: {address: b.lan, port: 0}}"), "ssh.bastion.bastion.port", "out of range", 7},
		{"chained bastion bad address", edits("user: root", "user: root\n  bastion:\n    address: jump2.lan\n    bastion:\n      address: 300.1.1.1"), "ssh.bastion.bastion.address", "invalid", 10},
		{"bastion chain too long", edits("user: root", "user: root\n  bastion: {address: a.lan, bastion: {address: b.lan, bastion: {address: c.lan, bastion: {address: d.lan, bastion: {address: e.lan, bastion: {address: f.lan}}}}}}"), "ssh.bastion.bastion.bastion.bastion.bastion.bastion", "too long", 7},
		{"bad ssh user", edits("user: root", "user: 'ro ot'"), "ssh.user", "invalid", 6},
		{"no auth for any host", edits("  identityFiles: [id_ed25519]\n", ""), "ssh", "no SSH authentication method for any host", 5},
		{"no auth for one host", edits("  identityFiles: [id_ed25519]\n", "", "role: master", "role: master\n    ssh: {useAgent: true}", "role: edge", "role: edge\n    ssh: {useAgent: true}"), "hosts[2].ssh", "no SSH authentication method", 15},
		{"bad label key", edits("role: edge", "role: edge\n    labels: {'bad key': x}"), "hosts[1].labels.bad key", "invalid label key", 14},
		{"bad label value", edits("role: edge", "role: edge\n    labels: {zone: 'a b'}"), "hosts[1].labels.zone", "invalid label value", 14},
		{"bad site", edits("role: edge", "role: edge\n    site: 'branch 12'"), "hosts[1].site", "invalid site name", 14},
		{"site contradicts zone label", edits("role: edge", "role: edge\n    site: b12\n    labels: {topology.kubernetes.io/zone: b13}"), "hosts[1].labels.topology.kubernetes.io/zone", "contradicts hosts[1].site b12", 15},
		{"bad taint effect", edits("role: edge", "role: edge\n    taints: [{key: edge, effect: Never}]"), "hosts[1].taints[0].effect", "invalid taint effect", 14},
		{"bad taint key", edits("role: edge", "role: edge\n    taints: [{key: '', effect: NoSchedule}]"), "hosts[1].taints[0].key", "invalid taint key", 14},
		{"concurrency zero", edits("hosts:", "concurrency: {limit: 0}\nhosts:"), "concurrency.limit", "out of range", 9},
		{"concurrency too high", edits("hosts:", "concurrency: {limit: 5000, uploads: 0}\nhosts:"), "concurrency.limit", "out of range", 9},
		{"uploads zero", edits("hosts:", "concurrency: {uploads: 0}\nhosts:"), "concurrency.uploads", "out of range", 9},
		{"sudo disabled for a non-root user", edits("user: root", "user: ops\n  sudo: {enabled: false}"), "ssh.sudo.enabled", "root is needed", 0},
		{"sudo disabled on one host", edits("role: edge", "role: edge\n    ssh: {user: ops, sudo: {enabled: false}}"), "hosts[1].ssh.sudo.enabled", "root is needed", 0},
		{"empty host entry", edits("  - address: 192.168.10.13\n    role: worker\n", "  -\n"), "hosts[2]", "empty host", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.load(t, tt.text(t))
			if err == nil {
				t.Fatalf("Load accepted the inventory; want an error at %q", tt.field)
			}
			var hit *FieldError
			for _, fe := range fieldErrors(t, err) {
				if fe.Field == tt.field && strings.Contains(fe.Problem, tt.problem) {
					hit = fe
					break
				}
			}
			if hit == nil {
				t.Fatalf("no error at field %q with problem %q; got:\n%v", tt.field, tt.problem, err)
			}
			if tt.line != 0 && hit.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", hit.Line, tt.line, hit)
			}
			msg := hit.Error()
			if !strings.HasPrefix(msg, hit.File) || !strings.HasSuffix(hit.File, "hosts.yaml") {
				t.Errorf("message %q does not start with the file", msg)
			}
			if tt.field != "" && !strings.Contains(msg, tt.field+":") {
				t.Errorf("message %q does not name the field path %q", msg, tt.field)
			}
			if hit.Expected == "" {
				t.Errorf("error %q does not say what is expected", msg)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("a secret leaked into the error: %v", err)
			}
		})
	}
}

func raw(s string) func(testing.TB) string { return func(testing.TB) string { return s } }

func edits(pairs ...string) func(testing.TB) string {
	return func(t testing.TB) string { return edit(t, pairs...) }
}

// TestAllErrorsAtOnce: one file with many problems reports every one of them.
func TestAllErrorsAtOnce(t *testing.T) {
	f := newFixture(t)
	text := edit(t,
		"name: demo", "name: demo\n  podCIDR: nope",
		"path: pkg.tar.gz", "path: missing.tgz",
		"192.168.10.12", "10.0.0.300",
		"role: worker", "role: chief\n    prot: 22",
		"user: root", "user: root\n  password: hunter2",
	)
	_, err := f.load(t, text)
	want := []string{"cluster.podCIDR", "cluster.installPackage.path", "hosts[1].address", "hosts[2].role", "hosts[2].prot", "ssh.password"}
	got := map[string]bool{}
	errs := fieldErrors(t, err)
	for _, fe := range errs {
		got[fe.Field] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing error for %s; got:\n%v", w, err)
		}
	}
	for i := 1; i < len(errs); i++ {
		if errs[i].Line != 0 && errs[i-1].Line > errs[i].Line {
			t.Errorf("errors not in file order: line %d before %d", errs[i-1].Line, errs[i].Line)
		}
	}
}

// TestSchemaErrorNotReportedTwice: a port that is not a number is one error,
// not also "out of range" for the zero it decodes to.
func TestSchemaErrorNotReportedTwice(t *testing.T) {
	f := newFixture(t)
	_, err := f.load(t, edit(t, "role: edge", "role: edge\n    port: abc"))
	n := 0
	for _, fe := range fieldErrors(t, err) {
		if fe.Field == "hosts[1].port" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("hosts[1].port reported %d times, want 1:\n%v", n, err)
	}
}

func TestAcceptNewNeedsNoKnownHostsFile(t *testing.T) {
	f := newFixture(t)
	_, err := f.load(t, edit(t, "knownHosts: known_hosts", "knownHosts: new_known_hosts\n  hostKeyPolicy: accept-new"))
	if err != nil {
		t.Fatalf("accept-new with a missing known_hosts: %v", err)
	}
}

// Every kind of package URL passes with a sha256 (and ftp and http only with one).
func TestPackageURLsAccepted(t *testing.T) {
	sum := strings.Repeat("a", 64)
	for _, u := range []string{"https://m/p.tar.gz", "https://m/p.tar.gz?X-Amz-Signature=abc", "http://m:8080/p.tar.gz", "ftp://m/pub/p.tar.gz", "ftp://anonymous@m:2121/p.tar.gz"} {
		t.Run(u, func(t *testing.T) {
			f := newFixture(t)
			inv, err := f.load(t, edit(t, "path: pkg.tar.gz", "url: '"+u+"'\n    sha256: "+sum))
			if err != nil {
				t.Fatalf("package url %s with sha256: %v", u, err)
			}
			if inv.Cluster.InstallPackage.Source() != u {
				t.Errorf("Source() = %q", inv.Cluster.InstallPackage.Source())
			}
		})
	}
}

func TestPasswordFromEnvAccepted(t *testing.T) {
	f := newFixture(t)
	t.Setenv("EDGEOPS_TEST_PW", "s3cret")
	inv, err := f.load(t, edit(t, "  identityFiles: [id_ed25519]\n", "  passwordEnv: EDGEOPS_TEST_PW\n"))
	if err != nil {
		t.Fatal(err)
	}
	pw, err := inv.SSHConfig(inv.Hosts[0]).Password.Resolve()
	if err != nil || pw != "s3cret" {
		t.Fatalf("Resolve = %q, %v", pw, err)
	}
}

// Errors about kubeadm args never echo a value: it may be a secret.
func TestKubeadmArgErrorsDoNotEcho(t *testing.T) {
	const token, key = "abcdef.0123456789abcdef", "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	tests := []struct{ name, args, field string }{
		{"token as a separate element", `initArgs: ["--token", "` + token + `"]`, "cluster.kubeadm.initArgs[1]"},
		{"token inline", `initArgs: ["--token=` + token + `"]`, "cluster.kubeadm.initArgs[0]"},
		{"certificate key separate", `joinArgs: ["--certificate-key", "` + key + `"]`, "cluster.kubeadm.joinArgs[1]"},
		{"owned flag with a value", `joinArgs: ["--node-name=` + token + `"]`, "cluster.kubeadm.joinArgs[0]"},
		{"a string instead of a list", `initArgs: "--token=` + token + `"`, "cluster.kubeadm.initArgs"},
		{"a lone token instead of a list", `joinArgs: "` + token + `"`, "cluster.kubeadm.joinArgs"},
		{"an anchored string reused", `initArgs: &t "--token=` + token + `", joinArgs: *t`, "cluster.kubeadm.joinArgs"},
		{"a tagged element that does not decode", `initArgs: [!!int "--token=` + token + `"]`, "cluster.kubeadm.initArgs[0]"},
		{"a tagged lone value", `joinArgs: ["--v=5", !!bool "` + token + `"]`, "cluster.kubeadm.joinArgs[1]"},
		{"secret flag with an underscore", `joinArgs: ["--certificate_key=` + key + `"]`, "cluster.kubeadm.joinArgs[0]"},
		{"secret flag in capitals", `initArgs: ["--Token=` + token + `"]`, "cluster.kubeadm.initArgs[0]"},
		{"secret flag with a space before =", `initArgs: ["--token =` + token + `"]`, "cluster.kubeadm.initArgs[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.load(t, edits("name: demo", "name: demo\n  kubeadm: {"+tt.args+"}")(t))
			if err == nil {
				t.Fatal("Load accepted the inventory")
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("no error at %s: %v", tt.field, err)
			}
			for _, secret := range []string{token, key, "0123456789abcdef", "0f1e2d3c4b5a"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error echoes a value: %v", err)
				}
			}
			if strings.Contains(err.Error(), "missing") {
				t.Errorf("follow-on errors (the rest of the file was not decoded): %v", err)
			}
		})
	}
}

// sudo.enabled: false is honoured: refused once for a non-root user (not once
// per host), accepted for root, whose commands then run without sudo.
func TestSudoDisabled(t *testing.T) {
	tests := []struct {
		name   string
		pairs  []string
		errors map[string]int // field -> how many errors there
	}{
		{"root: accepted, no sudo", []string{"user: root", "user: root\n  sudo: {enabled: false}"}, nil},
		{"non-root default: one error for three hosts", []string{"user: root", "user: ops\n  sudo: {enabled: false}"}, map[string]int{"ssh.sudo.enabled": 1}},
		{"two non-root users: one error each", []string{"user: root", "user: root\n  sudo: {enabled: false}",
			"role: edge", "role: edge\n    user: ops", "role: worker", "role: worker\n    user: deploy"}, map[string]int{"ssh.sudo.enabled": 2}},
		{"per host", []string{"role: edge", "role: edge\n    ssh: {user: ops, sudo: {enabled: false}}"}, map[string]int{"hosts[1].ssh.sudo.enabled": 1}},
		{"root on one host, sudo user elsewhere", []string{"user: root", "user: ops", "role: edge", "role: edge\n    ssh: {user: root, sudo: {enabled: false}}"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			inv, err := f.load(t, edit(t, tt.pairs...))
			if tt.errors == nil {
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range inv.Hosts {
					if sc := inv.SSHConfig(h); sc.Sudo != (sc.User != "root") {
						t.Errorf("%s: user %s, sudo %v", h.Address, sc.User, sc.Sudo)
					}
				}
				return
			}
			got := map[string]int{}
			for _, fe := range fieldErrors(t, err) {
				if strings.Contains(fe.Problem, "root is needed") {
					got[fe.Field]++
				}
			}
			for field, n := range tt.errors {
				if got[field] != n {
					t.Errorf("%d error(s) at %s, want %d:\n%v", got[field], field, n, err)
				}
			}
		})
	}
}

// A VIP becomes the control-plane endpoint when none is given, and satisfies
// the rule that several masters need one; an even number of masters is a
// warning that says why.
func TestVIPDefaultsAndWarnings(t *testing.T) {
	inv, err := newFixture(t).load(t, edit(t, "name: demo", "name: demo\n  vip: {address: 192.168.10.100}", "role: edge", "role: master"))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Cluster.ControlPlaneEndpoint != "192.168.10.100" || inv.ControlPlaneEndpoint() != "192.168.10.100:6443" {
		t.Fatalf("controlPlaneEndpoint %q (%s), want the VIP", inv.Cluster.ControlPlaneEndpoint, inv.ControlPlaneEndpoint())
	}
	w := inv.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "2 masters") || !strings.Contains(w[0], "majority") {
		t.Fatalf("warnings %q, want one about the even number of masters", w)
	}
}
