// Package sshtest starts real OpenSSH servers, users, keys and agents on
// this machine for integration tests. It needs root (it runs sshd, useradd
// and writes /etc/sudoers.d) and installs Debian's openssh-server,
// openssh-client and sudo with apt-get when they are missing.
package sshtest

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// Paths of the OpenSSH programs the helpers run.
const (
	SSHD       = "/usr/sbin/sshd"
	SFTPServer = "/usr/lib/openssh/sftp-server"
)

// Require skips t unless running as root (everything here needs root) and
// installs the OpenSSH server, client and sudo when missing.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sshtest: integration tests with real sshd need root (make test runs them as root)")
	}
	if err := ensureInstalled(); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}

func ensureInstalled() error {
	need := false
	for _, p := range []string{SSHD, SFTPServer, "/usr/bin/ssh-keygen", "/usr/bin/ssh-agent", "/usr/bin/scp", "/usr/bin/sudo"} {
		if _, err := os.Stat(p); err != nil {
			need = true
		}
	}
	if need {
		// Test packages run in parallel; one apt-get at a time.
		lock, err := os.OpenFile("/tmp/edgeops-sshtest-install.lock", os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return err
		}
		defer lock.Close()
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			return err
		}
		if _, err := os.Stat(SSHD); err != nil || !exists("/usr/bin/sudo") || !exists(SFTPServer) {
			env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			for _, args := range [][]string{
				{"apt-get", "update", "-qq"},
				{"apt-get", "install", "-y", "-qq", "--no-install-recommends", "openssh-server", "openssh-client", "openssh-sftp-server", "sudo"},
			} {
				cmd := exec.Command(args[0], args[1:]...)
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					return fmt.Errorf("%v: %v\n%s", args, err, out)
				}
			}
		}
	}
	// sshd's privilege separation directory (systemd makes it on real hosts).
	return os.MkdirAll("/run/sshd", 0o755)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
