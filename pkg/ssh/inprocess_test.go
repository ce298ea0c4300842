package ssh_test

import (
	"crypto/ed25519"
	"crypto/rand"
	pemlib "encoding/pem"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/pkg/ssh"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// brokenServer is an in-process SSH server for failures real sshd does not
// produce on demand. It accepts any public key; sessions are handled by
// onSession.
func brokenServer(t *testing.T, onSession func(gossh.NewChannel)) ssh.Config {
	t.Helper()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, err := gossh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	conf := &gossh.ServerConfig{PublicKeyCallback: func(gossh.ConnMetadata, gossh.PublicKey) (*gossh.Permissions, error) { return nil, nil }}
	conf.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_, chans, reqs, err := gossh.NewServerConn(nc, conf)
				if err != nil {
					return
				}
				go gossh.DiscardRequests(reqs)
				for nch := range chans {
					go onSession(nch)
				}
			}()
		}
	}()

	dir := t.TempDir()
	_, userPriv, _ := ed25519.GenerateKey(rand.Reader)
	pem, err := gossh.MarshalPrivateKey(userPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "id")
	writeFile(t, keyPath, string(pemlib.EncodeToMemory(pem)))
	known := filepath.Join(dir, "known_hosts")
	writeFile(t, known, knownhosts.Line([]string{knownhosts.Normalize(ln.Addr().String())}, hostSigner.PublicKey())+"\n")
	port := ln.Addr().(*net.TCPAddr).Port
	return ssh.Config{Name: "fake", Address: "127.0.0.1", Port: port, IdentityFiles: []string{keyPath}, KnownHostsFiles: []string{known}, NoUserKnownHosts: true}
}

func TestRareServerFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		onSession func(gossh.NewChannel)
		want      string
	}{
		{"session refused", func(nch gossh.NewChannel) {
			nch.Reject(gossh.ResourceShortage, "no more sessions")
		}, "no more sessions"},
		{"exec refused", func(nch gossh.NewChannel) {
			ch, reqs, _ := nch.Accept()
			for r := range reqs {
				r.Reply(false, nil)
				ch.Close()
			}
		}, "start"},
		{"channel closed without exit status", func(nch gossh.NewChannel) {
			ch, reqs, _ := nch.Accept()
			for r := range reqs {
				r.Reply(true, nil)
				ch.Write([]byte("partial output\n"))
				ch.Close()
			}
		}, "before the command reported an exit status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, brokenServer(t, tt.onSession))
			_, err := c.Run(testCtx(t), "true")
			var ee *ssh.ExitError
			if err == nil || errors.As(err, &ee) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "host fake") {
				t.Fatalf("want an error naming host fake and %q (not an exit status), got %v", tt.want, err)
			}
		})
	}
}
