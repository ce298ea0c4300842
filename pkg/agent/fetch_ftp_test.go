package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/internal/ftptest"
	"github.com/edgeops/edgeops/pkg/contract"
)

// quickFTP keeps failing tests short.
var quickFTP = ftpFetcher{attempts: 2, idle: 5 * time.Second, backoff: 10 * time.Millisecond}

func ftpSource(t *testing.T, raw string) contract.Source {
	t.Helper()
	src, err := contract.ParseSource(raw)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// servePackage puts data at <dir>/pub/p.tar.gz and serves dir over FTP on loopback.
func servePackage(t *testing.T, data []byte, o ftptest.Options) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pub", "p.tar.gz"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return ftptest.Start(t, "127.0.0.1:0", dir, o)
}

func TestFTPFetch(t *testing.T) {
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	addr := servePackage(t, data, ftptest.Options{User: "bob", Password: "s3cr/t"})
	tests := []struct {
		name    string
		url     string
		partial []byte // the .part file before the fetch
		want    []byte
	}{
		{"anonymous", "ftp://" + addr + "/pub/p.tar.gz", nil, data},
		{"user and password from the URL", "ftp://bob:s3cr%2Ft@" + addr + "/pub/p.tar.gz", nil, data},
		// Zeros where the partial file was: only a resumed (REST) transfer keeps them.
		{"resumes a partial file", "ftp://" + addr + "/pub/p.tar.gz", make([]byte, 1<<20), append(make([]byte, 1<<20), data[1<<20:]...)},
		{"a complete partial file is not fetched again", "ftp://" + addr + "/pub/p.tar.gz", data, data},
		{"a partial file longer than the file starts over", "ftp://" + addr + "/pub/p.tar.gz", make([]byte, len(data)+5), data},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			part := filepath.Join(t.TempDir(), "p.tar.gz.part")
			if tt.partial != nil {
				if err := os.WriteFile(part, tt.partial, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var lastDone, lastTotal int64
			err := quickFTP.fetch(context.Background(), ftpSource(t, tt.url), part, func(done, total int64) { lastDone, lastTotal = done, total })
			if err != nil {
				t.Fatalf("fetch: %v", err)
			}
			got, _ := os.ReadFile(part)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("downloaded %d bytes, not the expected %d", len(got), len(tt.want))
			}
			if lastDone != int64(len(data)) || lastTotal != int64(len(data)) {
				t.Errorf("progress ended at %d of %d, want %d of %d", lastDone, lastTotal, len(data), len(data))
			}
		})
	}
}

func TestFTPFetchFails(t *testing.T) {
	addr := servePackage(t, []byte("package"), ftptest.Options{User: "bob", Password: "right"})
	tests := []struct {
		name      string
		url       string
		permanent bool
		want      []string
	}{
		{"no such file", "ftp://" + addr + "/pub/nope.tar.gz", true, []string{"no file /pub/nope.tar.gz", "answered 55"}},
		{"wrong password", "ftp://bob:wrong@" + addr + "/pub/p.tar.gz", true, []string{`log in as "bob"`, "530"}},
		{"nothing listens", "ftp://127.0.0.1:1/p.tar.gz", false, []string{"connect to 127.0.0.1:1", "gave up after 2 attempts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			part := filepath.Join(t.TempDir(), "p.part")
			start := time.Now()
			err := quickFTP.fetch(context.Background(), ftpSource(t, tt.url), part, func(int64, int64) {})
			if err == nil {
				t.Fatal("fetch succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error shows the password: %v", err)
			}
			if isPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", isPermanent(err), tt.permanent, err)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
		})
	}
}

// A cancelled context ends a transfer at once, however slow the server.
func TestFTPFetchCancel(t *testing.T) {
	addr := servePackage(t, make([]byte, 4<<20), ftptest.Options{RateLimit: 256 << 10})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	part := filepath.Join(t.TempDir(), "p.part")
	start := time.Now()
	err := quickFTP.fetch(ctx, ftpSource(t, "ftp://"+addr+"/pub/p.tar.gz"), part, func(int64, int64) {})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %s", d)
	}
	if st, err := os.Stat(part); err != nil || st.Size() == 0 || st.Size() >= 4<<20 {
		t.Errorf("partial file after cancel: %v %v (kept for a resume)", st, err)
	}
}
