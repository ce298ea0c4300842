package inventory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeops/edgeops/bundles"
)

// TestExamples validates every file in examples/. They refer to what a user
// has: ~/.ssh/id_ed25519, ~/.ssh/known_hosts, a sudo password file and the
// bundle in _output/; the test makes those in a temporary HOME and checkout.
func TestExamples(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	tree := t.TempDir()
	for name, mode := range map[string]os.FileMode{
		filepath.Join(home, ".ssh/id_ed25519"):                           0o600,
		filepath.Join(home, ".ssh/known_hosts"):                          0o644,
		filepath.Join(home, ".config/edgeops/sudo-password"):             0o600,
		filepath.Join(tree, "_output", bundles.PackageFileName("amd64")): 0o644,
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("x\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	want := map[string]struct{ masters, edges, workers, jumps int }{
		"single-master.yaml": {1, 3, 0, 0},
		"ha.yaml":            {3, 2, 2, 0},
		"bastion.yaml":       {1, 2, 0, 1},
	}
	for _, src := range files {
		name := filepath.Base(src)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(tree, "examples", name)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
			inv, err := Load(dst)
			if err != nil {
				t.Fatalf("example does not validate:\n%v", err)
			}
			w, ok := want[name]
			if !ok {
				return // a new example: validating it is enough
			}
			got := [4]int{len(inv.Masters()), len(inv.Edges()), len(inv.Workers()), len(inv.SSHConfig(inv.Hosts[0]).Jumps)}
			if got != [4]int{w.masters, w.edges, w.workers, w.jumps} {
				t.Errorf("masters, edges, workers, jumps of the first host = %v, want %v", got, w)
			}
			if name == "bastion.yaml" {
				j := inv.SSHConfig(inv.Hosts[2]).Jumps
				if len(j) != 2 || j[0].Addr() != "203.0.113.10:2222" || j[1].Addr() != "10.20.0.5:22" {
					t.Errorf("chained bastion jumps = %+v", j)
				}
			}
		})
	}
}
