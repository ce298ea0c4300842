package sshtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ServerOptions configures a test sshd.
type ServerOptions struct {
	// HostKeyType is the host key type (ed25519 default, ecdsa, rsa).
	HostKeyType string
	// MoreHostKeyTypes adds host keys the known_hosts line does not show.
	MoreHostKeyTypes []string
	// Password enables PasswordAuthentication.
	Password bool
	// KeyboardInteractive enables keyboard-interactive through PAM.
	KeyboardInteractive bool
	// LogLevel of sshd (default VERBOSE; DEBUG1 shows forwarding requests).
	LogLevel string
	// Extra lines appended to sshd_config (the first value of a keyword wins).
	Extra []string
}

// Server is a real OpenSSH sshd listening on 127.0.0.1.
type Server struct {
	Host string // 127.0.0.1
	Port int
	Dir  string // config, host key, authorized keys
	// HostKey is the public host key line ("ssh-ed25519 AAAA...").
	HostKey string

	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// KnownHostsLine is the known_hosts entry for this server.
func (s *Server) KnownHostsLine() string {
	return fmt.Sprintf("[%s]:%d %s", s.Host, s.Port, s.HostKey)
}

// Log is what sshd printed so far.
func (s *Server) Log() string { return s.log.String() }

// StartServer runs sshd with a fresh host key on a free port and stops it
// when the test ends.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	Require(t)
	dir := TempDir(t, "sshd")
	if opts.LogLevel == "" {
		opts.LogLevel = "VERBOSE"
	}
	if opts.HostKeyType == "" {
		opts.HostKeyType = "ed25519"
	}
	hostKey := filepath.Join(dir, "ssh_host_"+opts.HostKeyType+"_key")
	run(t, "ssh-keygen", "-q", "-t", opts.HostKeyType, "-N", "", "-C", "sshtest-host", "-f", hostKey)
	pub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(pub))
	keysDir := filepath.Join(dir, "authorized_keys")
	if err := os.MkdirAll(keysDir, 0o755); err != nil {
		t.Fatal(err)
	}
	yesno := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	port := FreePort(t)
	var moreKeys []string
	for _, typ := range opts.MoreHostKeyTypes {
		p := filepath.Join(dir, "ssh_host_"+typ+"_key")
		run(t, "ssh-keygen", "-q", "-t", typ, "-N", "", "-C", "sshtest-host", "-f", p)
		moreKeys = append(moreKeys, "HostKey "+p)
	}
	cfg := []string{
		"Port " + strconv.Itoa(port),
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(keysDir, "%u"),
		"StrictModes no",
		"PermitRootLogin yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication " + yesno(opts.Password),
		"KbdInteractiveAuthentication " + yesno(opts.KeyboardInteractive),
		"UsePAM " + yesno(opts.KeyboardInteractive),
		"AllowTcpForwarding yes",
		"MaxStartups 100",
		"MaxSessions 20",
		"MaxAuthTries 10",
		"LogLevel " + opts.LogLevel,
		"Subsystem sftp " + SFTPServer,
	}
	cfg = append(cfg, moreKeys...)
	cfg = append(cfg, opts.Extra...)
	cfgPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(strings.Join(cfg, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{Host: "127.0.0.1", Port: port, Dir: dir, HostKey: fields[0] + " " + fields[1], log: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(SSHD, "-D", "-e", "-f", cfgPath)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// A test binary killed by its timeout must not leave sshd behind.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("sshd %s log:\n%s", s.Addr(), s.Log())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("sshd exited: %s", s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd on %s not ready: %v\n%s", s.Addr(), err, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Authorize lets user log in with the public key line pub.
func (s *Server) Authorize(t testing.TB, user, pub string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys", user), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.TrimSpace(pub) + "\n"); err != nil {
		t.Fatal(err)
	}
}

// KnownHosts writes a known_hosts file with this server's entry and returns its path.
func (s *Server) KnownHosts(t testing.TB) string {
	t.Helper()
	p := filepath.Join(TempDir(t, "known"), "known_hosts")
	if err := os.WriteFile(p, []byte(s.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Stop terminates sshd (its listener; sessions already forked may linger
// until their connections close).
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		<-s.done
	}
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TempDir makes a directory that other users can traverse (sshd reads
// authorized keys as the user) and removes it at the end of the test.
func TempDir(t testing.TB, prefix string) string {
	t.Helper()
	d, err := os.MkdirTemp("", "edgeops-sshtest-"+prefix+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
