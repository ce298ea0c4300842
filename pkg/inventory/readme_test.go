package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/bundles"
)

// TestReadmeExample keeps the README's complete inventory example valid.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "### A complete example")
	if !ok {
		t.Fatal("README has no complete example section")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	example, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README example: no closing fence")
	}
	home, tree := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("EDGEOPS_SSH_PASSWORD", "x")
	t.Setenv("EDGEOPS_SUDO_PASSWORD", "x")
	for _, p := range []string{
		filepath.Join(home, ".ssh/id_ed25519"), filepath.Join(home, ".ssh/known_hosts"),
		filepath.Join(tree, "_output", bundles.PackageFileName("amd64")),
		filepath.Join(tree, "inv/calico.yaml"), filepath.Join(tree, "inv/keys/master-1"),
		filepath.Join(tree, "inv/edge-overrides/x.yaml"), filepath.Join(tree, "inv/kubeadm-patches/x.yaml"),
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// edgeManifestsDir's files are checked as edge YAML.
	if err := os.WriteFile(filepath.Join(tree, "inv/edge-overrides/x.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := Parse([]byte(example), filepath.Join(tree, "inv/hosts.yaml"))
	if err != nil {
		t.Fatalf("README example does not validate:\n%v", err)
	}
	cfg := inv.SSHConfig(inv.Hosts[0])
	if len(cfg.Jumps) != 2 || cfg.IdentityFiles[0] != filepath.Join(tree, "inv/keys/master-1") {
		t.Errorf("README example SSH settings: %+v", cfg)
	}
}
