package agent

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/pkg/edgemanifests"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	cmA     = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: edge-system}\ndata: {image: __IMAGE_REPOSITORY__/a:v1}\n"
	cmB     = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: edge-system}\n"
	podLite = "apiVersion: v1\nkind: Pod\nmetadata: {name: lite}\nspec: {containers: [{name: l, image: __IMAGE_REPOSITORY__/lite:v1, args: [--url=__API_SERVER__]}]}\n"
)

// TestEdgeFiles: the host's package defaults merged with a user's folder,
// then the cluster-wide YAML with the placeholders filled in.
func TestEdgeFiles(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string // nil: no --edge-manifests-dir
		applied   []string
		contains  []string
		lacks     []string
		log       string
	}{
		{name: "package only", applied: []string{"00-ns.yaml", "a.yaml", "b.yaml", "lite-apiserver.yaml"},
			contains: []string{"image: reg.example/a:v1", "name: b", "--url=10.0.0.1:6443"}, lacks: []string{"__"}},
		{name: "replace, add, remove",
			overrides: map[string]string{"a.yaml": strings.ReplaceAll(cmA, "a:v1", "a:v2"), "b.yaml": "", "c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {api: \"__API_SERVER__\"}\n"},
			applied:   []string{"00-ns.yaml", "a.yaml", "c.yaml", "lite-apiserver.yaml"},
			contains:  []string{"image: reg.example/a:v2", `api: "10.0.0.1:6443"`}, lacks: []string{"name: b,", "a:v1"},
			log: "replaced a.yaml; added c.yaml; removed b.yaml"},
		{name: "a .yml file replaces its .yaml", overrides: map[string]string{"lite-apiserver.yml": strings.ReplaceAll(podLite, "lite:v1", "lite:v2")},
			applied: []string{"00-ns.yaml", "a.yaml", "b.yaml", "lite-apiserver.yml"}, contains: []string{"reg.example/lite:v2"}, lacks: []string{"lite:v1"}, log: "replaced lite-apiserver.yml"},
		{name: "typo in a removal warns", overrides: map[string]string{"bb.yaml": ""},
			applied: []string{"00-ns.yaml", "a.yaml", "b.yaml", "lite-apiserver.yaml"}, log: "[warning] --edge-manifests-dir /user: empty file(s) bb.yaml match no file of the package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			h := &Host{Root: t.TempDir(), Log: &log}
			writeFiles(t, h.Path(edgeDefaultsDir), map[string]string{"00-ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: edge-system}\n",
				"a.yaml": cmA, "b.yaml": cmB, "lite-apiserver.yaml": podLite, "README": "not YAML, not read"})
			dir := ""
			if tt.overrides != nil {
				dir = "/user"
				writeFiles(t, h.Path(dir), tt.overrides)
			}
			if err := CheckEdgeManifestsDir(h, dir); err != nil {
				t.Fatal(err)
			}
			m, err := EdgeFiles(h, dir, true)
			if err != nil {
				t.Fatal(err)
			}
			data, names := clusterEdgeYAML(m, edgemanifests.Values{ImageRepository: "reg.example", APIServer: "10.0.0.1:6443"})
			if strings.Join(names, ",") != strings.Join(tt.applied, ",") {
				t.Errorf("applied %v, want %v", names, tt.applied)
			}
			for _, c := range tt.contains {
				if !bytes.Contains(data, []byte(c)) {
					t.Errorf("YAML lacks %q:\n%s", c, data)
				}
			}
			for _, c := range tt.lacks {
				if bytes.Contains(data, []byte(c)) {
					t.Errorf("YAML has %q:\n%s", c, data)
				}
			}
			if _, err := SplitObjects(data); err != nil {
				t.Errorf("merged YAML does not decode: %v", err)
			}
			if !strings.Contains(log.String(), tt.log) {
				t.Errorf("log %q, want %q", log.String(), tt.log)
			}
		})
	}
}

func TestCheckEdgeManifestsDirRefuses(t *testing.T) {
	h := &Host{Root: t.TempDir(), Log: &bytes.Buffer{}}
	writeFiles(t, h.Path("/user"), map[string]string{"a.yaml": "kind: [x\n", "notes.txt": "x"})
	tests := []struct{ dir, want string }{
		{"/user", "--edge-manifests-dir /user: 2 problem(s) in the edge YAML folder, nothing was applied:\n  " + h.Path("/user/a.yaml") + ": does not parse as YAML"},
		{"/nope", "--edge-manifests-dir /nope: 1 problem(s) in the edge YAML folder, nothing was applied:\n  " + h.Path("/nope") + ": folder not found"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			err := CheckEdgeManifestsDir(h, tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
			if _, err := EdgeFiles(h, tt.dir, true); err == nil {
				t.Error("EdgeFiles took a bad folder")
			}
		})
	}
}
