package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/internal/testpkg"
)

// buildBinary builds the real edgeops binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "edgeops")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// workspace is a folder with the files a valid inventory needs and HOME set to it.
type workspace struct {
	dir string
	env []string
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	dir := t.TempDir()
	files := map[string]os.FileMode{"id_ed25519": 0o600, "open_key": 0o644, "known_hosts": 0o644}
	for name, mode := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	// The commands that install read the package's manifest: a real one.
	testpkg.Write(t, filepath.Join(dir, "pkg.tar.gz"), bundles.KubernetesVersion())
	env := append(os.Environ(), "HOME="+dir)
	return &workspace{dir: dir, env: env}
}

func (w *workspace) write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(w.dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type result struct {
	code           int
	stdout, stderr string
}

func runBinary(t *testing.T, bin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

// sshTrap listens where the inventory's hosts point and counts connections:
// a configuration error must open none.
func sshTrap(t *testing.T) (port string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, accepted
}

const goodInventory = `cluster:
  name: demo
  installPackage: {path: pkg.tar.gz}
ssh:
  identityFiles: [id_ed25519]
  knownHosts: known_hosts
  port: PORT
hosts:
  - {address: 127.0.0.1, role: master}
  - {address: localhost, role: edge}
`

// TestBrokenInventoriesExit2 runs the built binary on one inventory per class
// of error: every command that takes an inventory exits 2, prints every
// error with its field path, and connects to no host.
func TestBrokenInventoriesExit2(t *testing.T) {
	bin := buildBinary(t)
	ws := newWorkspace(t)
	port, accepted := sshTrap(t)
	good := strings.ReplaceAll(goodInventory, "PORT", port)
	tests := []struct {
		name   string
		text   string
		fields []string // every one must be printed
	}{
		{"yaml syntax", "cluster:\n  name: demo\n  foo: bar: baz\n", []string{":3: YAML syntax error"}},
		{"unknown fields", strings.Replace(good, "role: edge", "role: edge, adress: x", 1) + "extra: 1\n", []string{"hosts[1].adress", "extra"}},
		{"missing required", strings.Replace(strings.Replace(good, "  installPackage: {path: pkg.tar.gz}\n", "", 1), "address: localhost, ", "", 1), []string{"cluster.installPackage", "hosts[1].address"}},
		{"no master", strings.Replace(good, "role: master", "role: worker", 1), []string{"hosts: no host with role master"}},
		{"duplicates", strings.Replace(good, "localhost", "127.0.0.1", 1), []string{"hosts[1].address"}},
		{"bad IP and role", strings.Replace(strings.Replace(good, "localhost", "10.0.0.300", 1), "role: edge", "role: boss", 1), []string{"hosts[1].address", "hosts[1].role"}},
		{"port out of range", strings.Replace(good, "port: "+port, "port: 70000", 1), []string{"ssh.port"}},
		{"CIDRs", strings.Replace(good, "name: demo", "name: demo\n  podCIDR: 10.96.0.0/16\n  serviceCIDR: 10.96.0.0/33", 1), []string{"cluster.serviceCIDR"}},
		{"overlap", strings.Replace(good, "name: demo", "name: demo\n  podCIDR: 127.0.0.0/16", 1), []string{"hosts[0].address: \"127.0.0.1\": overlaps cluster.podCIDR"}},
		{"HA without endpoint", strings.Replace(good, "role: edge", "role: master", 1), []string{"cluster.controlPlaneEndpoint"}},
		{"install package", strings.Replace(good, "{path: pkg.tar.gz}", "{url: 'sftp://x/y', sha256: nothex}", 1), []string{"cluster.installPackage.url", "cluster.installPackage.sha256"}},
		{"identity files", strings.Replace(good, "[id_ed25519]", "[nokey, open_key]", 1), []string{"ssh.identityFiles[0]", "ssh.identityFiles[1]"}},
		{"plain-text secret", strings.Replace(good, "  port:", "  password: hunter2\n  port:", 1), []string{"ssh.password"}},
	}
	commands := [][]string{{"up"}, {"plan"}, {"status"}, {"kubeconfig"}, {"validate"}, {"reset", "--all"}, {"add-node", "--host", "127.0.0.1"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ws.write(t, strings.ReplaceAll(tt.name, " ", "_")+".yaml", tt.text)
			for _, c := range commands {
				args := append(append([]string{}, c...), "-i", path)
				r := runBinary(t, bin, ws.env, args...)
				if r.code != 2 {
					t.Fatalf("%v: exit %d, want 2\nstderr:\n%s", args, r.code, r.stderr)
				}
				for _, f := range tt.fields {
					if !strings.Contains(r.stderr, f) {
						t.Errorf("%v: stderr lacks %q:\n%s", args, f, r.stderr)
					}
				}
				if strings.Contains(r.stderr+r.stdout, "hunter2") {
					t.Errorf("%v: the plain-text password was printed", args)
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let a stray connection be counted
	if n := accepted.Load(); n != 0 {
		t.Errorf("configuration errors opened %d connection(s) to the hosts; want none", n)
	}
}

// TestPackageVersionRefused: a local package of another Kubernetes version
// stops every command that installs with exit 2, both versions named, before
// any host is contacted.
func TestPackageVersionRefused(t *testing.T) {
	bin := buildBinary(t)
	ws := newWorkspace(t)
	port, accepted := sshTrap(t)
	good := strings.ReplaceAll(goodInventory, "PORT", port)
	path := ws.write(t, "old.yaml", strings.Replace(good, "name: demo", "name: demo\n  kubernetesVersion: v1.34.4", 1))
	for _, c := range [][]string{{"validate"}, {"plan"}, {"up"}, {"add-node", "--host", "127.0.0.1"}} {
		args := append(append([]string{}, c...), "-i", path)
		r := runBinary(t, bin, ws.env, args...)
		want := "cluster.kubernetesVersion: \"v1.34.4\": the install package "
		if r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "carries Kubernetes "+bundles.KubernetesVersion()+", not v1.34.4") {
			t.Errorf("%v: exit %d, want 2 naming both versions; stderr:\n%s", args, r.code, r.stderr)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Errorf("a refused package opened %d connection(s) to the hosts; want none", n)
	}
}

// TestJSONErrors: with --output json every error is one JSON line on stdout
// with its field path, and a last line gives the exit status.
func TestJSONErrors(t *testing.T) {
	bin := buildBinary(t)
	ws := newWorkspace(t)
	text := strings.Replace(strings.ReplaceAll(goodInventory, "PORT", "22"), "localhost", "10.0.0.300", 1) + "concurrency: {limit: 0}\n"
	path := ws.write(t, "hosts.yaml", text)
	r := runBinary(t, bin, ws.env, "--output", "json", "up", "-i", path)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2; stderr %s", r.code, r.stderr)
	}
	var fields []string
	var last map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		if m["kind"] == "inventory" {
			fields = append(fields, m["field"].(string))
		}
		last = m
	}
	want := []string{"hosts[1].address", "concurrency.limit"}
	if strings.Join(fields, ",") != strings.Join(want, ",") {
		t.Errorf("fields = %v, want %v", fields, want)
	}
	if last["kind"] != "result" || last["exitCode"] != float64(2) {
		t.Errorf("last line = %v", last)
	}
}

// TestUsageErrors: wrong flags and arguments exit 2 before anything else.
func TestUsageErrors(t *testing.T) {
	bin := buildBinary(t)
	ws := newWorkspace(t)
	path := ws.write(t, "hosts.yaml", strings.ReplaceAll(goodInventory, "PORT", "22"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"reset", "-i", path}, "exactly one of --all or --host"},
		{[]string{"reset", "-i", path, "--all", "--host", "127.0.0.1"}, "exactly one of --all or --host"},
		{[]string{"reset", "-i", path, "--host", "10.1.1.1"}, "no host with address 10.1.1.1"},
		{[]string{"add-node", "-i", path}, "--host ADDR is required"},
		{[]string{"add-node", "-i", path, "--host", "10.1.1.1"}, "not in"},
		{[]string{"add-node", "-i", path, "--host", "localhost", "--role", "boss"}, "--role \"boss\""},
		{[]string{"add-node", "-i", path, "--host", "localhost", "--role", "master"}, "cluster.controlPlaneEndpoint"},
		{[]string{"up", "-i", path, "--bogus"}, "unknown flag: --bogus"},
		{[]string{"up", "-i", path, "extra"}, "takes no arguments"},
		{[]string{"--output", "yaml", "version"}, "expected text or json"},
		{[]string{"--concurrency", "-1", "up", "-i", path}, "--concurrency -1"},
		{[]string{"--timeout", "soon", "up"}, "invalid argument"},
		{[]string{"upp"}, "did you mean up?"},
		{[]string{"completion"}, "name one shell"},
		{[]string{"up", "-i", filepath.Join(ws.dir, "missing.yaml")}, "cannot read the inventory"},
	}
	for _, tt := range tests {
		r := runBinary(t, bin, ws.env, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// TestWorkingCommands: the commands that need no orchestration succeed.
func TestWorkingCommands(t *testing.T) {
	bin := buildBinary(t)
	ws := newWorkspace(t)
	path := ws.write(t, "hosts.yaml", strings.ReplaceAll(goodInventory, "PORT", "2222"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"validate", "-i", path}, "root@localhost:2222"},
		{[]string{"--output", "json", "validate", "-i", path}, `"valid":true`},
		{[]string{"version"}, "edgeops "},
		{[]string{"--output", "json", "version"}, `"kubernetesVersion":"` + bundles.KubernetesVersion() + `"`},
		{[]string{"completion", "bash"}, "bash completion"},
		{[]string{"completion", "zsh"}, "compdef"},
		{[]string{"--help"}, "Examples:"},
	}
	for _, tt := range tests {
		r := runBinary(t, bin, ws.env, tt.args...)
		if r.code != 0 || !strings.Contains(r.stdout, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 0 and %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
	// Every command's help has examples.
	for _, c := range []string{"up", "add-node", "reset", "plan", "status", "kubeconfig", "validate", "version", "completion", "help"} {
		r := runBinary(t, bin, ws.env, c, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help: exit %d, no Examples section:\n%s", c, r.code, r.stdout)
		}
	}
}
