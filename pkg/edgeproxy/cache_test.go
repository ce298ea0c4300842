package edgeproxy

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const cmPath = "/api/v1/namespaces/default/configmaps"

type listDoc struct {
	Kind     string `json:"kind"`
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Items []struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	} `json:"items"`
}

func names(t *testing.T, body string) (string, []string) {
	t.Helper()
	var l listDoc
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("list: %v: %s", err, body)
	}
	var n []string
	for _, it := range l.Items {
		if it.Kind != "" {
			t.Errorf("list item %s has kind %q", it.Metadata.Name, it.Kind)
		}
		n = append(n, it.Metadata.Name+"="+it.Data["k"])
	}
	return l.Metadata.ResourceVersion, n
}

// watchStream opens a watch through the proxy and returns its events.
func (h *harness) watchStream(c *http.Client, query string) (<-chan watchEvent, *http.Response) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.url+cmPath+"?"+query, nil)
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf, application/json")
	cl := *c
	cl.Timeout = 0
	r, err := cl.Do(req)
	if err != nil {
		h.t.Fatalf("watch: %v", err)
	}
	h.t.Cleanup(func() { r.Body.Close() })
	ch := make(chan watchEvent, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev watchEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				ch <- ev
			}
		}
	}()
	return ch, r
}

func nextEvent(t *testing.T, ch <-chan watchEvent) watchEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event")
	}
	return watchEvent{}
}

func expectEnd(t *testing.T, ch <-chan watchEvent, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch not ended")
		}
	}
}

// TestOfflineFromCache: GET and LIST answered from the cache while no
// server answers, including the changes a WATCH brought in; absent
// entries get a 503; other identities' entries are not visible.
func TestOfflineFromCache(t *testing.T) {
	h := newHarness(t, 1, nil)
	h.put(0, "a")
	h.put(0, "b")
	list := cmPath + "?limit=500&resourceVersion=0"
	r := h.do(h.node, "GET", list, "", "")
	if r.code != 200 || r.header.Get(CacheHeader) != "" {
		t.Fatalf("online LIST: %d %s", r.code, r.body)
	}
	if s, _ := h.fakes[0].lastRequest(cmPath); s.Accept != "application/json" {
		t.Errorf("upstream Accept %q, want application/json", s.Accept)
	}
	if r := h.do(h.node, "GET", cmPath+"/a", "", ""); r.code != 200 {
		t.Fatalf("GET a: %d", r.code)
	}
	rv, _ := names(t, r.body)
	events, _ := h.watchStream(h.node, "watch=true&allowWatchBookmarks=true&resourceVersion="+rv)
	time.Sleep(50 * time.Millisecond)
	h.fakes[0].put("c", map[string]string{"k": "c"})
	h.fakes[0].put("a", map[string]string{"k": "a2"})
	h.fakes[0].remove("b")
	for i := 0; i < 3; i++ {
		nextEvent(t, events)
	}
	time.Sleep(flushEvery + 200*time.Millisecond) // the cacher writes at most every flushEvery

	h.fakes[0].stop()
	h.waitOnline(false)
	expectEnd(t, events, 5*time.Second) // an online watch whose server is gone is ended

	r = h.do(h.node, "GET", cmPath+"?resourceVersion=&limit=100", "", "") // other RV/limit: same key
	if r.code != 200 || r.header.Get(CacheHeader) != "hit" {
		t.Fatalf("offline LIST: %d %q %s", r.code, r.header.Get(CacheHeader), r.body)
	}
	gotRV, got := names(t, r.body)
	if strings.Join(got, ",") != "a=a2,c=c" {
		t.Errorf("offline LIST items %v, want a=a2,c=c", got)
	}
	if gotRV == rv {
		t.Errorf("list resourceVersion not bumped by the events: %s", gotRV)
	}
	if r := h.do(h.node, "GET", cmPath+"/a", "", ""); r.code != 200 || !strings.Contains(r.body, `"name":"a"`) {
		t.Errorf("offline GET a: %d %s", r.code, r.body)
	}
	for _, c := range []struct {
		name   string
		client *http.Client
		token  string
		path   string
	}{
		{"never cached", h.node, "", cmPath + "/zzz"},
		{"other identity: anonymous", h.plain, "", cmPath},
		{"other identity: token", h.plain, "t", cmPath},
		{"table is another key", h.node, "", cmPath + "?as=table"},
	} {
		r := h.do(c.client, "GET", c.path, c.token, "")
		if r.code != 503 || !strings.Contains(r.body, "offline") {
			t.Errorf("%s: %d %s", c.name, r.code, r.body)
		}
	}
}

// TestPaginatedNotCached: a LIST page (continue) is never cached.
func TestPaginatedNotCached(t *testing.T) {
	h := newHarness(t, 1, nil)
	h.put(0, "a")
	h.put(0, "b")
	if r := h.do(h.node, "GET", cmPath+"?limit=1", "", ""); r.code != 200 {
		t.Fatal(r.code)
	}
	if r := h.do(h.node, "GET", cmPath+"?limit=1&continue=page2", "", ""); r.code != 200 {
		t.Fatal(r.code)
	}
	if _, n := h.p.cache.size(); n != 0 {
		t.Errorf("%d cache files after paginated LISTs", n)
	}
}

// TestWatchListAndOfflineWatch: a watch-list (sendInitialEvents) fills
// the cache; offline, a watch-list gets the cached items and the
// initial-events-end bookmark and is held open; a plain watch is held
// open; both end when a server answers again.
func TestWatchListAndOfflineWatch(t *testing.T) {
	h := newHarness(t, 1, nil)
	h.put(0, "a")
	h.put(0, "b")
	const wl = "watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
	events, _ := h.watchStream(h.node, wl)
	for i := 0; i < 3; i++ {
		nextEvent(t, events)
	}
	h.fakes[0].put("c", map[string]string{"k": "c"})
	nextEvent(t, events)
	time.Sleep(flushEvery + 200*time.Millisecond)
	h.fakes[0].stop()
	h.waitOnline(false)
	expectEnd(t, events, 5*time.Second)

	r := h.do(h.node, "GET", cmPath, "", "")
	if _, got := names(t, r.body); r.code != 200 || strings.Join(got, ",") != "a=a,b=b,c=c" {
		t.Fatalf("offline LIST after watch-list: %d %v", r.code, got)
	}
	held, resp := h.watchStream(h.node, wl)
	if resp.StatusCode != 200 {
		t.Fatalf("offline watch-list: HTTP %d", resp.StatusCode)
	}
	var got []string
	for i := 0; i < 4; i++ {
		ev := nextEvent(t, held)
		var m objMeta
		_ = json.Unmarshal(ev.Object, &m)
		if m.Kind != "ConfigMap" || m.APIVersion != "v1" {
			t.Errorf("event object without its kind: %s", ev.Object)
		}
		got = append(got, ev.Type+":"+m.Metadata.Name+m.Metadata.Annotations[initialEventsEnd])
	}
	if strings.Join(got, ",") != "ADDED:a,ADDED:b,ADDED:c,BOOKMARK:true" {
		t.Errorf("offline watch-list events %v", got)
	}
	plain, _ := h.watchStream(h.node, "watch=true&resourceVersion=5")
	select {
	case ev, ok := <-held:
		t.Fatalf("held watch got %v %v", ev, ok)
	case ev, ok := <-plain:
		t.Fatalf("held plain watch got %v %v", ev, ok)
	case <-time.After(300 * time.Millisecond):
	}
	timed, _ := h.watchStream(h.node, "watch=true&resourceVersion=5&timeoutSeconds=1")
	expectEnd(t, timed, 3*time.Second) // timeoutSeconds is honoured offline too
	h.fakes[0].start()
	h.waitOnline(true)
	expectEnd(t, held, 5*time.Second)
	expectEnd(t, plain, 5*time.Second)
}

// TestOfflineWatchListNotCached: no cached list, a 503.
func TestOfflineWatchListNotCached(t *testing.T) {
	h := newHarness(t, 1, nil)
	h.fakes[0].stop()
	h.waitOnline(false)
	_, resp := h.watchStream(h.node, "watch=true&sendInitialEvents=true")
	if resp.StatusCode != 503 {
		t.Errorf("HTTP %d", resp.StatusCode)
	}
}

// TestCorruptCacheDiscarded: a truncated or altered cache file is
// discarded, logged and never served.
func TestCorruptCacheDiscarded(t *testing.T) {
	for _, c := range []struct {
		name    string
		corrupt func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"one byte changed", func(b []byte) []byte { b[len(b)-3] ^= 1; return b }},
		{"header only", func(b []byte) []byte { return b[:strings.IndexByte(string(b), '\n')+1] }},
		{"empty", func([]byte) []byte { return nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, 1, nil)
			h.put(0, "a")
			if r := h.do(h.node, "GET", cmPath+"/a", "", ""); r.code != 200 {
				t.Fatal(r.code)
			}
			file := h.p.cache.path("node", "GET "+cmPath+"/a?|json")
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"kind":"ConfigMap"`) || !strings.Contains(string(b), `"name":"a"`) {
				t.Errorf("cache file not greppable JSON: %s", b)
			}
			if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
				t.Errorf("cache file mode %v", fi.Mode())
			}
			if fi, _ := os.Stat(filepath.Dir(file)); fi.Mode().Perm() != 0o700 {
				t.Errorf("cache dir mode %v", fi.Mode())
			}
			h.fakes[0].stop()
			h.waitOnline(false)
			writeTestFile(t, file, c.corrupt(b))
			r := h.do(h.node, "GET", cmPath+"/a", "", "")
			if r.code == 200 {
				t.Fatalf("corrupt file served: %s", r.body)
			}
			if !strings.Contains(h.logs.String(), "cache: discarded "+file) {
				t.Errorf("not logged:\n%s", h.logs)
			}
			if _, err := os.Stat(file); !os.IsNotExist(err) {
				t.Errorf("corrupt file kept: %v", err)
			}
		})
	}
}

// TestCacheBound: beyond CacheMaxBytes the least recently written go.
func TestCacheBound(t *testing.T) {
	h := newHarness(t, 1, nil)
	h.p.cache.max = 3000
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		h.fakes[0].put(n, map[string]string{"k": strings.Repeat(n, 400)})
		if r := h.do(h.node, "GET", cmPath+"/"+n, "", ""); r.code != 200 {
			t.Fatal(r.code)
		}
		time.Sleep(2 * time.Millisecond)
	}
	bytes, files := h.p.cache.size()
	if bytes > 3000 || files >= 8 || files == 0 {
		t.Fatalf("cache %d bytes in %d files, bound 3000", bytes, files)
	}
	var onDisk int64
	_ = filepath.Walk(filepath.Join(h.data, "cache"), func(_ string, fi os.FileInfo, _ error) error {
		if fi != nil && !fi.IsDir() {
			onDisk += fi.Size()
		}
		return nil
	})
	if onDisk != bytes {
		t.Errorf("on disk %d bytes, index says %d", onDisk, bytes)
	}
	if _, ok := h.p.cache.get("node", "GET "+cmPath+"/h?|json"); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := h.p.cache.get("node", "GET "+cmPath+"/a?|json"); ok {
		t.Error("the oldest entry was kept")
	}
	if !strings.Contains(h.logs.String(), "cache: evicted") {
		t.Error("eviction not logged")
	}
}

// TestTokenRequestCached: the kubelet's TokenRequest is cached per
// identity and request body and answered from the cache offline.
func TestTokenRequestCached(t *testing.T) {
	h := newHarness(t, 1, nil)
	const path = "/api/v1/namespaces/default/serviceaccounts/default/token"
	body := `{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","spec":{"audiences":["x"],"boundObjectRef":{"kind":"Pod","name":"p","uid":"u1"}}}`
	r := h.do(h.node, "POST", path, "", body)
	if r.code != 201 || !strings.Contains(r.body, "token-1") {
		t.Fatalf("online: %d %s", r.code, r.body)
	}
	h.fakes[0].stop()
	h.waitOnline(false)
	r = h.do(h.node, "POST", path, "", body)
	if r.code != 201 || !strings.Contains(r.body, "token-1") || r.header.Get(CacheHeader) != "hit" {
		t.Errorf("offline same request: %d %s", r.code, r.body)
	}
	other := strings.Replace(body, "u1", "u2", 1)
	if r := h.do(h.node, "POST", path, "", other); r.code != 503 {
		t.Errorf("offline other pod: %d %s", r.code, r.body)
	}
	if r := h.do(h.plain, "POST", path, "", body); r.code != 503 {
		t.Errorf("offline anonymous: %d %s", r.code, r.body)
	}
	matches, _ := filepath.Glob(filepath.Join(h.data, "cache", "node", "*token*"))
	if len(matches) != 1 {
		t.Fatalf("token cache files: %v", matches)
	}
	if fi, _ := os.Stat(matches[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("token cache file mode %v", fi.Mode())
	}
}
