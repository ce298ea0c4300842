package ssh_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/ssh"
	"github.com/edgeops/edgeops/pkg/ssh/sshtest"
)

func TestAuthMethods(t *testing.T) {
	t.Parallel()
	srv := sshtest.StartServer(t, sshtest.ServerOptions{Password: true})
	known := srv.KnownHosts(t)
	pwUser := sshtest.NewUser(t, sshtest.NoSudo)

	keyFor := func(typ, pass string) *sshtest.Key {
		k := sshtest.NewKey(t, typ, pass)
		srv.Authorize(t, "root", k.Public)
		return k
	}
	ed, ec, rsa := keyFor("ed25519", ""), keyFor("ecdsa", ""), keyFor("rsa", "")
	enc := keyFor("ed25519", "correct horse")
	agentKey := keyFor("ecdsa", "")
	stranger := sshtest.NewKey(t, "ed25519", "") // not authorized
	sock := sshtest.StartAgent(t, agentKey)

	base := ssh.Config{Name: "authhost", Address: srv.Host, Port: srv.Port, User: "root", KnownHostsFiles: []string{known}, NoUserKnownHosts: true, DialAttempts: 3}
	tests := []struct {
		name     string
		mod      func(*ssh.Config)
		wantUser string
		wantErr  string // substring of the *AuthError; empty means success
	}{
		{"ed25519 key", func(c *ssh.Config) { c.IdentityFiles = []string{ed.Path} }, "root", ""},
		{"ecdsa key", func(c *ssh.Config) { c.IdentityFiles = []string{ec.Path} }, "root", ""},
		{"rsa key", func(c *ssh.Config) { c.IdentityFiles = []string{rsa.Path} }, "root", ""},
		{"encrypted key with passphrase file", func(c *ssh.Config) {
			c.IdentityFiles = []string{enc.Path}
			c.Passphrase = ssh.Secret{File: secretFile(t, enc.Passphrase)}
		}, "root", ""},
		{"unauthorized key then a good one", func(c *ssh.Config) { c.IdentityFiles = []string{stranger.Path, ed.Path} }, "root", ""},
		{"agent", func(c *ssh.Config) { c.UseAgent, c.AgentSocket = true, sock }, "root", ""},
		{"password", func(c *ssh.Config) {
			c.User = pwUser.Name
			c.Password = ssh.Secret{File: secretFile(t, pwUser.Password)}
		}, pwUser.Name, ""},
		{"wrong key", func(c *ssh.Config) { c.IdentityFiles = []string{stranger.Path} }, "", "publickey[id_ed25519]"},
		{"wrong password", func(c *ssh.Config) {
			c.User = pwUser.Name
			c.Password = ssh.Secret{File: secretFile(t, "not-the-password")}
		}, "", "password"},
		{"encrypted key without passphrase", func(c *ssh.Config) { c.IdentityFiles = []string{enc.Path} }, "", "is encrypted and no passphrase"},
		{"encrypted key with wrong passphrase", func(c *ssh.Config) {
			c.IdentityFiles = []string{enc.Path}
			c.Passphrase = ssh.Secret{File: secretFile(t, "wrong")}
		}, "", "decrypt with the configured passphrase"},
		{"agent socket missing", func(c *ssh.Config) { c.UseAgent, c.AgentSocket = true, sock+".gone" }, "", "connect to ssh-agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			tt.mod(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := ssh.Dial(ctx, cfg)
			if tt.wantErr != "" {
				var ae *ssh.AuthError
				if !errors.As(err, &ae) {
					t.Fatalf("want *AuthError, got %T %v", err, err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "authhost") {
					t.Fatalf("error %q should name the host and contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			res, err := c.Run(ctx, "id -un")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(res.Stdout)); got != tt.wantUser {
				t.Fatalf("logged in as %q, want %q", got, tt.wantUser)
			}
		})
	}
}

func TestAuthFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	srv := sshtest.StartServer(t, sshtest.ServerOptions{})
	proxy := sshtest.StartProxy(t, srv.Addr())
	stranger := sshtest.NewKey(t, "ed25519", "")
	known := sshtest.TempDir(t, "kh") + "/known_hosts"
	writeFile(t, known, "[127.0.0.1]:"+itoa(proxy.Port)+" "+srv.HostKey+"\n")
	cfg := ssh.Config{Address: "127.0.0.1", Port: proxy.Port, User: "root", IdentityFiles: []string{stranger.Path}, KnownHostsFiles: []string{known}, NoUserKnownHosts: true, DialAttempts: 5}
	_, err := ssh.Dial(testCtx(t), cfg)
	var ae *ssh.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("want *AuthError, got %v", err)
	}
	if n := proxy.Accepted(); n != 1 {
		t.Fatalf("auth failure dialed %d times, want 1", n)
	}
}

func TestKeyboardInteractive(t *testing.T) {
	t.Parallel()
	srv := sshtest.StartServer(t, sshtest.ServerOptions{KeyboardInteractive: true})
	u := sshtest.NewUser(t, sshtest.NoSudo)
	cfg := ssh.Config{Address: srv.Host, Port: srv.Port, User: u.Name, KnownHostsFiles: []string{srv.KnownHosts(t)}, NoUserKnownHosts: true,
		KeyboardInteractive: true, Password: ssh.Secret{File: secretFile(t, u.Password)}}
	c := dial(t, cfg)
	res, err := c.Run(testCtx(t), "id -un")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(res.Stdout)); got != u.Name {
		t.Fatalf("logged in as %q, want %q", got, u.Name)
	}
}
