package bundle

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseManifest: any input is either refused or yields a manifest that
// validates and survives a marshal/parse round trip.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(validYAML("0755")))
	f.Add([]byte(validYAML("0o644") + "images:\n  - {name: a:1, file: bin/kubelet}\n"))
	f.Add([]byte("apiVersion: edgeops.io/v1\nkind: Bundle\nfiles: [{path: ../x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("marshal a parsed manifest: %v", err)
		}
		if _, err := ParseManifest(out); err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
	})
}

// FuzzVerify: arbitrary bytes as a package never panic and never pass.
func FuzzVerify(f *testing.F) {
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Add([]byte("not a package"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.tar.gz")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Verify(context.Background(), p); err == nil {
			m, _ := Open(p)
			if m == nil || len(m.Manifest().Files) > 0 {
				t.Fatalf("fuzzed bytes verified as a package")
			}
		}
	})
}
