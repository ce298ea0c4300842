package tunnel

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReloadingKeyPair(t *testing.T) {
	p := newTestPKI(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	write := func(cn string, mtime time.Time) []byte {
		c, k := p.ca.sign(t, leaf{cn: cn})
		writeFile(t, certFile, c)
		writeFile(t, keyFile, k)
		for _, f := range []string{certFile, keyFile} {
			if err := os.Chtimes(f, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	now := time.Now()
	write("first", now.Add(-time.Minute))
	kp := newReloadingKeyPair(certFile, keyFile)
	first, err := kp.get()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := kp.get(); again != first {
		t.Fatal("reloaded although nothing changed")
	}
	write("second", now)
	second, err := kp.get()
	if err != nil || second == first {
		t.Fatalf("not reloaded after the files changed: %v", err)
	}
	// a broken rotation keeps the last good pair
	writeFile(t, keyFile, []byte("garbage"))
	if got, err := kp.get(); err != nil || got != second {
		t.Fatalf("broken files: %v; want the previous pair kept", err)
	}
	if _, err := newReloadingKeyPair(filepath.Join(dir, "none"), keyFile).get(); err == nil {
		t.Fatal("missing files gave no error")
	}
}

func TestLoadClientCertOnePEM(t *testing.T) {
	p := newTestPKI(t)
	c, err := loadClientCert(p.nodeCert(t, "edge-1"))
	if err != nil || c.Leaf == nil || c.Leaf.Subject.CommonName != "system:node:edge-1" {
		t.Fatalf("loadClientCert: %v", err)
	}
	if _, err := loadClientCert(p.caFile); err == nil {
		t.Fatal("a PEM without a key was accepted")
	}
}

func TestListenEgress(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "edge-tunnel")
	path := filepath.Join(dir, "egress.sock")
	ln, err := ListenEgress(path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // leave a stale socket behind
	ln.Close()
	ln, err = ListenEgress(path) // a stale socket is replaced
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v, %v; want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	regular := writeFile(t, filepath.Join(t.TempDir(), "file"), []byte("x"))
	if _, err := ListenEgress(regular); err == nil {
		t.Fatal("replaced a regular file")
	}
}
