package ssh_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/ssh"
	"github.com/edgeops/edgeops/pkg/ssh/sshtest"
)

// rootHost starts an sshd that root may log into with a fresh ed25519 key
// and returns a Config for it.
func rootHost(t *testing.T, opts sshtest.ServerOptions) (*sshtest.Server, ssh.Config) {
	t.Helper()
	srv := sshtest.StartServer(t, opts)
	key := sshtest.NewKey(t, "ed25519", "")
	srv.Authorize(t, "root", key.Public)
	return srv, ssh.Config{
		Name:            "h-" + filepath.Base(srv.Dir),
		Address:         srv.Host,
		Port:            srv.Port,
		User:            "root",
		IdentityFiles:   []string{key.Path},
		KnownHostsFiles: []string{srv.KnownHosts(t)}, NoUserKnownHosts: true,
	}
}

// userHost adds a user with the given sudo rights to srv and returns a
// Config that logs in as that user with a key.
func userConfig(t *testing.T, srv *sshtest.Server, base ssh.Config, sudo sshtest.SudoRights) (*sshtest.User, ssh.Config) {
	t.Helper()
	u := sshtest.NewUser(t, sudo)
	key := sshtest.NewKey(t, "ed25519", "")
	srv.Authorize(t, u.Name, key.Public)
	cfg := base
	cfg.User = u.Name
	cfg.IdentityFiles = []string{key.Path}
	if sudo == sshtest.SudoPassword {
		cfg.Sudo.Password = ssh.Secret{File: secretFile(t, u.Password)}
	}
	return u, cfg
}

func secretFile(t *testing.T, secret string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func dial(t *testing.T, cfg ssh.Config) *ssh.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := ssh.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
