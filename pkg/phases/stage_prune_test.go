package phases

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// TestPruneCommand runs the command with the real sh and find.
func TestPruneCommand(t *testing.T) {
	tests := []struct {
		name       string
		have, keep []string
		want       []string
	}{
		{"stale file removed", []string{"a.yaml", "stale.yaml"}, []string{"a.yaml"}, []string{"a.yaml"}},
		{"nothing kept", []string{"a.yaml", "b.yml"}, nil, nil},
		{"glob characters match only themselves", []string{"w[1].yaml", "w1.yaml", "s*.yaml", "sx.yaml"}, []string{"w[1].yaml", "s*.yaml"}, []string{"s*.yaml", "w[1].yaml"}},
		{"spaces and quotes", []string{"it's a.yaml", "b.yaml"}, []string{"it's a.yaml"}, []string{"it's a.yaml"}},
		{"empty folder", nil, []string{"a.yaml"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "edge manifests")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.have {
				if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if out, err := exec.Command("sh", "-c", pruneCommand(dir, tt.keep)).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("left %q, want %q", got, tt.want)
			}
		})
	}
}
