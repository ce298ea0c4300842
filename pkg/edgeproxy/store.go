package edgeproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/edgeops/edgeops/internal/atomicfile"
)

func cacheDir(dataDir string) string { return filepath.Join(dataDir, "cache") }

// entry is one cached response.
type entry struct {
	Code        int    `json:"code"`
	ContentType string `json:"contentType"`
	Key         string `json:"key"`
	body        []byte
}

// fileHeader is the first line of a cache file; the body follows as is
// (so the JSON stays greppable). Length and sha256 cover the body.
type fileHeader struct {
	V      int    `json:"v"`
	Length int    `json:"length"`
	SHA256 string `json:"sha256"`
	entry
}

type fileInfo struct {
	size    int64
	written time.Time
	sum     string // sha256 of the body, when known; an unchanged body is not rewritten
}

// store is the bounded on-disk cache: <dir>/<identity>/<name>, 0600 files
// in 0700 directories, written atomically, checked on every read, the
// least recently written evicted beyond max bytes.
type store struct {
	dir string
	max int64
	log *log.Logger

	mu    sync.Mutex
	files map[string]fileInfo
	total int64
}

func newStore(dir string, max int64, lg *log.Logger) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache dir: %w", err)
	}
	_ = os.Chmod(dir, 0o700)
	s := &store{dir: dir, max: max, log: lg, files: map[string]fileInfo{}}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") { // a temp file a crash left
			_ = os.Remove(path)
			return nil
		}
		if fi, err := d.Info(); err == nil {
			s.files[path] = fileInfo{size: fi.Size(), written: fi.ModTime()}
			s.total += fi.Size()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan cache: %w", err)
	}
	s.mu.Lock()
	s.evictLocked("")
	s.mu.Unlock()
	return s, nil
}

// path names a key's file: a readable prefix and a hash of the whole key.
func (s *store) path(idDir, key string) string {
	sum := sha256.Sum256([]byte(key))
	var b strings.Builder
	for _, r := range key {
		if b.Len() >= 64 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return filepath.Join(s.dir, idDir, strings.Trim(b.String(), "_.")+"-"+hex.EncodeToString(sum[:12]))
}

func (s *store) put(idDir string, e entry, body []byte) error {
	h := fileHeader{V: 1, Length: len(body), entry: e}
	sum := sha256.Sum256(body)
	h.SHA256 = hex.EncodeToString(sum[:])
	hb, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("cache header: %w", err)
	}
	size := int64(len(hb) + 1 + len(body))
	if size > s.max {
		return nil
	}
	p := s.path(idDir, e.Key)
	s.mu.Lock()
	fi, ok := s.files[p]
	s.mu.Unlock()
	if ok && fi.sum == h.SHA256 && fi.size == size {
		if st, err := os.Stat(p); err == nil && st.Size() == size {
			s.mu.Lock()
			if cur, ok := s.files[p]; ok {
				cur.written = time.Now() // still fresh: keep it from eviction
				s.files[p] = cur
			}
			s.mu.Unlock()
			return nil // same answer as on disk: spare the write and fsync
		}
	}
	data := make([]byte, 0, size)
	data = append(append(append(data, hb...), '\n'), body...)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	if err := atomicfile.Write(p, data, 0o600); err != nil {
		return fmt.Errorf("cache write: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total -= s.files[p].size
	s.files[p] = fileInfo{size: size, written: time.Now(), sum: h.SHA256}
	s.total += size
	s.evictLocked(p)
	return nil
}

// evictLocked removes the least recently written files until the total
// fits, never keep.
func (s *store) evictLocked(keep string) {
	for s.total > s.max && len(s.files) > 0 {
		var oldest string
		var ot time.Time
		for p, fi := range s.files {
			if p != keep && (oldest == "" || fi.written.Before(ot)) {
				oldest, ot = p, fi.written
			}
		}
		if oldest == "" {
			return
		}
		_ = os.Remove(oldest)
		s.total -= s.files[oldest].size
		delete(s.files, oldest)
		s.log.Printf("cache: evicted %s (cache over %d bytes)", oldest, s.max)
	}
}

// get reads and checks a cached entry; a corrupt file is removed and logged.
func (s *store) get(idDir, key string) (entry, bool) {
	p := s.path(idDir, key)
	data, err := os.ReadFile(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Printf("cache: read %s: %v", p, err)
		}
		return entry{}, false
	}
	e, err := decodeEntry(data, key)
	if err != nil {
		s.discard(p, err.Error())
		return entry{}, false
	}
	return e, true
}

func decodeEntry(data []byte, key string) (entry, error) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return entry{}, errors.New("no header")
	}
	var h fileHeader
	if err := json.Unmarshal(data[:i], &h); err != nil {
		return entry{}, fmt.Errorf("bad header: %v", err)
	}
	body := data[i+1:]
	if h.V != 1 {
		return entry{}, fmt.Errorf("unknown version %d", h.V)
	}
	if len(body) != h.Length {
		return entry{}, fmt.Errorf("length %d, header says %d (truncated?)", len(body), h.Length)
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != h.SHA256 {
		return entry{}, errors.New("sha256 mismatch")
	}
	if h.Key != key {
		return entry{}, fmt.Errorf("holds key %q, not %q", h.Key, key)
	}
	e := h.entry
	e.body = body
	return e, nil
}

func (s *store) discard(p, reason string) {
	s.log.Printf("cache: discarded %s: %s", p, reason)
	_ = os.Remove(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total -= s.files[p].size
	delete(s.files, p)
}

func (s *store) size() (int64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total, len(s.files)
}
