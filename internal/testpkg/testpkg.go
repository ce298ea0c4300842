// Package testpkg writes small but real install packages for tests that
// need a file edgeops accepts as a package (its manifest is what is read).
package testpkg

import (
	"context"
	"testing"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// Write packs a minimal package for Kubernetes version at path.
func Write(t testing.TB, path, version string) {
	t.Helper()
	base := bundle.Manifest{KubernetesVersion: version, OS: "linux", Arch: "amd64",
		Components: []bundle.Component{{Name: "kubelet", Version: version}}}
	members := []bundle.Member{{Path: "bin/kubelet", Mode: 0o755, Data: []byte("#!/bin/sh\n")}}
	if _, err := bundle.Pack(context.Background(), path, base, members); err != nil {
		t.Fatalf("testpkg: pack %s: %v", path, err)
	}
}
