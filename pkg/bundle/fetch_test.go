package bundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// flakyServer serves content with Range support; the first `breaks` plain
// or ranged requests are cut off after `cut` bytes, like a bad link.
func flakyServer(t *testing.T, content []byte, breaks int32, cut int) (*httptest.Server, *atomic.Int32, *atomic.Int32) {
	t.Helper()
	var requests, ranged atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		if r.Header.Get("Range") != "" {
			ranged.Add(1)
		}
		if n <= breaks {
			// Promise everything, send part, then drop the connection.
			w.Header().Set("Content-Length", "999999999")
			w.WriteHeader(http.StatusOK)
			w.Write(content[:cut])
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("no hijacker")
				return
			}
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		http.ServeContent(w, r, "b.tar.gz", time.Time{}, bytes.NewReader(content))
	}))
	t.Cleanup(srv.Close)
	return srv, &requests, &ranged
}

func sumHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestFetch(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 64*1024) // 1 MiB
	sum := sumHex(content)
	local := filepath.Join(t.TempDir(), "src.tar.gz")
	if err := os.WriteFile(local, content, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		breaks     int32
		src        func(url string) string
		sha        string
		partial    int // bytes already in dst.part before the call
		wantErr    string
		wantRanged bool
	}{
		{name: "http clean", src: func(u string) string { return u }, sha: sum},
		{name: "http broken once resumes with range", breaks: 1, src: func(u string) string { return u }, sha: sum, wantRanged: true},
		{name: "resume from earlier partial file", src: func(u string) string { return u }, sha: sum, partial: 300000, wantRanged: true},
		{name: "http checksum mismatch", src: func(u string) string { return u }, sha: strings.Repeat("0", 64), wantErr: "sha256"},
		{name: "local path", src: func(string) string { return local }, sha: sum},
		{name: "file url", src: func(string) string { return "file://" + local }, sha: sum},
		{name: "http not found", src: func(u string) string { return u + "/missing-is-served-anyway" }, sha: "bad", wantErr: "64 hex"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _, ranged := flakyServer(t, content, tc.breaks, 200000)
			dst := filepath.Join(t.TempDir(), "pkg", "b.tar.gz")
			if tc.partial > 0 {
				os.MkdirAll(filepath.Dir(dst), 0o755)
				if err := os.WriteFile(dst+".part", content[:tc.partial], 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var last int64
			err := Fetch(context.Background(), tc.src(srv.URL), dst, tc.sha, func(done, total int64) { last = done })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if _, serr := os.Stat(dst); !os.IsNotExist(serr) {
					t.Errorf("dst exists after a failed fetch")
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			got, err := os.ReadFile(dst)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("dst differs from source (err %v)", err)
			}
			if st, _ := os.Stat(dst); st.Mode().Perm() != 0o600 {
				t.Errorf("dst mode %v, want 0600", st.Mode().Perm())
			}
			if last != int64(len(content)) {
				t.Errorf("last progress %d, want %d", last, len(content))
			}
			if tc.wantRanged && ranged.Load() == 0 {
				t.Errorf("no Range request was made")
			}
		})
	}
}

func TestFetchSkipsMatchingDestination(t *testing.T) {
	content := []byte("already here")
	srv, requests, _ := flakyServer(t, content, 0, 0)
	dst := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := os.WriteFile(dst, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Fetch(context.Background(), srv.URL, dst, sumHex(content), nil); err != nil {
		t.Fatal(err)
	}
	if requests.Load() != 0 {
		t.Errorf("made %d requests for a destination that already matched", requests.Load())
	}
}

func TestFetchHonoursContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := Fetch(ctx, srv.URL, filepath.Join(t.TempDir(), "b"), "", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}

// TestFetchResumesAfterStall: the first response sends part of the file and
// then goes silent; the idle watchdog ends that attempt and the next one
// resumes with a Range request.
func TestFetchResumesAfterStall(t *testing.T) {
	content := bytes.Repeat([]byte("stall-test-data!"), 32*1024)
	var requests atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			w.WriteHeader(http.StatusOK)
			w.Write(content[:100000])
			w.(http.Flusher).Flush()
			select { // hang like a dead link
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		http.ServeContent(w, r, "b", time.Time{}, bytes.NewReader(content))
	}))
	defer srv.Close()
	defer close(release)
	f := fetcher{attempts: 3, idle: 300 * time.Millisecond, backoff: 10 * time.Millisecond}
	dst := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := f.fetch(context.Background(), srv.URL, dst, sumHex(content), nil); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Fatal("content differs")
	}
	if requests.Load() != 2 {
		t.Errorf("%d requests, want 2 (stalled one, resumed one)", requests.Load())
	}
}

func TestFetchGivesUpOnStalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	f := fetcher{attempts: 2, idle: 100 * time.Millisecond, backoff: time.Millisecond}
	err := f.fetch(context.Background(), srv.URL, filepath.Join(t.TempDir(), "b"), "", nil)
	if err == nil || !strings.Contains(err.Error(), "stalled") || !strings.Contains(err.Error(), "gave up after 2 attempts") {
		t.Fatalf("err = %v, want a stall after 2 attempts", err)
	}
}
