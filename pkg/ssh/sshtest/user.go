package sshtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// SudoRights is what a test user may do with sudo.
type SudoRights int

const (
	NoSudo         SudoRights = iota
	SudoNoPassword            // NOPASSWD: ALL
	SudoPassword              // ALL, asks for the user's password
)

// User is a local Unix account made for one test.
type User struct {
	Name     string
	Home     string
	Password string
}

// NewUser creates a user with a random password and the given sudo rights,
// and deletes it (home, sudoers entry) when the test ends.
func NewUser(t testing.TB, sudo SudoRights) *User {
	t.Helper()
	Require(t)
	u := &User{Name: "eot" + randHex(t, 5), Password: randHex(t, 12)}
	u.Home = "/home/" + u.Name
	sudoers := filepath.Join("/etc/sudoers.d", u.Name)
	withUserLock(t, func() {
		run(t, "useradd", "-m", "-s", "/bin/sh", u.Name)
		// A set password also unlocks the account (sshd refuses locked ones).
		cmd := exec.Command("chpasswd")
		cmd.Stdin = strings.NewReader(u.Name + ":" + u.Password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("chpasswd: %v\n%s", err, out)
		}
	})
	t.Cleanup(func() {
		os.Remove(sudoers)
		withUserLock(t, func() { exec.Command("userdel", "-r", "-f", u.Name).Run() })
	})
	var rule string
	switch sudo {
	case SudoNoPassword:
		rule = u.Name + " ALL=(ALL) NOPASSWD: ALL\n"
	case SudoPassword:
		rule = u.Name + " ALL=(ALL) ALL\n"
	}
	if rule != "" {
		if err := os.WriteFile(sudoers, []byte(rule), 0o440); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// Key is a private key file made with ssh-keygen.
type Key struct {
	Path       string // private key file (0600)
	Public     string // authorized_keys line
	Passphrase string
}

// NewKey makes a key of type typ (ed25519, ecdsa, rsa), encrypted when
// passphrase is not empty.
func NewKey(t testing.TB, typ, passphrase string) *Key {
	t.Helper()
	Require(t)
	p := filepath.Join(TempDir(t, "key"), "id_"+typ)
	args := []string{"-q", "-t", typ, "-N", passphrase, "-C", "sshtest", "-f", p}
	if typ == "rsa" {
		args = append(args, "-b", "2048")
	}
	run(t, "ssh-keygen", args...)
	pub, err := os.ReadFile(p + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return &Key{Path: p, Public: strings.TrimSpace(string(pub)), Passphrase: passphrase}
}

// withUserLock serialises account changes: useradd/userdel of parallel
// tests (and test processes) would fail on the /etc/passwd lock.
func withUserLock(t testing.TB, f func()) {
	lock, err := os.OpenFile("/tmp/edgeops-sshtest-users.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	f()
}

func randHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
