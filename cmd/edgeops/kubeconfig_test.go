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

// The user's kubeconfig keeps everything but this cluster's entries exactly
// (numbers included), a symlinked one is written through the link, and one
// that does not read as a kubeconfig is left alone.
func TestMergeKubeconfigKeepsTheRest(t *testing.T) {
	const fetched = `apiVersion: v1
kind: Config
clusters: [{name: kubernetes, cluster: {server: "https://172.28.30.11:6443"}}]
users: [{name: kubernetes-admin, user: {token: new}}]
contexts: [{name: kubernetes-admin@kubernetes, context: {cluster: kubernetes, user: kubernetes-admin}}]
current-context: kubernetes-admin@kubernetes
`
	const existing = `apiVersion: v1
kind: Config
preferences: {colors: true}
clusters:
- name: prod
  cluster:
    server: https://prod:6443
    extensions: [{name: x, extension: {serial: 12345678901234567890, ratio: 0.1}}]
users: [{name: me, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: aws, args: [eks, get-token], interactiveMode: Never}}}]
contexts: [{name: prod, context: {cluster: prod, user: me, namespace: "0755"}}]
current-context: prod
`
	tests := []struct {
		name    string
		content string // the user's kubeconfig
		symlink bool   // KUBECONFIG names a symlink to it
		wantErr string // "": merged
	}{
		{"other entries exactly as they were", existing, false, ""},
		{"written through a symlink", existing, true, ""},
		{"clusters not a list", "apiVersion: v1\nkind: Config\nclusters: {prod: {server: https://prod:6443}}\n", false, "clusters is not a list"},
		{"users not a list", "apiVersion: v1\nkind: Config\nusers: me\n", false, "users is not a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			real := filepath.Join(dir, "dotfiles", "kubeconfig")
			os.MkdirAll(filepath.Dir(real), 0o700)
			if err := os.WriteFile(real, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			target := real
			if tt.symlink {
				target = filepath.Join(dir, "kube", "config")
				os.MkdirAll(filepath.Dir(target), 0o700)
				if err := os.Symlink(real, target); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("KUBECONFIG", target)
			_, err := mergeKubeconfig([]byte(fetched), "e2e")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if data, _ := os.ReadFile(real); string(data) != tt.content {
					t.Errorf("the file was changed:\n%s", data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.symlink {
				if st, err := os.Lstat(target); err != nil || st.Mode()&os.ModeSymlink == 0 {
					t.Errorf("%s is no longer a symlink (%v)", target, err)
				}
			}
			if st, _ := os.Stat(real); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", st.Mode().Perm())
			}
			data, _ := os.ReadFile(real)
			var before, after map[string]any
			yaml.Unmarshal([]byte(tt.content), &before)
			yaml.Unmarshal(data, &after)
			for _, key := range []string{"clusters", "users", "contexts"} {
				old, _ := yaml.Marshal(before[key].([]any))
				got, _ := yaml.Marshal(after[key].([]any)[:len(before[key].([]any))])
				if string(old) != string(got) {
					t.Errorf("%s changed:\n%s\nbecame\n%s", key, old, got)
				}
			}
			for _, want := range []string{"12345678901234567890", "preferences:\n  colors: true", "current-context: e2e", "https://172.28.30.11:6443"} {
				if !strings.Contains(string(data), want) {
					t.Errorf("merged file lacks %q:\n%s", want, data)
				}
			}
		})
	}
}
