//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/bundles"
)

// sudoPasswordEnv names the variable the inventory's sudo.passwordEnv reads.
const sudoPasswordEnv = "EDGEOPS_E2E_SUDO_PASSWORD"

// TestNonRootBastion runs up, add-node and reset as the lab's non-root user
// ops, whose sudo asks for a password, through a 2-hop bastion chain with
// strict host keys: this machine -> 4th host -> 3rd host -> the cluster
// hosts, whose sshd refuses everything else (scripts/lab bastion). The sudo
// password and the join token must appear in no output, log or process argv.
func TestNonRootBastion(t *testing.T) {
	s := newSuite(t)
	master, edge, hop2, hop1 := s.hosts[0], s.hosts[1], s.hosts[2], s.hosts[3]
	s.lab(t, "users")
	pw, err := os.ReadFile(filepath.Join(s.labDir, "ops.password"))
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(pw))
	t.Setenv(sudoPasswordEnv, password)
	s.secrets[password] = struct{}{}
	s.lab(t, "bastion", hop1, hop2)
	t.Cleanup(func() { s.lab(t, "bastion", "clear") })
	// Our own checks reach the cluster hosts the same way (root, lab key).
	conf := filepath.Join(s.labDir, "ssh_config")
	writeFile(t, conf, fmt.Sprintf("Host *\n  IdentityFile %s\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n  LogLevel ERROR\n",
		filepath.Join(s.labDir, "key"), filepath.Join(s.labDir, "known_hosts")))
	s.via = []string{"-F", conf, "-J", "root@" + hop1 + ",root@" + hop2}
	s.hosts = []string{master, edge}
	inv := s.nonRootInventory(t, hop1, hop2, master, edge)
	t.Cleanup(func() {
		if t.Failed() {
			s.run(t, "reset", "--all", "-i", inv)
		}
	})

	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"the cluster hosts refuse ssh around the bastions", func(t *testing.T) {
			for _, h := range []string{master, edge, hop2} {
				if out, err := exec.Command("ssh", "-F", conf, "-o", "ConnectTimeout=3", "ops@"+h, "true").CombinedOutput(); err == nil {
					t.Errorf("%s answered ssh directly: %s", h, out)
				}
			}
		}},
		{"snapshot pre-install state", func(t *testing.T) { snapshotPreInstall2(t, s, inv) }},
		{"a wrong sudo password: one clear error per host, not retried, nothing changed", func(t *testing.T) {
			t.Setenv(sudoPasswordEnv, "wrong-"+password)
			since := strings.TrimSpace(s.mustSSH(t, master, "date -u '+%Y-%m-%d %H:%M:%S'"))
			r := s.run(t, "up", "-i", inv, "--output", "json")
			if r.code == 0 {
				t.Fatalf("up with a wrong sudo password succeeded")
			}
			last := tail(r.stdout, 1)
			for _, want := range []string{master, "sudo"} {
				if !strings.Contains(last, want) {
					t.Errorf("the final error does not name %q:\n%s\nstderr: %s", want, last, r.stderr)
				}
			}
			// sudo logs each wrong password it is given: a retry would show twice.
			out := s.mustSSH(t, master, "journalctl --no-pager -q -o cat _COMM=sudo --since '"+since+"' | grep -c 'incorrect password attempt' || true")
			if n := strings.TrimSpace(out); n != "1" {
				t.Errorf("sudo on %s saw %s wrong-password attempts, want exactly 1", master, n)
			}
			for _, h := range s.hosts {
				if added, removed := diffLines(s.preInstall[h], s.mustSSH(t, h, hostStateScript)); len(added)+len(removed) > 0 {
					t.Errorf("a refused up changed %s: added %v, removed %v", h, added, removed)
				}
			}
			t.Logf("refused: %s", last)
		}},
		{"up 1 master + 1 edge as ops through the bastions", func(t *testing.T) {
			r := s.runWatched(t, "up", "-i", inv, "--output", "json")
			if r.code != 0 {
				t.Fatalf("up: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
			}
			s.collectSecrets(t)
			s.waitReady(t, 2)
			t.Logf("TIMING up as ops through 2 bastions (1 master + 1 edge): %s", r.wall.Round(100*time.Millisecond))
		}},
		{"reset the edge, add-node it back", func(t *testing.T) {
			if r := s.runWatched(t, "reset", "-i", inv, "--host", edge, "--output", "json"); r.code != 0 {
				t.Fatalf("reset --host %s: exit %d\n%s\n%s", edge, r.code, tail(r.stdout, 40), r.stderr)
			}
			s.waitReady(t, 1)
			r := s.runWatched(t, "add-node", "-i", inv, "--host", edge, "--output", "json")
			if r.code != 0 {
				t.Fatalf("add-node: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
			}
			s.collectSecrets(t)
			s.waitReady(t, 2)
		}},
		{"reset --all back to pre-install state", func(t *testing.T) {
			s.collectSecrets(t)
			if r := s.runWatched(t, "reset", "--all", "-i", inv, "--output", "json"); r.code != 0 {
				t.Fatalf("reset --all: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
			}
			for _, h := range s.hosts {
				added, removed := diffLines(s.preInstall[h], s.mustSSH(t, h, hostStateScript))
				if len(added)+len(removed) > 0 {
					t.Errorf("host %s is not back to its pre-install state:\n  left behind: %v\n  missing: %v", h, added, removed)
				}
			}
		}},
		{"no secret in any output", func(t *testing.T) { stepNoSecrets(t, s) }},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			t.Fatalf("step %q failed; later steps need it", st.name)
		}
	}
}

// runWatched is run with every host's process list read while edgeops runs:
// the sudo password may never be in a process's argv.
func (s *suite) runWatched(t *testing.T, args ...string) result {
	t.Helper()
	pw := os.Getenv(sudoPasswordEnv)
	var stops []func() (string, int)
	for _, h := range s.hosts {
		stops = append(stops, s.watchArgv(h, pw))
	}
	r := s.run(t, args...)
	for i, stop := range stops {
		if seen, reads := stop(); reads == 0 {
			t.Errorf("the process list of %s was never read: the check would prove nothing", s.hosts[i])
		} else if seen != "" {
			t.Errorf("the sudo password was in a process's argv on %s", s.hosts[i])
		}
	}
	return r
}

// snapshotPreInstall2 is snapshotPreInstall for this test's inventory.
func snapshotPreInstall2(t *testing.T, s *suite, inv string) {
	if r := s.run(t, "reset", "--all", "-i", inv, "--output", "json"); r.code != 0 {
		t.Fatalf("initial reset: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s.preInstall = map[string]string{}
	for _, h := range s.hosts {
		s.preInstall[h] = s.mustSSH(t, h, hostStateScript)
	}
}

// nonRootInventory: user ops, sudo password from the environment, the
// bastion chain hop1 -> hop2 (a bastion's own bastion is dialled first).
func (s *suite) nonRootInventory(t *testing.T, hop1, hop2, master, edge string) string {
	pkg := envOr("EDGEOPS_BUNDLE", filepath.Join(s.root, "_output", bundles.PackageFileName("amd64")))
	inv := fmt.Sprintf(`apiVersion: edgeops.io/v1
kind: Inventory
cluster:
  name: e2e
  installPackage:
    path: %s
  containerRuntime:
    runtimeBinary: /usr/local/sbin/runc-lab
ssh:
  user: ops
  identityFiles: [key]
  knownHosts: known_hosts
  hostKeyPolicy: strict
  sudo:
    passwordEnv: %s
  bastion:
    address: %s
    bastion:
      address: %s
hosts:
  - address: %s
    role: master
  - address: %s
    role: edge
`, pkg, sudoPasswordEnv, hop2, hop1, master, edge)
	path := filepath.Join(s.labDir, "e2e-nonroot.yaml")
	writeFile(t, path, inv)
	return path
}
