package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/internal/ftptest"
	"github.com/edgeops/edgeops/pkg/bundle"
)

// tree lists every path under root with its size: what a refusal must not change.
func tree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		size := int64(0)
		if info.Mode().IsRegular() {
			size = info.Size()
		}
		fmt.Fprintf(&b, "%s %s %d\n", strings.TrimPrefix(p, root), info.Mode(), size)
		return nil
	})
	return b.String()
}

func TestCheckPackage(t *testing.T) {
	// The package, served over FTP, and a truncated copy of it.
	srv := t.TempDir()
	good := filepath.Join(srv, "edgeops-bundle.tar.gz")
	// An incompressible kubelet puts the cut of the truncated copy past the manifest.
	kubelet := make([]byte, 1<<20)
	rand.Read(kubelet)
	packTestBundle(t, good, string(kubelet))
	sum, size, err := bundle.FileSHA256(good)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	if err := os.WriteFile(filepath.Join(srv, "truncated.tar.gz"), data[:size*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	addr := ftptest.Start(t, "127.0.0.1:0", srv, ftptest.Options{User: "bob", Password: "hunter2"})
	ftpURL := "ftp://" + addr + "/edgeops-bundle.tar.gz"

	tests := []struct {
		name     string
		opts     Options
		workflow string
		version  string   // init's --kubernetes-version
		local    []byte   // written to /srv/p.tar.gz on the host first
		want     []string // all in the error; none: accepted
	}{
		{"ftp with sha256", Options{InstallPkgPath: ftpURL, InstallPkgSHA256: strings.ToUpper(sum)}, "init", "", nil, nil},
		{"ftp with a user, --kubernetes-version without v", Options{InstallPkgPath: "ftp://bob:hunter2@" + addr + "/edgeops-bundle.tar.gz", InstallPkgSHA256: sum},
			"init", strings.TrimPrefix(bundles.KubernetesVersion(), "v"), nil, nil},
		{"local file without sha256", Options{InstallPkgPath: "/srv/p.tar.gz"}, "join", "", data, nil},
		{"plain ftp without sha256", Options{InstallPkgPath: ftpURL}, "init", "", nil,
			[]string{"--install-pkg-path " + ftpURL + " is a plain ftp:// download", "pass --install-pkg-sha256"}},
		{"plain http without sha256", Options{InstallPkgPath: "http://127.0.0.1:1/p.tar.gz"}, "join", "", nil,
			[]string{"plain http:// download", "pass --install-pkg-sha256"}},
		{"sha256 not hex", Options{InstallPkgPath: ftpURL, InstallPkgSHA256: "abc"}, "init", "", nil,
			[]string{`--install-pkg-sha256 "abc": not a sha256`}},
		{"unsupported scheme", Options{InstallPkgPath: "sftp://h/p.tar.gz"}, "init", "", nil,
			[]string{"--install-pkg-path", `scheme "sftp" is not supported`}},
		{"wrong --kubernetes-version", Options{InstallPkgPath: ftpURL, InstallPkgSHA256: sum}, "init", "v1.30.1", nil,
			[]string{"--kubernetes-version v1.30.1", "the package carries Kubernetes " + bundles.KubernetesVersion(), "pass --kubernetes-version " + bundles.KubernetesVersion()}},
		{"ftp file that does not exist", Options{InstallPkgPath: "ftp://bob:hunter2@" + addr + "/nope.tar.gz", InstallPkgSHA256: sum}, "init", "", nil,
			[]string{"ftp://bob:xxxxx@" + addr + "/nope.tar.gz", "no file /nope.tar.gz", "check the URL"}},
		{"truncated download, sha256 of the package", Options{InstallPkgPath: "ftp://" + addr + "/truncated.tar.gz", InstallPkgSHA256: sum}, "init", "", nil,
			[]string{"corrupt package", "sha256 is", "fetch it again or correct the flag"}},
		{"truncated local file", Options{InstallPkgPath: "/srv/p.tar.gz"}, "init", "", data[:size*2/3], []string{"/srv/p.tar.gz is damaged", "truncated package", "copy or download it again"}},
		{"local file cut in its manifest", Options{InstallPkgPath: "/srv/p.tar.gz"}, "init", "", data[:200], []string{"not a readable edgeops install package", "truncated package"}},
		{"not a package", Options{InstallPkgPath: "/srv/p.tar.gz"}, "init", "", []byte("<html>not found</html>"), []string{"not a readable edgeops install package"}},
		{"local file missing", Options{InstallPkgPath: "/srv/none.tar.gz"}, "init", "", nil, []string{"--install-pkg-path /srv/none.tar.gz", "no such file"}},
		{"nothing installed, nothing given", Options{}, "join", "", nil, []string{"nothing installed yet: pass --install-pkg-path"}},
		{"runtime binary missing", Options{InstallPkgPath: ftpURL, InstallPkgSHA256: sum, RuntimeBinary: "/nope"}, "init", "", nil, []string{"--runtime-binary /nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range []string{"srv", "var/lib"} {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tt.local != nil {
				if err := os.WriteFile(filepath.Join(root, "srv/p.tar.gz"), tt.local, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var log bytes.Buffer
			o := tt.opts
			r := &Run{Host: &Host{Root: root, Cmd: &fakeHost{images: map[string]bool{}}, Log: &log}, Opts: &o,
				Workflow: tt.workflow, KubernetesVersion: tt.version}
			before := tree(t, root)
			err := CheckPackage(context.Background(), r)
			if strings.Contains(log.String()+errString(err), "hunter2") {
				t.Errorf("the password is shown:\n%s%v", log.String(), err)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v\n%s", err, log.String())
				}
				if r.pkg == nil || r.pkg.sha256 != sum || r.pkg.unpacked == "" {
					t.Fatalf("checked package %+v", r.pkg)
				}
				if _, err := os.Stat(filepath.Join(r.pkg.unpacked, "bin/kubelet")); err != nil {
					t.Errorf("not unpacked: %v", err)
				}
				// install-package takes the checked package as it is.
				if err := InstallPackage(context.Background(), r); err != nil {
					t.Fatalf("install after the check: %v\n%s", err, log.String())
				}
				if _, err := os.Stat(filepath.Join(root, "usr/local/bin/kubelet")); err != nil {
					t.Errorf("kubelet not installed: %v", err)
				}
				return
			}
			checkRefusal(t, err, tt.want)
			if after := tree(t, root); after != before {
				t.Errorf("the refusal changed the host:\nbefore:\n%safter:\n%s", before, after)
			}
		})
	}
}

// A check run alone (a phase subcommand) keeps the download, not the unpacked files.
func TestCheckPackageAloneLeavesNoUnpackedFiles(t *testing.T) {
	root := t.TempDir()
	packTestBundle(t, filepath.Join(root, "p.tar.gz"), "kubelet-1")
	r := &Run{Host: &Host{Root: root, Cmd: &fakeHost{images: map[string]bool{}}, Log: &bytes.Buffer{}},
		Opts: &Options{InstallPkgPath: "/p.tar.gz"}, Workflow: "init"}
	if _, err := RunPhases(context.Background(), r, "init", []Phase{{Name: PhaseCheckPackage, Run: CheckPackage}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, extractDir)); err == nil {
		t.Errorf("%s left after the phase", extractDir)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
