package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEdgeManifestsDirFiles: the folder's files are checked with edgeadm's
// rules when the inventory loads; each problem names the file.
func TestEdgeManifestsDirFiles(t *testing.T) {
	const obj = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // "<file>: <problem>" per error; nil: loads
	}{
		{"replace, add, remove", map[string]string{"tunnel-edge.yaml": obj, "mine.yml": obj, "edge-health.yaml": ""}, nil},
		{"empty folder", map[string]string{}, nil},
		{"non-YAML file", map[string]string{"a.yaml": obj, "notes.txt": "x"}, []string{"notes.txt: not a .yaml or .yml file"}},
		{"broken YAML", map[string]string{"a.yaml": "kind: [x\n"}, []string{"a.yaml: does not parse as YAML"}},
		{"both at once", map[string]string{"a.yaml": "apiVersion: v1\n", "b.json": "{}"},
			[]string{"a.yaml: document 1 (line 1) has no kind", "b.json: not a .yaml or .yml file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			dir := filepath.Join(f.dir, "edge")
			for n, data := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := f.load(t, edit(t, "name: demo", "name: demo\n  edgeManifestsDir: edge"))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			errs := fieldErrors(t, err)
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d error(s), want %d: %v", len(errs), len(tt.want), err)
			}
			for i, e := range errs {
				got := filepath.Base(e.Value) + ": " + e.Problem
				if e.Field != "cluster.edgeManifestsDir" || !strings.HasPrefix(got, tt.want[i]) || e.Expected == "" || e.Line != 3 {
					t.Errorf("error %d: %s (field %s, line %d), want %q with a fix", i, e.Error(), e.Field, e.Line, tt.want[i])
				}
			}
		})
	}
}
