package edgeproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

const initialEventsEnd = "k8s.io/initial-events-end"

// watchEvent is one event of a JSON watch stream.
type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// serveWatch forwards a WATCH, folding its events into the cached LIST of
// the same key. The watch ends when its server goes unhealthy (the client
// re-lists). Offline it is held open (see holdWatch).
func (p *Proxy) serveWatch(w http.ResponseWriter, r *http.Request, id identity, info reqInfo) {
	for attempt := 0; attempt < 2; attempt++ {
		x := p.ups.pick()
		if x == nil {
			break
		}
		var modify func(*http.Response) error
		if info.key != "" {
			modify = func(resp *http.Response) error {
				if resp.StatusCode == http.StatusOK && isJSON(resp.Header.Get("Content-Type")) {
					resp.Body = p.newWatchTee(resp.Body, id, info)
				}
				return nil
			}
		}
		serverDown, err := p.forwardUntilDown(w, r, &id, x, modify)
		if err == nil || r.Context().Err() != nil {
			return
		}
		if !serverDown {
			p.ups.setHealth(x, false, fmt.Sprintf("WATCH %s: %v", r.URL.Path, err))
		}
	}
	p.holdWatch(w, r, id, info)
}

// holdWatch keeps a watch open while offline. A watch-list gets the
// cached items and the initial-events-end bookmark first. It ends when a
// server answers again, so the client re-lists.
func (p *Proxy) holdWatch(w http.ResponseWriter, r *http.Request, id identity, info reqInfo) {
	online, recovered := p.ups.state()
	if online {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK) // a server just came back: end at once, the client re-watches
		return
	}
	var events [][]byte
	if info.watchList {
		e, ok := p.cache.get(id.dir, info.key)
		if !ok {
			writeOffline(w, msgOffline+"; not in edge-proxy's cache")
			return
		}
		ls, err := parseList(e.body)
		if err != nil {
			p.cache.discard(p.cache.path(id.dir, info.key), err.Error())
			writeOffline(w, msgOffline+"; not in edge-proxy's cache")
			return
		}
		kind, apiVersion := ls.itemKind(), ls.str("apiVersion")
		for _, it := range ls.items {
			b, _ := json.Marshal(watchEvent{Type: "ADDED", Object: withTypeMeta(it, kind, apiVersion)})
			events = append(events, b)
		}
		var rv string
		_ = json.Unmarshal(ls.meta["resourceVersion"], &rv)
		bm := map[string]any{"kind": kind, "apiVersion": apiVersion, "metadata": map[string]any{
			"resourceVersion": rv, "annotations": map[string]string{initialEventsEnd: "true"}}}
		obj, _ := json.Marshal(bm)
		b, _ := json.Marshal(watchEvent{Type: "BOOKMARK", Object: obj})
		events = append(events, b)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(CacheHeader, "hit")
	w.WriteHeader(http.StatusOK)
	for _, ev := range events {
		_, _ = w.Write(append(ev, '\n'))
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	var timeout <-chan time.Time
	if secs, err := strconv.Atoi(r.URL.Query().Get("timeoutSeconds")); err == nil && secs > 0 {
		t := time.NewTimer(time.Duration(secs) * time.Second) // as the API server would end it
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-r.Context().Done():
	case <-recovered:
	case <-timeout:
	}
}

// watchTee relays a watch stream and decodes a copy of it to update the
// cache. An upstream read error ends the stream cleanly (the client
// re-watches or re-lists).
type watchTee struct {
	rc io.ReadCloser
	pw *io.PipeWriter
}

func (t *watchTee) Read(b []byte) (int, error) {
	n, err := t.rc.Read(b)
	if n > 0 {
		_, _ = t.pw.Write(b[:n])
	}
	if err != nil {
		t.pw.Close()
		return n, io.EOF
	}
	return n, nil
}

func (t *watchTee) Close() error {
	t.pw.Close()
	return t.rc.Close()
}

func (p *Proxy) newWatchTee(rc io.ReadCloser, id identity, info reqInfo) io.ReadCloser {
	pr, pw := io.Pipe()
	wc := &watchCacher{p: p, id: id, key: info.key, watchList: info.watchList}
	if !info.watchList {
		if e, ok := p.cache.get(id.dir, info.key); ok {
			if ls, err := parseList(e.body); err == nil {
				wc.list = ls
			}
		}
	}
	go wc.run(pr)
	return &watchTee{rc: rc, pw: pw}
}

// watchCacher folds the events of one watch into its cached list, writing
// it at most every flushEvery and at the end.
type watchCacher struct {
	p         *Proxy
	id        identity
	key       string
	watchList bool

	mu      sync.Mutex
	list    *listState // nil: nothing to update (no cached list)
	synced  bool       // watch-list: the initial events are all in
	dirty   bool
	pending *time.Timer
}

const flushEvery = time.Second

func (c *watchCacher) run(r *io.PipeReader) {
	defer func() {
		_, _ = io.Copy(io.Discard, r)
		c.flush()
	}()
	dec := json.NewDecoder(r)
	for {
		var ev watchEvent
		if err := dec.Decode(&ev); err != nil {
			return
		}
		if err := c.event(ev); err != nil {
			c.p.log.Printf("cache: watch %s: %v", c.key, err)
			return
		}
	}
}

func (c *watchCacher) event(ev watchEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.Type == "ERROR" {
		return nil
	}
	if c.list == nil {
		if !c.watchList || c.synced {
			return nil
		}
		var m objMeta
		if err := json.Unmarshal(ev.Object, &m); err != nil {
			return fmt.Errorf("parse event object: %w", err)
		}
		c.list = newListState(m.Kind+"List", m.APIVersion)
	}
	changed, err := c.list.apply(ev.Type, ev.Object)
	if err != nil {
		return err
	}
	if c.watchList && !c.synced {
		if ev.Type == "BOOKMARK" {
			var m objMeta
			_ = json.Unmarshal(ev.Object, &m)
			if m.Metadata.Annotations[initialEventsEnd] == "true" {
				c.synced = true
				c.dirty = true
				c.writeLocked()
			}
		}
		return nil
	}
	if changed {
		c.dirty = true
		if c.pending == nil {
			c.pending = time.AfterFunc(flushEvery, c.flush)
		}
	}
	return nil
}

func (c *watchCacher) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeLocked()
}

func (c *watchCacher) writeLocked() {
	if c.pending != nil {
		c.pending.Stop()
		c.pending = nil
	}
	if !c.dirty || c.list == nil || (c.watchList && !c.synced) {
		return
	}
	c.dirty = false
	b, err := c.list.encode()
	if err == nil {
		err = c.p.cache.put(c.id.dir, entry{Code: http.StatusOK, ContentType: "application/json", Key: c.key}, b)
	}
	if err != nil {
		c.p.log.Printf("cache: watch %s: %v", c.key, err)
	}
}
