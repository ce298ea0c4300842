package bundlebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLayerIsDeterministic(t *testing.T) {
	src := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(src, []byte("program"), 0o700); err != nil {
		t.Fatal(err)
	}
	build := func(order []string) []byte {
		l := newLayerFS()
		for _, o := range order {
			switch o {
			case "file":
				l.file("/usr/local/bin/prog", src, 0o755)
			case "data":
				l.data("/etc/passwd", []byte("root:x:0:0::/root:/sbin/nologin\n"), 0o644)
			case "link":
				l.symlink("/usr/sbin/iptables", "xtables-nft-multi")
			case "tmp":
				l.dir("/tmp", 0o1777)
			}
		}
		var buf bytes.Buffer
		if err := l.writeTar(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a := build([]string{"file", "data", "link", "tmp"})
	b := build([]string{"tmp", "link", "data", "file"})
	if !bytes.Equal(a, b) {
		t.Fatal("the same entries in another order gave a different layer")
	}
	tr := tar.NewReader(bytes.NewReader(a))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(layerTime) {
			t.Errorf("%s: uid %d gid %d mtime %v", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		if h.Name == "tmp/" && h.Mode != 0o1777 {
			t.Errorf("/tmp mode %o, want 1777", h.Mode)
		}
		names = append(names, h.Name)
	}
	want := "etc/ etc/passwd tmp/ usr/ usr/local/ usr/local/bin/ usr/local/bin/prog usr/sbin/ usr/sbin/iptables"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries %q, want %q", got, want)
	}
}

// TestIptablesLayerRuns unpacks the iptables layer into a directory and runs
// the nft and legacy programs there with chroot: every extension a
// kube-proxy rule set uses must load with only the copied libraries.
func TestIptablesLayerRuns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for chroot (make test runs as root)")
	}
	if _, err := iptablesHostFiles(); err != nil {
		t.Skipf("iptables not installed on this machine: %v", err)
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("layer closure is checked on amd64")
	}
	ctx := context.Background()
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "iptables-wrapper")
	if out, err := exec.Command("go", "build", "-o", wrapper, "../../hack/images/iptables-wrapper").CombinedOutput(); err != nil {
		t.Fatalf("build wrapper: %v\n%s", err, out)
	}
	l := newLayerFS()
	if err := l.addIptables(ctx, wrapper); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	unpack(t, l, root)
	for _, lib := range []string{"usr/lib/x86_64-linux-gnu/xtables/libxt_statistic.so", "usr/lib/x86_64-linux-gnu/libm.so.6"} {
		if _, err := os.Stat(filepath.Join(root, lib)); err != nil {
			t.Errorf("layer lacks /%s: %v", lib, err)
		}
	}
	rules := "*nat\n:KUBE-TEST - [0:0]\n" +
		"-A KUBE-TEST -m comment --comment \"svc/x\" -m statistic --mode random --probability 0.5 -j MARK --set-xmark 0x4000/0x4000\n" +
		"-A KUBE-TEST -p tcp -m tcp --dport 80 -m conntrack --ctstate NEW -j DNAT --to-destination 10.0.0.1:8080\n" +
		"-A KUBE-TEST -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully\n" +
		"-A KUBE-TEST -m addrtype --dst-type LOCAL -j RETURN\n" +
		"COMMIT\n*filter\n:KUBE-F - [0:0]\n-A KUBE-F -m physdev --physdev-is-in -m limit --limit 1/s -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n"
	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"nft version", []string{"/usr/sbin/iptables-nft", "-V"}, ""},
		{"nft program", []string{"/usr/sbin/nft", "--version"}, ""},
		{"legacy version", []string{"/usr/sbin/ip6tables-legacy", "-V"}, ""},
		{"nft restore test loads extensions", []string{"/usr/sbin/iptables-nft-restore", "--test"}, rules},
		{"help of a libm extension", []string{"/usr/sbin/iptables-legacy", "-m", "statistic", "--help"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("chroot", append([]string{root}, tc.args...)...)
			cmd.Env = []string{"PATH=/usr/sbin:/usr/bin"}
			cmd.Stdin = strings.NewReader(tc.stdin)
			out, err := cmd.CombinedOutput()
			if err != nil && !(strings.Contains(tc.name, "help") && strings.Contains(string(out), "statistic match options")) {
				t.Fatalf("%v: %v\n%s", tc.args, err, out)
			}
			if strings.Contains(string(out), "error while loading shared libraries") || strings.Contains(string(out), "Couldn't load") {
				t.Fatalf("%v: missing library:\n%s", tc.args, out)
			}
		})
	}
}

// unpack writes a layer's entries under root (what a container runtime does).
func unpack(t *testing.T, l *layerFS, root string) {
	t.Helper()
	var buf bytes.Buffer
	if err := l.writeTar(&buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, os.FileMode(h.Mode)&os.ModePerm); err != nil {
				t.Fatal(err)
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, p); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			data, _ := io.ReadAll(tr)
			if err := os.WriteFile(p, data, os.FileMode(h.Mode)); err != nil {
				t.Fatal(err)
			}
		}
	}
}
