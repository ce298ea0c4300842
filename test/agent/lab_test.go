//go:build e2e

package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/bundles"
)

// The agent test's lab (docs/CONTRACTS.md reserves this subnet for it).
const (
	labName   = "agent-test"
	labSubnet = "172.28.20.0/24"
	master    = "172.28.20.11"
	worker    = "172.28.20.12"
	// Where edgeops stages the package and the agent on a host.
	remotePackageDir = "/var/lib/edgeops/packages"
	remoteEdgeadm    = "/usr/local/bin/edgeadm"
	runtimeBinary    = "/usr/local/sbin/runc-lab"
	// kubectlCmd keeps kubectl's discovery cache out of the snapshot (/run is
	// not in it): the test's own kubectl must not look like a leftover.
	kubectlCmd = "kubectl --kubeconfig /etc/kubernetes/admin.conf --cache-dir /run/agent-test-kubectl"
)

// lab drives the lab hosts with plain ssh and scp.
type lab struct {
	t       *testing.T
	name    string // LAB_NAME
	subnet  string // LAB_SUBNET
	root    string // repository root
	dir     string // LAB_DIR
	bundle  string // local package path
	edgeadm string // freshly built agent
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func newLab(t *testing.T) *lab {
	t.Helper()
	return newLabOn(t, labName, labSubnet)
}

// newLabOn starts a two-host lab of its own name and subnet (docs/CONTRACTS.md reserves them).
func newLabOn(t *testing.T, name, subnet string) *lab {
	t.Helper()
	root := repoRoot(t)
	b := os.Getenv("EDGEOPS_BUNDLE")
	if b == "" {
		b = filepath.Join(root, "_output", bundles.PackageFileName("amd64"))
	}
	if _, err := os.Stat(b); err != nil {
		t.Fatalf("install package %s missing: build it with 'make bundle' (or set EDGEOPS_BUNDLE): %v", b, err)
	}
	dir := os.Getenv("AGENT_LAB_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	l := &lab{t: t, name: name, subnet: subnet, root: root, dir: dir, bundle: b, edgeadm: filepath.Join(dir, "edgeadm")}
	// make build stamps edgeadm as a release build is, so 'edgeadm version' tells kubeadm's version.
	l.local("make", "build")
	l.local("cp", filepath.Join(root, "_output", "edgeadm"), l.edgeadm)
	l.local("scripts/lab", "up", "2")
	if os.Getenv("AGENT_KEEP_LAB") == "" {
		t.Cleanup(func() { l.local("scripts/lab", "down") })
	}
	return l
}

func (l *lab) env() []string {
	return append(os.Environ(), "LAB_NAME="+l.name, "LAB_SUBNET="+l.subnet, "LAB_DIR="+l.dir)
}

// local runs a command on this machine from the repository root.
func (l *lab) local(name string, args ...string) string {
	l.t.Helper()
	c := exec.Command(name, args...)
	c.Dir = l.root
	c.Env = l.env()
	out, err := c.CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (l *lab) sshArgs() []string {
	return []string{"-i", filepath.Join(l.dir, "key"), "-o", "UserKnownHostsFile=" + filepath.Join(l.dir, "known_hosts"),
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"}
}

// run runs a shell command on a host as root and returns its output and error.
func (l *lab) run(ctx context.Context, host, cmd string) (string, error) {
	args := append(l.sshArgs(), "root@"+host, cmd)
	c := exec.CommandContext(ctx, "ssh", args...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return out.String(), err
}

// must runs a command on a host and fails the test on error.
func (l *lab) must(ctx context.Context, host, cmd string) string {
	l.t.Helper()
	out, err := l.run(ctx, host, cmd)
	if err != nil {
		l.t.Fatalf("host %s: %s: %v\n%s", host, cmd, err, out)
	}
	return out
}

// timed runs a command, logs its output and how long it took.
func (l *lab) timed(ctx context.Context, host, what, cmd string) (string, time.Duration) {
	l.t.Helper()
	start := time.Now()
	out := l.must(ctx, host, cmd)
	d := time.Since(start)
	l.t.Logf("host %s: %s took %s\n%s", host, what, d.Round(time.Millisecond), out)
	return out, d
}

func (l *lab) upload(ctx context.Context, host, local, remote string, mode string) {
	l.t.Helper()
	l.must(ctx, host, "mkdir -p "+filepath.Dir(remote))
	args := append(l.sshArgs(), "-q", local, "root@"+host+":"+remote+".tmp")
	if out, err := exec.CommandContext(ctx, "scp", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("scp %s to %s:%s: %v\n%s", local, host, remote, err, out)
	}
	l.must(ctx, host, fmt.Sprintf("chmod %s %s.tmp && mv %s.tmp %s", mode, remote, remote, remote))
}

// stage puts the agent and the package on a host, as edgeops does.
func (l *lab) stage(ctx context.Context, host string) string {
	pkg := remotePackageDir + "/" + filepath.Base(l.bundle)
	if out, _ := l.run(ctx, host, "test -s "+pkg+" && echo present"); !strings.Contains(out, "present") {
		l.upload(ctx, host, l.bundle, pkg, "0600")
	}
	l.upload(ctx, host, l.edgeadm, remoteEdgeadm, "0755")
	return pkg
}

// copyJoinInfo moves the join information from the master to a host,
// root-only at both ends, without printing it.
func (l *lab) copyJoinInfo(ctx context.Context, to string) {
	l.t.Helper()
	local := filepath.Join(l.t.TempDir(), "join-info.json")
	args := append(l.sshArgs(), "-q", "root@"+master+":/etc/edgeadm/join-info.json", local)
	if out, err := exec.CommandContext(ctx, "scp", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("fetch join information: %v\n%s", err, out)
	}
	if err := os.Chmod(local, 0o600); err != nil {
		l.t.Fatal(err)
	}
	l.upload(ctx, to, local, "/etc/edgeadm/join-info.json", "0600")
}

// kubectl runs kubectl on the master with the admin kubeconfig.
func (l *lab) kubectl(ctx context.Context, args string) string {
	l.t.Helper()
	return l.must(ctx, master, kubectlCmd+" "+args)
}

// waitFor polls a command on the master until check accepts its output.
func (l *lab) waitFor(ctx context.Context, what, cmd string, timeout time.Duration, check func(string) bool) time.Duration {
	l.t.Helper()
	start := time.Now()
	var out string
	for time.Since(start) < timeout {
		var err error
		out, err = l.run(ctx, master, cmd)
		if err == nil && check(out) {
			d := time.Since(start)
			l.t.Logf("%s after %s", what, d.Round(time.Second))
			return d
		}
		time.Sleep(3 * time.Second)
	}
	l.t.Fatalf("%s: not within %s; last output:\n%s", what, timeout, out)
	return 0
}

func execOut(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}
