package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, and it
// returns either an inventory or a *ValidationError whose every item names
// the file and says what is expected.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		validInventory,
		"",
		"---\n",
		"cluster: {}\nhosts: [{address: 1.2.3.4, role: master}]\n",
		"a: &a [*a]\n",
		"x: &x {y: *x}\nhosts: *x\n",
		"hosts:\n  - <<: [*nope]\n",
		"cluster:\n  podCIDR: 10.0.0.0/8\n  serviceCIDR: 10.96.0.0/12\n",
		"ssh: {bastion: {bastion: {bastion: {address: 'a'}}}}\n",
		"hosts: [null, 1, [], {}]\n",
		"concurrency: {limit: 9999999999999999999999}\n",
		"cluster: !!binary aGVsbG8=\n",
		"? [a, b]\n: c\n",
		"hosts:\n- address: '::1'\n  role: master\n  labels: {a/b/c: d}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	for _, name := range []string{"id_ed25519", "known_hosts", "pkg.tar.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	path := filepath.Join(dir, "hosts.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse(data, path)
		if err == nil {
			if inv == nil || len(inv.Masters()) == 0 {
				t.Fatalf("accepted an inventory without a master: %+v", inv)
			}
			for _, h := range inv.Hosts {
				_ = inv.SSHConfig(h) // must not panic on anything Load accepted
			}
			return
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Errors) == 0 {
			t.Fatalf("error is not a non-empty *ValidationError: %T %v", err, err)
		}
		for _, fe := range ve.Errors {
			if fe.File != path || fe.Problem == "" || fe.Expected == "" {
				t.Fatalf("incomplete error item: %+v", fe)
			}
		}
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
