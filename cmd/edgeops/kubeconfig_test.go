package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestMergeKubeconfig(t *testing.T) {
	// As kubeadm writes admin.conf: every cluster is "kubernetes".
	const fetched = `apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster: {server: "https://172.28.30.11:6443"}
users:
- name: kubernetes-admin
  user: {token: new}
contexts:
- name: kubernetes-admin@kubernetes
  context: {cluster: kubernetes, user: kubernetes-admin}
current-context: kubernetes-admin@kubernetes
`
	// Another kubeadm cluster merged by hand, under kubeadm's names.
	const otherKubeadm = `apiVersion: v1
kind: Config
clusters:
- {name: prod, cluster: {server: "https://prod:6443"}}
- {name: kubernetes, cluster: {server: "https://other-kubeadm:6443"}}
users:
- {name: me, user: {token: mine}}
- {name: kubernetes-admin, user: {token: other-admin}}
contexts:
- {name: prod, context: {cluster: prod, user: me}}
- {name: kubernetes-admin@kubernetes, context: {cluster: kubernetes, user: kubernetes-admin}}
current-context: prod
`
	tests := []struct {
		name     string
		existing string // "" = no file
		want     []string
		wantNot  []string
	}{
		{"no kubeconfig yet", "", []string{"https://172.28.30.11:6443", "current-context: e2e", "name: e2e-admin"}, []string{"name: kubernetes"}},
		{"other clusters, kubeadm-named ones too, untouched", otherKubeadm, []string{
			"https://prod:6443", "token: mine", "https://other-kubeadm:6443", "token: other-admin", "name: kubernetes-admin@kubernetes",
			"https://172.28.30.11:6443", "token: new", "current-context: e2e"}, nil},
		{"this cluster's earlier entries replaced", `apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "https://old:6443"}}]
users: [{name: e2e-admin, user: {token: old}}]
contexts: [{name: e2e, context: {cluster: e2e, user: e2e-admin}}]
`, []string{"https://172.28.30.11:6443", "token: new"}, []string{"https://old:6443", "token: old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kube", "config")
			t.Setenv("KUBECONFIG", path+string(os.PathListSeparator)+"/elsewhere")
			if tt.existing != "" {
				os.MkdirAll(filepath.Dir(path), 0o700)
				os.WriteFile(path, []byte(tt.existing), 0o644) // an old, too open mode
			}
			var first []byte
			for round := 1; round <= 2; round++ { // merging again changes nothing
				got, err := mergeKubeconfig([]byte(fetched), "e2e")
				if err != nil {
					t.Fatal(err)
				}
				if got != path {
					t.Errorf("merged into %s, want the first KUBECONFIG entry %s", got, path)
				}
				data, _ := os.ReadFile(path)
				if round == 1 {
					first = data
				} else if string(data) != string(first) {
					t.Errorf("a second merge changed the file:\n%s\nthen\n%s", first, data)
				}
			}
			data := first
			var parsed struct {
				Contexts []struct {
					Name    string
					Context struct{ Cluster, User string }
				}
			}
			if err := yaml.Unmarshal(data, &parsed); err != nil {
				t.Fatalf("merged file is not YAML: %v", err)
			}
			for _, c := range parsed.Contexts {
				if c.Name == "e2e" && (c.Context.Cluster != "e2e" || c.Context.User != "e2e-admin") {
					t.Errorf("context e2e points at %+v", c.Context)
				}
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
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".config.edgeops-*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}
