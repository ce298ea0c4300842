package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPackagePathFile(t *testing.T) {
	const signed = "https://pkgs.example/b.tar.gz?X-Amz-Signature=abc"
	tests := []struct {
		name, content, flagPath, want, wantErr string
	}{
		{"URL from the file", signed + "\n", "", signed, ""},
		{"both given", signed, "/x.tar.gz", "", "give one of"},
		{"empty file", "\n", "", "", "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Host{Root: t.TempDir()}
			if err := os.WriteFile(filepath.Join(h.Root, "url"), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			o := &Options{InstallPkgPath: tt.flagPath, InstallPkgPathFile: "/url"}
			err := o.readPackagePathFile(h)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || o.InstallPkgPath != tt.want {
				t.Errorf("InstallPkgPath = %q, %v; want %q", o.InstallPkgPath, err, tt.want)
			}
		})
	}
	if err := (&Options{InstallPkgPathFile: "/missing"}).readPackagePathFile(&Host{Root: t.TempDir()}); err == nil {
		t.Error("a missing file is accepted")
	}
}
