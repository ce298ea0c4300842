package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a folder with what a valid inventory points at: a key (0600),
// known_hosts, an install package, and HOME set to the folder.
type fixture struct {
	dir string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	write := func(name string, mode os.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("id_ed25519", 0o600)
	write(".ssh/id_ed25519", 0o600)
	write(".ssh/known_hosts", 0o644)
	write("known_hosts", 0o644)
	write("pkg.tar.gz", 0o644)
	write("open_key", 0o644)
	write("secret.txt", 0o600)
	write("cni.yaml", 0o644)
	if err := os.MkdirAll(filepath.Join(dir, "edge"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir}
}

// load writes text as hosts.yaml in the fixture and loads it.
func (f *fixture) load(t testing.TB, text string) (*Inventory, error) {
	t.Helper()
	p := filepath.Join(f.dir, "hosts.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p)
}

const validInventory = `cluster:
  name: demo
  installPackage:
    path: pkg.tar.gz
ssh:
  user: root
  identityFiles: [id_ed25519]
  knownHosts: known_hosts
hosts:
  - address: 192.168.10.11
    role: master
  - address: 192.168.10.12
    role: edge
  - address: 192.168.10.13
    role: worker
`

// edit applies old,new replacement pairs to validInventory; each old must occur.
func edit(t testing.TB, pairs ...string) string {
	t.Helper()
	s := validInventory
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("edit: %q not in the base inventory", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func fieldErrors(t testing.TB, err error) []*FieldError {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %T: %v", err, err)
	}
	return ve.Errors
}
