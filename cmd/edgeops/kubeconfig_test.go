package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestMergeKubeconfig(t *testing.T) {
	const fetched = `apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "https://172.28.30.11:6443"}
users:
- name: kubernetes-admin
  user: {token: new}
contexts:
- name: kubernetes-admin@e2e
  context: {cluster: e2e, user: kubernetes-admin}
current-context: kubernetes-admin@e2e
`
	tests := []struct {
		name     string
		existing string // "" = no file
		want     []string
		wantNot  []string
	}{
		{"no kubeconfig yet", "", []string{"https://172.28.30.11:6443", "current-context: kubernetes-admin@e2e"}, nil},
		{"other clusters kept", `apiVersion: v1
kind: Config
clusters: [{name: prod, cluster: {server: "https://prod:6443"}}]
users: [{name: me, user: {token: mine}}]
contexts: [{name: prod, context: {cluster: prod, user: me}}]
current-context: prod
`, []string{"https://prod:6443", "https://172.28.30.11:6443", "token: mine", "current-context: kubernetes-admin@e2e"}, nil},
		{"same names replaced", `apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "https://old:6443"}}]
users: [{name: kubernetes-admin, user: {token: old}}]
contexts: []
`, []string{"https://172.28.30.11:6443", "token: new"}, []string{"https://old:6443", "token: old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kube", "config")
			t.Setenv("KUBECONFIG", path+string(os.PathListSeparator)+"/elsewhere")
			if tt.existing != "" {
				os.MkdirAll(filepath.Dir(path), 0o700)
				os.WriteFile(path, []byte(tt.existing), 0o600)
			}
			got, err := mergeKubeconfig([]byte(fetched))
			if err != nil {
				t.Fatal(err)
			}
			if got != path {
				t.Errorf("merged into %s, want the first KUBECONFIG entry %s", got, path)
			}
			data, _ := os.ReadFile(path)
			var parsed map[string]any
			if err := yaml.Unmarshal(data, &parsed); err != nil {
				t.Fatalf("merged file is not YAML: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(data), w) {
					t.Errorf("merged file lacks %q:\n%s", w, data)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(string(data), w) {
					t.Errorf("merged file still has %q:\n%s", w, data)
				}
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", st.Mode().Perm())
			}
		})
	}
}
