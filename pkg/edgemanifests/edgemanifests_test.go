package edgemanifests

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: __IMAGE_REPOSITORY__/a:v1}]\n"

func names(fs []File) []string {
	var n []string
	for _, f := range fs {
		n = append(n, f.Name+"="+string(f.Data))
	}
	return n
}

func TestMerge(t *testing.T) {
	defaults := []File{{"00-ns.yaml", []byte("ns")}, {"a.yaml", []byte("a")}, {"b.yaml", []byte("b")}}
	tests := []struct {
		name      string
		overrides []File
		files     []string
		replaced  []string
		added     []string
		removed   []string
		unmatched []string
	}{
		{name: "no overrides", files: []string{"00-ns.yaml=ns", "a.yaml=a", "b.yaml=b"}},
		{name: "same name replaces", overrides: []File{{"a.yaml", []byte("A")}},
			files: []string{"00-ns.yaml=ns", "a.yaml=A", "b.yaml=b"}, replaced: []string{"a.yaml"}},
		{name: ".yml replaces .yaml", overrides: []File{{"b.yml", []byte("B")}},
			files: []string{"00-ns.yaml=ns", "a.yaml=a", "b.yml=B"}, replaced: []string{"b.yml"}},
		{name: "new file is added in name order", overrides: []File{{"0-first.yaml", []byte("x")}, {"zz.yaml", []byte("z")}},
			files: []string{"0-first.yaml=x", "00-ns.yaml=ns", "a.yaml=a", "b.yaml=b", "zz.yaml=z"}, added: []string{"0-first.yaml", "zz.yaml"}},
		{name: "empty file removes", overrides: []File{{"a.yaml", nil}},
			files: []string{"00-ns.yaml=ns", "b.yaml=b"}, removed: []string{"a.yaml"}},
		{name: "comments only removes", overrides: []File{{"b.yaml", []byte("# not wanted here\n---\n")}},
			files: []string{"00-ns.yaml=ns", "a.yaml=a"}, removed: []string{"b.yaml"}},
		{name: "empty file without a default", overrides: []File{{"typo.yaml", []byte("\n")}},
			files: []string{"00-ns.yaml=ns", "a.yaml=a", "b.yaml=b"}, unmatched: []string{"typo.yaml"}},
		{name: "all at once", overrides: []File{{"a.yaml", []byte("A")}, {"b.yaml", nil}, {"c.yaml", []byte("c")}},
			files: []string{"00-ns.yaml=ns", "a.yaml=A", "c.yaml=c"}, replaced: []string{"a.yaml"}, added: []string{"c.yaml"}, removed: []string{"b.yaml"}},
		{name: "everything removed", overrides: []File{{"00-ns.yaml", nil}, {"a.yaml", nil}, {"b.yaml", nil}},
			removed: []string{"00-ns.yaml", "a.yaml", "b.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Merge(defaults, tt.overrides)
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"files", names(m.Files), tt.files}, {"replaced", m.Replaced, tt.replaced}, {"added", m.Added, tt.added},
				{"removed", m.Removed, tt.removed}, {"unmatched", m.Unmatched, tt.unmatched}} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestSubstitute(t *testing.T) {
	tests := []struct {
		name, in, want string
		v              Values
	}{
		{"image", "image: __IMAGE_REPOSITORY__/tunnel:v0.9.0", "image: reg.local/k8s/tunnel:v0.9.0", Values{ImageRepository: "reg.local/k8s"}},
		{"trailing slash", "image: __IMAGE_REPOSITORY__/x:1", "image: reg.local/x:1", Values{ImageRepository: "reg.local/"}},
		{"bare placeholder", "repo: __IMAGE_REPOSITORY__\n", "repo: r.io\n", Values{ImageRepository: "r.io"}},
		{"api server, twice", "- --url=__API_SERVER__\n# __API_SERVER__", "- --url=10.0.0.1:6443\n# 10.0.0.1:6443", Values{APIServer: "10.0.0.1:6443"}},
		{"both", "__IMAGE_REPOSITORY__/a __API_SERVER__", "r/a h:1", Values{"r", "h:1"}},
		{"empty value keeps placeholder", "__API_SERVER__ __IMAGE_REPOSITORY__/a", "__API_SERVER__ r/a", Values{ImageRepository: "r"}},
		{"nothing to do", "kind: ConfigMap", "kind: ConfigMap", Values{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Substitute([]byte(tt.in), tt.v)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, data string
		want       []string // substrings, one per problem
	}{
		{"object", deploy, nil},
		{"two documents", deploy + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n", nil},
		{"empty", "", nil},
		{"comments only", "# removed\n", nil},
		{"empty documents skipped", "---\n---\n" + deploy, nil},
		{"known placeholders", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {s: \"__API_SERVER__\"}\n", nil},
		{"does not parse", "apiVersion: v1\nkind: [ConfigMap\n", []string{"does not parse as YAML: yaml: line"}},
		{"tab indentation", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n", []string{"does not parse as YAML"}},
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", []string{"document 1 (line 1) has no kind"}},
		{"second document lacks both", deploy + "---\nmetadata: {name: x}\n", []string{"document 2 (line 9) has no apiVersion and kind"}},
		{"a list, not an object", "- a\n- b\n", []string{"is not a mapping"}},
		{"a scalar", "hello\n", []string{"is not a mapping"}},
		{"unknown placeholder", strings.ReplaceAll(deploy, "__IMAGE_REPOSITORY__", "__IMAGE_REPO__"), []string{"unknown placeholder __IMAGE_REPO__ (known: __IMAGE_REPOSITORY__, __API_SERVER__)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check([]byte(tt.data))
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %d problem(s) like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d: %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestReadOverrides(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // "" value with a trailing "/" name: a folder
		want  []string          // substrings of the problems, in order; nil: no error
		read  []string
	}{
		{name: "good folder", files: map[string]string{"a.yaml": deploy, "b.yml": "", "c.yaml": "# gone\n"}, read: []string{"a.yaml", "b.yml", "c.yaml"}},
		{name: "empty folder", files: map[string]string{}},
		{name: "non-YAML file", files: map[string]string{"a.yaml": deploy, "README.md": "x"}, want: []string{"README.md: not a .yaml or .yml file"}},
		{name: "broken YAML names the file", files: map[string]string{"bad.yaml": "kind: [x\n"}, want: []string{"bad.yaml: does not parse as YAML: yaml: line 1"}},
		{name: "sub-folder", files: map[string]string{"sub/": ""}, want: []string{"sub: is a folder"}},
		{name: "same stem twice", files: map[string]string{"a.yaml": deploy, "a.yml": deploy}, want: []string{"a.yml: has the same name as a.yaml"}},
		{name: "every problem at once", files: map[string]string{"bad.yaml": "kind: [x\n", "notes.txt": "x", "x.yaml": "apiVersion: v1\n"},
			want: []string{"bad.yaml: does not parse", "notes.txt: not a .yaml", "x.yaml: document 1 (line 1) has no kind"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, data := range tt.files {
				if strings.HasSuffix(n, "/") {
					if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, n), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			files, err := ReadOverrides(dir)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, f := range files {
					got = append(got, f.Name)
				}
				if !reflect.DeepEqual(got, tt.read) {
					t.Errorf("read %q, want %q", got, tt.read)
				}
				return
			}
			ps, ok := err.(Problems)
			if !ok || files != nil {
				t.Fatalf("got files %v, error %v; want Problems", files, err)
			}
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problem(s), want %d:\n%v", len(ps), len(tt.want), err)
			}
			for i, p := range ps {
				if !strings.Contains(p.Error(), tt.want[i]) || !strings.HasPrefix(p.Path, dir) || p.Fix == "" {
					t.Errorf("problem %d: %q (path %s), want it to contain %q and a fix", i, p.Error(), p.Path, tt.want[i])
				}
			}
			if !strings.Contains(err.Error(), "nothing was applied") {
				t.Errorf("error does not say nothing was applied: %v", err)
			}
		})
	}
}

func TestReadOverridesFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(file, []byte(deploy), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, dir, want string }{
		{"missing", filepath.Join(t.TempDir(), "nope"), "folder not found; give an existing folder of edge component YAML (start one with 'edgeadm manifests --output-dir"},
		{"a file", file, "not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadOverrides(tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.dir+": "+tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReadOverridesFollowsSymlinks(t *testing.T) {
	dir, src := t.TempDir(), filepath.Join(t.TempDir(), "real.yaml")
	if err := os.WriteFile(src, []byte(deploy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	files, err := ReadOverrides(dir)
	if err != nil || len(files) != 1 || string(files[0].Data) != deploy {
		t.Fatalf("got %v, %v", files, err)
	}
}
