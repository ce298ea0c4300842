package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/internal/testpkg"
)

func TestCheckPackage(t *testing.T) {
	dir := t.TempDir()
	v137 := filepath.Join(dir, "p.tar.gz")
	testpkg.Write(t, v137, "v1.37.2")
	junk := filepath.Join(dir, "junk.tar.gz")
	if err := os.WriteFile(junk, []byte("not a package"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, version string
		wantField, wantText string
	}{
		{name: "same version", path: v137, version: "v1.37.2"},
		{name: "same version without the v", path: v137, version: "1.37.2"},
		{name: "older version than the package", path: v137, version: "v1.34.4",
			wantField: "cluster.kubernetesVersion", wantText: "carries Kubernetes v1.37.2, not v1.34.4"},
		{name: "not a package", path: junk, version: "v1.37.2",
			wantField: "cluster.installPackage.path", wantText: "not a readable install package"},
		{name: "a URL is checked on the hosts", version: "v1.34.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &Inventory{File: "hosts.yaml", Cluster: Cluster{KubernetesVersion: tt.version,
				InstallPackage: InstallPackage{Path: tt.path}}}
			if tt.path == "" {
				inv.Cluster.InstallPackage.URL = "https://m/p.tar.gz"
			}
			err := inv.CheckPackage()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("CheckPackage: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) != 1 {
				t.Fatalf("CheckPackage = %v, want one field error", err)
			}
			if fe := ve.Errors[0]; fe.Field != tt.wantField || !strings.Contains(fe.Error(), tt.wantText) {
				t.Errorf("error %q, want field %s and %q", fe.Error(), tt.wantField, tt.wantText)
			}
		})
	}
}
