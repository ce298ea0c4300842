//go:build e2e

package agent

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/internal/ftptest"
	"github.com/edgeops/edgeops/pkg/bundle"
)

// The package-source test's own lab (docs/CONTRACTS.md reserves this subnet).
const (
	srcLab     = "agent-src"
	srcSubnet  = "172.28.22.0/24"
	srcHost    = "172.28.22.11"
	srcGateway = "172.28.22.1" // this machine, as the lab hosts reach it
)

// TestPackageSources: edgeadm init takes the real package from an FTP
// server (in this test process, on the lab gateway) and the node is Ready;
// and each refusal (wrong --kubernetes-version, plain http without a
// sha256, a truncated package by ftp and on disk, an ftp path that does not
// exist) says what is wrong and what to do, and leaves the host as it was.
func TestPackageSources(t *testing.T) {
	l := newLabOn(t, srcLab, srcSubnet)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	name := filepath.Base(l.bundle)
	sum, size, err := bundle.FileSHA256(l.bundle)
	if err != nil {
		t.Fatal(err)
	}
	// The FTP root: the package and a copy cut at 60 %.
	root := t.TempDir()
	linkOrCopy(t, l.bundle, filepath.Join(root, name))
	truncated := filepath.Join(root, "truncated-"+name)
	copyN(t, l.bundle, truncated, size*6/10)
	ftpAddr := ftptest.Start(t, srcGateway+":0", root, ftptest.Options{})
	t.Logf("ftp server on %s serving %s (%d bytes, sha256 %s)", ftpAddr, name, size, sum)

	l.upload(ctx, srcHost, l.edgeadm, remoteEdgeadm, "0755")
	// The truncated copy on disk too, where edgeops stages packages (not part of the snapshot).
	l.upload(ctx, srcHost, truncated, remotePackageDir+"/truncated.tar.gz", "0600")
	l.must(ctx, srcHost, remoteEdgeadm+" reset --force")
	before := l.snapshot(ctx, srcHost)

	def := bundles.KubernetesVersion()
	ftpURL := "ftp://" + ftpAddr + "/" + name
	initCmd := fmt.Sprintf("%s init --enable-edge=false --runtime-binary %s --skip-token-print --apiserver-advertise-address %s",
		remoteEdgeadm, runtimeBinary, srcHost)
	refusals := []struct {
		name, args string
		want       []string
	}{
		{"wrong --kubernetes-version", "--kubernetes-version=1.30.1 --install-pkg-path " + ftpURL + " --install-pkg-sha256 " + sum,
			[]string{"--kubernetes-version 1.30.1, but the package carries Kubernetes " + def, "pass --kubernetes-version " + def + " (or leave it unset)"}},
		{"plain http without sha256", "--install-pkg-path http://" + srcGateway + ":8080/" + name,
			[]string{"--install-pkg-path http://" + srcGateway + ":8080/" + name + " is a plain http:// download", "pass --install-pkg-sha256"}},
		{"truncated package over ftp", "--install-pkg-path ftp://" + ftpAddr + "/truncated-" + name + " --install-pkg-sha256 " + sum,
			[]string{"corrupt package: sha256 is", "want " + sum, "fetch it again or correct the flag"}},
		{"truncated package on disk", "--install-pkg-path " + remotePackageDir + "/truncated.tar.gz",
			[]string{"package " + remotePackageDir + "/truncated.tar.gz is damaged", "truncated package", "copy or download it again"}},
		{"ftp path that does not exist", "--install-pkg-path ftp://" + ftpAddr + "/nope/" + name + " --install-pkg-sha256 " + sum,
			[]string{"download ftp://" + ftpAddr + "/nope/" + name, "the server has no file /nope/" + name, "check the URL"}},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			start := time.Now()
			out, err := l.run(ctx, srcHost, initCmd+" "+r.args+" 2>&1")
			t.Logf("edgeadm init %s: refused after %s:\n%s", r.args, time.Since(start).Round(time.Millisecond), lastLines(out, 3))
			if err == nil {
				t.Fatalf("init accepted it:\n%s", out)
			}
			for _, w := range append(r.want, "init phase check-package", "(nothing on this host was changed)") {
				if !strings.Contains(out, w) {
					t.Errorf("the error does not say %q", w)
				}
			}
			l.assertClean(ctx, srcHost, before, "after the refusal ("+r.name+")")
		})
	}

	// The package by FTP, the version as the seed writes it (no v).
	out, took := l.timed(ctx, srcHost, "edgeadm init from ftp", initCmd+" --kubernetes-version="+strings.TrimPrefix(def, "v")+
		" --install-pkg-path "+ftpURL+" --install-pkg-sha256 "+sum+" 2>&1")
	for _, w := range []string{"downloading " + ftpURL, "phase check-package done", "phase install-package done"} {
		if !strings.Contains(out, w) {
			t.Errorf("init output does not say %q", w)
		}
	}
	t.Logf("init from ftp: %s", took.Round(time.Millisecond))
	waitOn(t, l, ctx, srcHost, "the node Ready", readyCmd, 5*time.Minute, allReady(1))
	if got := l.must(ctx, srcHost, "cat /var/lib/edgeadm/installed.json"); !strings.Contains(got, sum) {
		t.Errorf("installed.json does not record the package's sha256:\n%s", got)
	}
	l.timed(ctx, srcHost, "edgeadm reset --force", remoteEdgeadm+" reset --force 2>&1")
	l.assertClean(ctx, srcHost, before, "after init from ftp and reset")
}

// waitOn polls a command on host until check accepts its output.
func waitOn(t *testing.T, l *lab, ctx context.Context, host, what, cmd string, timeout time.Duration, check func(string) bool) {
	t.Helper()
	start := time.Now()
	var out string
	for time.Since(start) < timeout {
		var err error
		if out, err = l.run(ctx, host, cmd); err == nil && check(out) {
			t.Logf("%s after %s", what, time.Since(start).Round(time.Second))
			return
		}
		time.Sleep(3 * time.Second)
	}
	t.Fatalf("%s: not within %s; last output:\n%s", what, timeout, out)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// linkOrCopy puts src at dst, a hard link when they share a file system.
func linkOrCopy(t *testing.T, src, dst string) {
	t.Helper()
	if os.Link(src, dst) == nil {
		return
	}
	copyN(t, src, dst, -1)
}

// copyN copies the first n bytes of src (all with n < 0) to dst.
func copyN(t *testing.T, src, dst string, n int64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = in
	if n >= 0 {
		r = io.LimitReader(in, n)
	}
	if _, err := io.Copy(out, r); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
