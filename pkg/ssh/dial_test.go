package ssh_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/ssh"
	"github.com/edgeops/edgeops/pkg/ssh/sshtest"
)

// silentListener accepts TCP connections and never answers (a black hole
// after the TCP handshake).
func silentListener(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	key := sshtest.NewKey(t, "ed25519", "")
	closedPort := sshtest.FreePort(t)
	silent := silentListener(t)
	tests := []struct {
		name        string
		port        int
		timeout     time.Duration
		ctxTimeout  time.Duration
		attempts    int
		wantIs      error
		maxDuration time.Duration
	}{
		{"refused, retried", closedPort, time.Second, 10 * time.Second, 3, syscall.ECONNREFUSED, 5 * time.Second},
		{"handshake timeout from config", silent, 300 * time.Millisecond, 10 * time.Second, 1, context.DeadlineExceeded, 3 * time.Second},
		{"context deadline earlier than timeout", silent, 30 * time.Second, 400 * time.Millisecond, 3, context.DeadlineExceeded, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), tt.ctxTimeout)
			defer cancel()
			cfg := ssh.Config{Name: "gone", Address: "127.0.0.1", Port: tt.port, IdentityFiles: []string{key.Path},
				KnownHostsFiles: []string{t.TempDir() + "/kh"}, NoUserKnownHosts: true, ConnectTimeout: tt.timeout, DialAttempts: tt.attempts}
			begin := time.Now()
			_, err := ssh.Dial(ctx, cfg)
			var ue *ssh.UnreachableError
			if !errors.As(err, &ue) || !errors.Is(err, tt.wantIs) {
				t.Fatalf("want *UnreachableError wrapping %v, got %v", tt.wantIs, err)
			}
			if ue.Host != "gone" || !strings.Contains(err.Error(), "host gone") {
				t.Fatalf("error does not name the host: %v", err)
			}
			if tt.wantIs == syscall.ECONNREFUSED && ue.Attempts != tt.attempts {
				t.Fatalf("attempts %d, want %d", ue.Attempts, tt.attempts)
			}
			if d := time.Since(begin); d > tt.maxDuration {
				t.Fatalf("took %v", d)
			}
		})
	}
}

func TestReconnectAfterConnectionDrop(t *testing.T) {
	t.Parallel()
	srv, cfg := rootHost(t, sshtest.ServerOptions{})
	proxy := sshtest.StartProxy(t, srv.Addr())
	cfg.Port, cfg.KnownHostsFiles = proxy.Port, []string{t.TempDir() + "/kh"}
	writeFile(t, cfg.KnownHostsFiles[0], "[127.0.0.1]:"+itoa(proxy.Port)+" "+srv.HostKey+"\n")
	cfg.KeepaliveInterval = 200 * time.Millisecond
	c := dial(t, cfg)
	for i := range 3 {
		res, err := c.Run(testCtx(t), "echo up")
		if err != nil || strings.TrimSpace(string(res.Stdout)) != "up" {
			t.Fatalf("run %d: %v", i, err)
		}
		proxy.Cut()
	}
	if n := proxy.Accepted(); n != 3 {
		t.Fatalf("connections %d, want 3", n)
	}
	c.Close()
	if _, err := c.Run(testCtx(t), "true"); !errors.Is(err, ssh.ErrClosed) {
		t.Fatalf("run after Close: %v", err)
	}
}

func TestBastionChain(t *testing.T) {
	t.Parallel()
	// Two jump hosts, each with its own user, key and known_hosts, then the target.
	b1, b1cfg := rootHost(t, sshtest.ServerOptions{LogLevel: "DEBUG1"})
	b2, b2root := rootHost(t, sshtest.ServerOptions{LogLevel: "DEBUG1"})
	_, b2cfg := userConfig(t, b2, b2root, sshtest.NoSudo)
	target, tcfg := rootHost(t, sshtest.ServerOptions{})
	tcfg.Bastions = []ssh.Config{b1cfg, b2cfg}
	c := dial(t, tcfg)
	res, err := c.Run(testCtx(t), "echo $SSH_CONNECTION")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Stdout), " "+itoa(target.Port)) {
		t.Fatalf("not on the target: %q", res.Stdout)
	}
	// Each hop authenticated on its own server, the target through the last.
	for name, srv := range map[string]*sshtest.Server{"bastion 1": b1, "bastion 2": b2, "target": target} {
		if !strings.Contains(srv.Log(), "Accepted publickey") {
			t.Fatalf("%s saw no login:\n%s", name, srv.Log())
		}
	}
	// Bastion 1 opened the way to bastion 2, bastion 2 to the target.
	for _, hop := range []struct {
		srv  *sshtest.Server
		next int
	}{{b1, b2.Port}, {b2, target.Port}} {
		if want := "target 127.0.0.1 port " + itoa(hop.next); !strings.Contains(hop.srv.Log(), want) {
			t.Fatalf("bastion log lacks %q:\n%s", want, hop.srv.Log())
		}
	}

	// A tunnel through the chain to a TCP service beside the target.
	echo := echoServer(t)
	addr, closer, err := c.Forward(testCtx(t), echo)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	checkEcho(t, addr)

	// A bastion with an unknown host key stops the chain with a HostKeyError.
	bad := tcfg
	bad.Bastions = []ssh.Config{b1cfg, b2cfg}
	bad.Bastions[1].KnownHostsFiles = []string{t.TempDir() + "/empty"}
	_, err = ssh.Dial(testCtx(t), bad)
	var he *ssh.HostKeyError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "bastion 2") {
		t.Fatalf("want bastion 2 *HostKeyError, got %v", err)
	}
}

func TestForward(t *testing.T) {
	t.Parallel()
	_, cfg := rootHost(t, sshtest.ServerOptions{})
	c := dial(t, cfg)
	echo := echoServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	addr, closer, err := c.Forward(ctx, echo)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		checkEcho(t, addr)
	}
	// Closing stops the listener.
	closer.Close()
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("tunnel still listening after Close")
	}
	// So does cancelling its context.
	addr, _, err = c.Forward(ctx, echo)
	if err != nil {
		t.Fatal(err)
	}
	checkEcho(t, addr)
	cancel()
	time.Sleep(100 * time.Millisecond)
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("tunnel still listening after cancel")
	}
}

func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func checkEcho(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	msg := []byte("through the tunnel")
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != string(msg) {
		t.Fatalf("echo %q %v", got, err)
	}
}

// A peer that silently vanished is noticed by the keepalive; the next call
// gets a fresh connection instead of hanging.
func TestKeepaliveDetectsDeadPeer(t *testing.T) {
	t.Parallel()
	srv, cfg := rootHost(t, sshtest.ServerOptions{})
	proxy := sshtest.StartProxy(t, srv.Addr())
	cfg.Port, cfg.KnownHostsFiles = proxy.Port, []string{t.TempDir() + "/kh"}
	writeFile(t, cfg.KnownHostsFiles[0], "[127.0.0.1]:"+itoa(proxy.Port)+" "+srv.HostKey+"\n")
	cfg.KeepaliveInterval = 100 * time.Millisecond
	c := dial(t, cfg)
	if _, err := c.Run(testCtx(t), "true"); err != nil {
		t.Fatal(err)
	}
	proxy.Freeze()
	time.Sleep(time.Second) // > 3 keepalive intervals
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Run(ctx, "echo back")
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "back" {
		t.Fatalf("after a dead peer: %v", err)
	}
	if n := proxy.Accepted(); n != 2 {
		t.Fatalf("connections %d, want 2", n)
	}
}

// A bastion that cannot reach the target (refused) is a transient failure:
// retried, then reported as unreachable through that bastion.
func TestBastionTargetRefused(t *testing.T) {
	t.Parallel()
	_, bcfg := rootHost(t, sshtest.ServerOptions{})
	key := sshtest.NewKey(t, "ed25519", "")
	cfg := ssh.Config{Name: "behind", Address: "127.0.0.1", Port: sshtest.FreePort(t), IdentityFiles: []string{key.Path},
		KnownHostsFiles: []string{t.TempDir() + "/kh"}, NoUserKnownHosts: true, DialAttempts: 2, Bastions: []ssh.Config{bcfg}}
	_, err := ssh.Dial(testCtx(t), cfg)
	var ue *ssh.UnreachableError
	if !errors.As(err, &ue) || ue.Via != bcfg.Name || ue.Attempts != 2 {
		t.Fatalf("want *UnreachableError via %s after 2 attempts, got %v", bcfg.Name, err)
	}
}
