package ssh_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/pkg/ssh"
	"github.com/edgeops/edgeops/pkg/ssh/sshtest"
)

func TestSudo(t *testing.T) {
	t.Parallel()
	srv, rootCfg := rootHost(t, sshtest.ServerOptions{})
	nopwUser, nopw := userConfig(t, srv, rootCfg, sshtest.SudoNoPassword)
	pwUser, pw := userConfig(t, srv, rootCfg, sshtest.SudoPassword)
	noneUser, none := userConfig(t, srv, rootCfg, sshtest.NoSudo)
	wrongPW := pw
	wrongPW.Sudo.Password = ssh.Secret{File: secretFile(t, "wrong-password")}
	noneWithPW := none
	noneWithPW.Sudo.Password = ssh.Secret{File: secretFile(t, noneUser.Password)}

	tests := []struct {
		name    string
		cfg     ssh.Config
		user    string
		wantErr string // substring of a *SudoError
	}{
		{"root needs no sudo", rootCfg, "root", ""},
		{"passwordless sudo", nopw, nopwUser.Name, ""},
		{"sudo with password on stdin", pw, pwUser.Name, ""},
		{"password sudo without a configured password", func() ssh.Config { c := pw; c.Sudo = ssh.SudoConfig{}; return c }(), pwUser.Name, "no sudo password is configured"},
		{"wrong sudo password", wrongPW, pwUser.Name, "password was rejected"},
		{"user without sudo rights", none, noneUser.Name, "password is required"},
		{"user without sudo rights, password configured", noneWithPW, noneUser.Name, "not in the sudoers file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, tt.cfg)
			ctx := testCtx(t)
			// stdin must reach the command intact after sudo took its password line.
			res, err := c.Run(ctx, `id -u; cat; printf '%s' "$X"`, ssh.WithSudo(), ssh.WithStdin(strings.NewReader("payload\n")), ssh.WithEnv(map[string]string{"X": "kept"}))
			if tt.wantErr != "" {
				var se *ssh.SudoError
				if !errors.As(err, &se) {
					t.Fatalf("want *SudoError, got %v", err)
				}
				if msg := err.Error(); !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, tt.user) || !strings.Contains(msg, tt.cfg.Name) {
					t.Fatalf("error %q should name host %s, user %s and say %q", msg, tt.cfg.Name, tt.user, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(res.Stdout); got != "0\npayload\nkept" {
				t.Fatalf("stdout %q", got)
			}
			// Without WithSudo the command runs as the login user.
			res, err = c.Run(ctx, "id -un")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(res.Stdout)); got != tt.user {
				t.Fatalf("ran as %q, want %q", got, tt.user)
			}
		})
	}
}

// The sudo password must never be visible in a process's arguments or
// environment on the host.
func TestSudoPasswordNotInArgvOrEnv(t *testing.T) {
	t.Parallel()
	srv, rootCfg := rootHost(t, sshtest.ServerOptions{})
	u, cfg := userConfig(t, srv, rootCfg, sshtest.SudoPassword)
	c := dial(t, cfg)
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(testCtx(t), "sleep 1.5", ssh.WithSudo())
		done <- err
	}()
	leaks := map[string]bool{}
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if len(leaks) > 0 {
				t.Fatalf("sudo password visible in %v", leaks)
			}
			return
		default:
		}
		for _, pid := range remoteProcessesAll() {
			for _, f := range []string{"cmdline", "environ"} {
				if b, err := os.ReadFile("/proc/" + pid + "/" + f); err == nil && strings.Contains(string(b), u.Password) {
					leaks[pid+"/"+f] = true
				}
			}
		}
	}
}

func remoteProcessesAll() []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		if e.Name()[0] >= '0' && e.Name()[0] <= '9' {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
