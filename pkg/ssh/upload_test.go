package ssh_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/ssh"
	"github.com/edgeops/edgeops/pkg/ssh/sshtest"
)

func randomFile(t *testing.T, size int) (string, []byte) {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "src")
	writeFile(t, p, string(b))
	return p, b
}

// checkRemote checks the uploaded file (sshd is local, so its files are ours to read).
func checkRemote(t *testing.T, path string, want []byte, mode os.FileMode, uid int) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("%s: content differs (%d bytes, want %d)", path, len(got), len(want))
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != mode {
		t.Fatalf("%s: mode %v, want %v", path, st.Mode().Perm(), mode)
	}
	if owner := int(st.Sys().(*syscall.Stat_t).Uid); owner != uid {
		t.Fatalf("%s: owner %d, want %d", path, owner, uid)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*edgeops*"))
	if len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

func TestUpload(t *testing.T) {
	t.Parallel()
	srv, rootCfg := rootHost(t, sshtest.ServerOptions{})
	u, userCfg := userConfig(t, srv, rootCfg, sshtest.SudoPassword)
	uid := lookupUID(t, u.Name)
	src, content := randomFile(t, 3<<20+123)
	// A root-owned folder the user cannot write.
	rootDir := sshtest.TempDir(t, "rootonly")

	tests := []struct {
		name   string
		cfg    ssh.Config
		target string
		opts   ssh.UploadOptions
		mode   os.FileMode
		uid    int
	}{
		{"root, new folder", rootCfg, filepath.Join(sshtest.TempDir(t, "up"), "a/b/file"), ssh.UploadOptions{}, 0o755, 0},
		{"user, own home", userCfg, filepath.Join(u.Home, "file"), ssh.UploadOptions{}, 0o640, uid},
		{"user, root-owned path through staging and sudo", userCfg, filepath.Join(rootDir, "bin/edgeadm"), ssh.UploadOptions{Sudo: true}, 0o755, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, tt.cfg)
			ctx := testCtx(t)
			var last atomic.Int64
			opts := tt.opts
			opts.Progress = func(done, total int64) {
				if total != int64(len(content)) || done < last.Load() {
					t.Errorf("progress %d/%d after %d", done, total, last.Load())
				}
				last.Store(done)
			}
			res, err := c.Upload(ctx, src, tt.target, tt.mode, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Skipped || res.Sent != int64(len(content)) || last.Load() != int64(len(content)) {
				t.Fatalf("first upload: %+v, progress %d", res, last.Load())
			}
			checkRemote(t, tt.target, content, tt.mode, tt.uid)

			// Same content again: skipped, nothing sent.
			res, err = c.Upload(ctx, src, tt.target, tt.mode, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Skipped || res.Sent != 0 {
				t.Fatalf("re-upload not skipped: %+v", res)
			}
			// Same content, other mode: skipped, mode fixed.
			if res, err = c.Upload(ctx, src, tt.target, 0o600, opts); err != nil || !res.Skipped {
				t.Fatalf("mode change: %+v %v", res, err)
			}
			checkRemote(t, tt.target, content, 0o600, tt.uid)

			// Other content of the same size: replaced.
			other := bytes.Clone(content)
			other[len(other)/2] ^= 0xff
			if res, err = c.UploadBytes(ctx, other, tt.target, tt.mode, tt.opts); err != nil || res.Skipped {
				t.Fatalf("changed content: %+v %v", res, err)
			}
			checkRemote(t, tt.target, other, tt.mode, tt.uid)
			if tt.opts.Sudo {
				staged, _ := filepath.Glob(filepath.Join(u.Home, ".edgeops/staging/*"))
				if len(staged) > 0 {
					t.Fatalf("staging not cleaned: %v", staged)
				}
			}
		})
	}
}

// The join information: a small secret that must end up 0600 root-owned and
// never be readable by others on the way.
func TestUploadBytesSecretAsSudoUser(t *testing.T) {
	t.Parallel()
	srv, rootCfg := rootHost(t, sshtest.ServerOptions{})
	u, cfg := userConfig(t, srv, rootCfg, sshtest.SudoNoPassword)
	c := dial(t, cfg)
	target := filepath.Join(sshtest.TempDir(t, "etc"), "edgeadm/join-info.json")
	secret := []byte(`{"token":"abcdef.0123456789abcdef"}`)
	if _, err := c.UploadBytes(testCtx(t), secret, target, 0o600, ssh.UploadOptions{Sudo: true}); err != nil {
		t.Fatal(err)
	}
	checkRemote(t, target, secret, 0o600, 0)
	st, err := os.Stat(filepath.Join(u.Home, ".edgeops/staging"))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("staging folder: %v %v", st, err)
	}
	// Download it back through sudo; without sudo the user may not read it.
	got, err := c.Download(testCtx(t), target, true)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("download with sudo: %q %v", got, err)
	}
	if _, err := c.Download(testCtx(t), target, false); err == nil {
		t.Fatal("user read a root-only file without sudo")
	}
}

func TestUploadResumesAfterConnectionCut(t *testing.T) {
	t.Parallel()
	srv, cfg := rootHost(t, sshtest.ServerOptions{})
	proxy := sshtest.StartProxy(t, srv.Addr())
	known := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, known, "[127.0.0.1]:"+itoa(proxy.Port)+" "+srv.HostKey+"\n")
	cfg.Port, cfg.KnownHostsFiles = proxy.Port, []string{known}
	c := dial(t, cfg)
	src, content := randomFile(t, 40<<20)
	target := filepath.Join(sshtest.TempDir(t, "up"), "bundle.tar.gz")
	ctx := testCtx(t)

	var cut atomic.Bool
	_, err := c.Upload(ctx, src, target, 0o600, ssh.UploadOptions{Progress: func(done, total int64) {
		if done > total/2 && !cut.Swap(true) {
			proxy.Cut()
		}
	}})
	if err == nil || !cut.Load() {
		t.Fatalf("upload should fail when the connection is cut (cut=%v): %v", cut.Load(), err)
	}
	if _, statErr := os.Stat(target); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatalf("target exists after a cut transfer: %v", statErr)
	}
	part := filepath.Join(filepath.Dir(target), ".bundle.tar.gz.edgeops-part")
	if st, err := os.Stat(part); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("partial file: %v %v", st, err)
	}

	// The same client reconnects and continues from what arrived.
	res, err := c.Upload(ctx, src, target, 0o644, ssh.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed < int64(len(content))/4 || res.Resumed+res.Sent != int64(len(content)) {
		t.Fatalf("not resumed: %+v", res)
	}
	checkRemote(t, target, content, 0o644, 0)
	if proxy.Accepted() != 2 {
		t.Fatalf("connections: %d, want 2 (one reconnect)", proxy.Accepted())
	}

	// A partial file of other content is not trusted.
	target2 := filepath.Join(filepath.Dir(target), "other")
	garbage := bytes.Repeat([]byte{7}, 8<<20)
	writeFile(t, filepath.Join(filepath.Dir(target), ".other.edgeops-part"), string(garbage))
	res, err = c.Upload(ctx, src, target2, 0o644, ssh.UploadOptions{})
	if err != nil || res.Resumed != 0 {
		t.Fatalf("garbage partial: %+v %v", res, err)
	}
	checkRemote(t, target2, content, 0o644, 0)
}

func lookupUID(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) > 3 && f[0] == name {
			var uid int
			for _, ch := range f[2] {
				uid = uid*10 + int(ch-'0')
			}
			return uid
		}
	}
	t.Fatalf("no user %s", name)
	return -1
}

// Cancelling an upload returns promptly, leaves no remote helper running,
// and the next attempt continues from what arrived.
func TestUploadCancel(t *testing.T) {
	t.Parallel()
	_, cfg := rootHost(t, sshtest.ServerOptions{})
	c := dial(t, cfg)
	src, content := randomFile(t, 48<<20)
	target := filepath.Join(sshtest.TempDir(t, "up"), "pkg.tar.gz")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt atomic.Int64
	_, err := c.Upload(ctx, src, target, 0o600, ssh.UploadOptions{Progress: func(done, total int64) {
		if done > total/2 && cancelledAt.Load() == 0 {
			cancelledAt.Store(time.Now().UnixNano())
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if d := time.Since(time.Unix(0, cancelledAt.Load())); d > 15*time.Second {
		t.Fatalf("upload returned %v after cancel", d)
	}
	part := filepath.Join(filepath.Dir(target), ".pkg.tar.gz.edgeops-part")
	// The helpers' group is killed before Upload returns; the setsid and
	// shell wrappers above it exit right after.
	for i := 0; ; i++ {
		pids := processesMentioning(part)
		if len(pids) == 0 {
			break
		}
		if i == 30 {
			t.Fatalf("remote helpers still running: %v", pids)
		}
		time.Sleep(100 * time.Millisecond)
	}
	res, err := c.Upload(testCtx(t), src, target, 0o600, ssh.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed == 0 {
		t.Fatalf("not resumed after cancel: %+v", res)
	}
	checkRemote(t, target, content, 0o600, 0)
}

// processesMentioning lists live processes whose command line contains s.
func processesMentioning(s string) []string {
	var out []string
	for _, pid := range remoteProcessesAll() {
		b, err := os.ReadFile("/proc/" + pid + "/cmdline")
		if err != nil || !strings.Contains(string(b), s) {
			continue
		}
		if st, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil && strings.Contains(string(st), ") Z ") {
			continue
		}
		out = append(out, pid+":"+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return out
}

// A partial file left root-owned in the staging folder (a privileged move
// cut half-way) is replaced, not a dead end.
func TestUploadReplacesUnreadablePartial(t *testing.T) {
	t.Parallel()
	srv, rootCfg := rootHost(t, sshtest.ServerOptions{})
	u, cfg := userConfig(t, srv, rootCfg, sshtest.SudoNoPassword)
	c := dial(t, cfg)
	src, content := randomFile(t, 6<<20)
	target := filepath.Join(sshtest.TempDir(t, "rootonly"), "f")
	// The first upload creates the staging folder; find the partial's name.
	if _, err := c.Upload(testCtx(t), src, target, 0o644, ssh.UploadOptions{Sudo: true}); err != nil {
		t.Fatal(err)
	}
	os.Remove(target)
	staging := filepath.Join(u.Home, ".edgeops/staging")
	partial := filepath.Join(staging, "leftover.part")
	entries, _ := os.ReadDir(staging)
	if len(entries) != 0 {
		t.Fatalf("staging not empty: %v", entries)
	}
	// Recreate what a cut move leaves: the staged name, root-owned, 0600.
	res, err := c.Upload(testCtx(t), src, target, 0o644, ssh.UploadOptions{Sudo: true, Progress: func(done, total int64) {
		if done == 0 {
			matches, _ := filepath.Glob(filepath.Join(staging, "*.part"))
			for _, m := range matches {
				partial = m
			}
		}
	}})
	if err != nil || res.Skipped {
		t.Fatalf("%+v %v", res, err)
	}
	os.Remove(target)
	writeFile(t, partial, string(content[:4<<20]))
	if err := os.Chown(partial, 0, 0); err != nil {
		t.Fatal(err)
	}
	res, err = c.Upload(testCtx(t), src, target, 0o644, ssh.UploadOptions{Sudo: true})
	if err != nil {
		t.Fatalf("upload over a root-owned partial: %v", err)
	}
	if res.Resumed != 0 {
		t.Fatalf("resumed from an unreadable partial: %+v", res)
	}
	checkRemote(t, target, content, 0o644, 0)
}
