package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/pkg/bundle"
	"github.com/edgeops/edgeops/pkg/edgemanifests"
)

// packEdgeBundle packs a small real package whose manifests/edge is the
// repository's bundles/manifests/edge, and returns it with those files.
func packEdgeBundle(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	src := filepath.Join("..", "..", "bundles", "manifests", "edge")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	members := []bundle.Member{{Path: "bin/kubelet", Mode: 0o755, Data: []byte("kubelet")}}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		want[e.Name()] = data
		members = append(members, bundle.Member{Path: "manifests/edge/" + e.Name(), Mode: 0o644, Data: data})
	}
	if len(want) == 0 {
		t.Fatalf("no edge YAML in %s", src)
	}
	pkg := filepath.Join(t.TempDir(), bundles.PackageFileName("amd64"))
	base := bundle.Manifest{KubernetesVersion: bundles.KubernetesVersion(), OS: "linux", Arch: "amd64"}
	if _, err := bundle.Pack(context.Background(), pkg, base, members); err != nil {
		t.Fatal(err)
	}
	return pkg, want
}

func runEdgeadm(args ...string) (string, error) {
	var out bytes.Buffer
	root, flush := newRoot(strings.NewReader(""), &out, &out)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.ExecuteContext(context.Background())
	flush()
	return out.String(), err
}

// TestManifestsCommand runs 'edgeadm manifests' through edgeadm's command
// tree: the package's edge YAML lands in the folder byte for byte
// (placeholders untouched) and is itself a valid --edge-manifests-dir.
func TestManifestsCommand(t *testing.T) {
	pkg, want := packEdgeBundle(t)
	dir := filepath.Join(t.TempDir(), "edge") // created by the command
	out, err := runEdgeadm("manifests", "--output-dir", dir, "--install-pkg-path", pkg)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got, err := os.ReadDir(dir)
	if err != nil || len(got) != len(want) {
		t.Fatalf("wrote %d file(s), want %d: %v", len(got), len(want), err)
	}
	for name, data := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(b, data) {
			t.Errorf("%s differs from the package's (%v)", name, err)
		}
	}
	if !strings.Contains(out, "file(s) to "+dir) {
		t.Errorf("output does not say where the files went:\n%s", out)
	}
	if files, err := edgemanifests.ReadOverrides(dir); err != nil || len(files) != len(want) {
		t.Errorf("the written folder is no valid --edge-manifests-dir: %v", err)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"never overwrites", []string{"manifests", "--output-dir", dir, "--install-pkg-path", pkg}, "already holds"},
		{"output dir required", []string{"manifests", "--install-pkg-path", pkg}, "--output-dir DIR is required"},
		{"a URL is refused", []string{"manifests", "--output-dir", t.TempDir(), "--install-pkg-path", "https://example.com/p.tar.gz"}, "download the package"},
		{"a missing package is named", []string{"manifests", "--output-dir", t.TempDir(), "--install-pkg-path", pkg + ".nope"}, pkg + ".nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadDir(dir)
			out, err := runEdgeadm(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v (output %s), want an error with %q", err, out, tt.want)
			}
			if after, _ := os.ReadDir(dir); len(after) != len(before) {
				t.Errorf("the folder changed")
			}
		})
	}
}

// TestManifestsHelp: the help says how the folder is used.
func TestManifestsHelp(t *testing.T) {
	out, err := runEdgeadm("manifests", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"--edge-manifests-dir", "edgeManifestsDir", "an empty file", "replaces", "__IMAGE_REPOSITORY__", "__API_SERVER__", "--output-dir", "--install-pkg-path"} {
		if !strings.Contains(out, s) {
			t.Errorf("help lacks %q:\n%s", s, out)
		}
	}
}
