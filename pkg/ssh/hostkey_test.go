package ssh_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/pkg/ssh"
	"github.com/edgeops/edgeops/pkg/ssh/sshtest"
	gossh "golang.org/x/crypto/ssh"
)

func fingerprint(t *testing.T, authorizedLine string) string {
	t.Helper()
	k, _, _, _, err := gossh.ParseAuthorizedKey([]byte(authorizedLine))
	if err != nil {
		t.Fatal(err)
	}
	return gossh.FingerprintSHA256(k)
}

func TestHostKeyPolicies(t *testing.T) {
	t.Parallel()
	srv, base := rootHost(t, sshtest.ServerOptions{})
	offered := fingerprint(t, srv.HostKey)
	other := sshtest.StartServer(t, sshtest.ServerOptions{}) // its key stands for "the old key"

	t.Run("strict refuses unknown host with fingerprint and accept command", func(t *testing.T) {
		cfg := base
		known := sshtest.TempDir(t, "kh") + "/known_hosts"
		cfg.KnownHostsFiles = []string{known}
		_, err := ssh.Dial(testCtx(t), cfg)
		var he *ssh.HostKeyError
		if !errors.As(err, &he) || he.Changed {
			t.Fatalf("want unknown-host *HostKeyError, got %v", err)
		}
		if !strings.Contains(err.Error(), offered) || !strings.Contains(err.Error(), he.AcceptCommand) || he.AcceptCommand == "" {
			t.Fatalf("message should show %s and the accept command: %v", offered, err)
		}
		// The command it prints really accepts the host.
		if out, err := exec.Command("sh", "-c", he.AcceptCommand).CombinedOutput(); err != nil {
			t.Fatalf("accept command: %v\n%s", err, out)
		}
		c := dial(t, cfg)
		if _, err := c.Run(testCtx(t), "true"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("accept-new appends a hashed entry", func(t *testing.T) {
		cfg := base
		known := sshtest.TempDir(t, "kh") + "/sub/known_hosts" // directory made as needed
		cfg.KnownHostsFiles = []string{known}
		cfg.HostKeyPolicy = ssh.HostKeyAcceptNew
		dial(t, cfg).Close()
		b, err := os.ReadFile(known)
		if err != nil {
			t.Fatal(err)
		}
		line := strings.TrimSpace(string(b))
		if !strings.HasPrefix(line, "|1|") || strings.Contains(line, "127.0.0.1") || !strings.HasSuffix(line, strings.Fields(srv.HostKey)[1]) {
			t.Fatalf("want one hashed entry with the host key, got %q", line)
		}
		if st, _ := os.Stat(known); st.Mode().Perm()&0o077 != 0 {
			t.Fatalf("known_hosts mode %v is readable by others", st.Mode())
		}
		// Now known: strict accepts it, and nothing more is appended.
		cfg.HostKeyPolicy = ssh.HostKeyStrict
		dial(t, cfg).Close()
		cfg.HostKeyPolicy = ssh.HostKeyAcceptNew
		dial(t, cfg).Close()
		if b2, _ := os.ReadFile(known); string(b2) != string(b) {
			t.Fatalf("known host appended again:\n%s", b2)
		}
	})

	for _, policy := range []ssh.HostKeyPolicy{ssh.HostKeyStrict, ssh.HostKeyAcceptNew} {
		t.Run("changed key refused, not retried, "+string(policy), func(t *testing.T) {
			proxy := sshtest.StartProxy(t, srv.Addr())
			known := sshtest.TempDir(t, "kh") + "/known_hosts"
			oldLine := "[127.0.0.1]:" + itoa(proxy.Port) + " " + other.HostKey + "\n"
			writeFile(t, known, oldLine)
			cfg := base
			cfg.Port, cfg.KnownHostsFiles, cfg.HostKeyPolicy, cfg.DialAttempts = proxy.Port, []string{known}, policy, 5
			_, err := ssh.Dial(testCtx(t), cfg)
			var he *ssh.HostKeyError
			if !errors.As(err, &he) || !he.Changed {
				t.Fatalf("want changed-key *HostKeyError, got %v", err)
			}
			want := fingerprint(t, other.HostKey)
			if he.Offered != offered || len(he.Expected) != 1 || !strings.Contains(he.Expected[0], want) {
				t.Fatalf("offered %s expected %v; want offered %s expected %s", he.Offered, he.Expected, offered, want)
			}
			if msg := err.Error(); !strings.Contains(msg, offered) || !strings.Contains(msg, want) {
				t.Fatalf("message should show both fingerprints: %s", msg)
			}
			if n := proxy.Accepted(); n != 1 {
				t.Fatalf("changed host key dialed %d times, want 1", n)
			}
			if b, _ := os.ReadFile(known); string(b) != oldLine {
				t.Fatalf("known_hosts modified: %s", b)
			}
		})
	}
}

func TestHostKeyAlgorithmFollowsKnownHosts(t *testing.T) {
	t.Parallel()
	// The server has ed25519, ecdsa and rsa keys; known_hosts only the
	// ed25519 one. Negotiating ecdsa (x/crypto's first choice) would look
	// like a changed key.
	srv := sshtest.StartServer(t, sshtest.ServerOptions{HostKeyType: "ed25519", MoreHostKeyTypes: []string{"ecdsa", "rsa"}})
	key := sshtest.NewKey(t, "ed25519", "")
	srv.Authorize(t, "root", key.Public)
	cfg := ssh.Config{Address: srv.Host, Port: srv.Port, IdentityFiles: []string{key.Path}, KnownHostsFiles: []string{srv.KnownHosts(t)}, NoUserKnownHosts: true}
	dial(t, cfg).Close()
}
