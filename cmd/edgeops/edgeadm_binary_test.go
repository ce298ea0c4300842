package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The default edgeadm comes from beside the edgeops binary, never from the
// working directory.
func TestEdgeadmBinaryDefault(t *testing.T) {
	cwd := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cwd, "_output"), 0o755); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(cwd, "_output", "edgeadm")
	if err := os.WriteFile(planted, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	ctx := context.Background()

	if bin, _, err := edgeadmBinary(ctx, "", ""); err == nil {
		t.Fatalf("edgeadmBinary took %s from the working directory", bin)
	}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	self, _ = filepath.EvalSymlinks(self)
	beside := filepath.Join(filepath.Dir(self), "edgeadm")
	if err := os.WriteFile(beside, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(beside)
	bin, tmp, err := edgeadmBinary(ctx, "", "")
	if err != nil || bin != beside || tmp != "" {
		t.Errorf("edgeadmBinary = %q, %q, %v; want %s", bin, tmp, err, beside)
	}
	if bin, _, err := edgeadmBinary(ctx, planted, ""); err != nil || bin != planted {
		t.Errorf("--edgeadm-binary is not honoured: %q %v", bin, err)
	}
}
