package edgeproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxCachedBody bounds what one cached response may hold in memory.
const maxCachedBody = 16 << 20

// ServeHTTP is the node-local API endpoint.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := identify(r, p.cfg.NodeName, p.tokens)
	if id.kind == idForbidden {
		writeStatus(w, http.StatusForbidden, "Forbidden", id.reason)
		return
	}
	info := classify(r)
	if info.key != "" {
		if info.rewriteAccept {
			r.Header.Set("Accept", "application/json")
		}
		// let the upstream transport do (and undo) compression, so what
		// is cached is plain JSON
		r.Header.Del("Accept-Encoding")
	}
	switch info.kind {
	case kindGet:
		p.serveGet(w, r, id, info)
	case kindWatch:
		p.serveWatch(w, r, id, info)
	case kindToken:
		p.serveToken(w, r, id, info)
	default:
		p.serveOnce(w, r, id, info)
	}
}

// serveOnce forwards a write or another request once; offline it fails fast.
func (p *Proxy) serveOnce(w http.ResponseWriter, r *http.Request, id identity, info reqInfo) {
	msg := msgOffline
	if info.kind == kindWrite {
		msg = msgOfflineWrites
	}
	x := p.ups.pick()
	if x == nil {
		writeOffline(w, msg)
		return
	}
	if err := p.forward(w, r, &id, x, p.cacheOK(&id, info.key)); err != nil {
		if r.Context().Err() != nil {
			return
		}
		p.ups.setHealth(x, false, fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
		writeOffline(w, msg+": "+err.Error())
	}
}

// serveGet forwards a GET/LIST (retried once on another server if it
// cannot connect), caching a 200; offline it answers from the cache.
func (p *Proxy) serveGet(w http.ResponseWriter, r *http.Request, id identity, info reqInfo) {
	for attempt := 0; attempt < 2; attempt++ {
		x := p.ups.pick()
		if x == nil {
			break
		}
		serverDown, err := p.forwardUntilDown(w, r, &id, x, p.cacheOK(&id, info.key))
		if err == nil || r.Context().Err() != nil {
			return
		}
		if !serverDown {
			p.ups.setHealth(x, false, fmt.Sprintf("GET %s: %v", r.URL.Path, err))
		}
	}
	p.serveFromCache(w, id, info.key)
}

// cacheOK is the response hook that caches a 200 JSON answer under key
// (nil when the request is not cacheable). id is read when the answer
// comes: forwarding may settle it (a token linked to its service account).
func (p *Proxy) cacheOK(id *identity, key string) func(*http.Response) error {
	if key == "" {
		return nil
	}
	return func(resp *http.Response) error {
		if resp.StatusCode == http.StatusOK && isJSON(resp.Header.Get("Content-Type")) {
			resp.Body = p.captureBody(resp, *id, key)
		}
		return nil
	}
}

func (p *Proxy) serveFromCache(w http.ResponseWriter, id identity, key string) {
	if key == "" {
		writeOffline(w, msgOffline)
		return
	}
	e, ok := p.cache.get(id.dir, key)
	if !ok {
		writeOffline(w, msgOffline+"; not in edge-proxy's cache")
		return
	}
	w.Header().Set("Content-Type", e.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(e.body)))
	w.Header().Set(CacheHeader, "hit")
	w.WriteHeader(e.Code)
	_, _ = w.Write(e.body)
}

// CacheHeader marks answers served from the cache.
const CacheHeader = "X-Edge-Proxy-Cache"

func isJSON(ct string) bool { return strings.HasPrefix(strings.TrimSpace(ct), "application/json") }

// captureBody relays the body and, once it was read whole, caches it
// (unless it is one page of a paginated list).
func (p *Proxy) captureBody(resp *http.Response, id identity, key string) io.ReadCloser {
	code, ct := resp.StatusCode, resp.Header.Get("Content-Type")
	return &captureReader{rc: resp.Body, limit: maxCachedBody, done: func(body []byte) {
		if isPaginated(body) {
			return
		}
		if err := p.cache.put(id.dir, entry{Code: code, ContentType: ct, Key: key}, body); err != nil {
			p.log.Printf("cache: %v", err)
		}
	}}
}

type captureReader struct {
	rc    io.ReadCloser
	buf   bytes.Buffer
	limit int
	over  bool
	done  func([]byte)
	also  func([]byte)
}

func (c *captureReader) Read(b []byte) (int, error) {
	n, err := c.rc.Read(b)
	if n > 0 && !c.over {
		if c.buf.Len()+n > c.limit {
			c.over = true
			c.buf = bytes.Buffer{}
		} else {
			c.buf.Write(b[:n])
		}
	}
	if err == io.EOF && !c.over && c.done != nil {
		c.done(c.buf.Bytes())
		if c.also != nil {
			c.also(c.buf.Bytes())
		}
		c.done = nil
	}
	return n, err
}

func (c *captureReader) Close() error { return c.rc.Close() }

// serveToken forwards a TokenRequest and caches the 201; offline (or if
// no server can be reached) the cached answer to the same request is given.
func (p *Proxy) serveToken(w http.ResponseWriter, r *http.Request, id identity, info reqInfo) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "BadRequest", "edge-proxy: read request body: "+err.Error())
		return
	}
	sum := sha256.Sum256(body)
	info.key += "|" + hex.EncodeToString(sum[:])
	for attempt := 0; attempt < 2; attempt++ {
		x := p.ups.pick()
		if x == nil {
			break
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		modify := func(resp *http.Response) error {
			if resp.StatusCode == http.StatusCreated && isJSON(resp.Header.Get("Content-Type")) {
				resp.Body = p.captureBody(resp, id, info.key)
				resp.Body.(*captureReader).also = func(body []byte) {
					if tok, err := issuedToken(body); err == nil {
						p.tokens.confirm(tok) // issued by an API server: its holder gets the subject's cache
					}
				}
			}
			return nil
		}
		serverDown, err := p.forwardUntilDown(w, r, &id, x, modify)
		if err == nil || r.Context().Err() != nil {
			return
		}
		if !serverDown {
			p.ups.setHealth(x, false, fmt.Sprintf("POST %s: %v", r.URL.Path, err))
		}
	}
	if _, ok := p.cache.get(id.dir, info.key); !ok {
		writeOffline(w, msgOfflineWrites+"; no cached token for this request")
		return
	}
	p.serveFromCache(w, id, info.key)
}
