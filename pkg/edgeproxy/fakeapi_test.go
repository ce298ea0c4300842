package edgeproxy

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeAPI is a small, faithful-enough kube-apiserver: ConfigMaps in
// namespace default with LIST (resourceVersion), GET, WATCH (JSON events,
// bookmarks, sendInitialEvents), writes, TokenRequest, /readyz and the
// default/kubernetes Endpoints. It records the credentials it receives.
type fakeAPI struct {
	t    testing.TB
	pki  *testPKI
	cert tls.Certificate

	mu        sync.Mutex
	addr      string
	srv       *http.Server
	rv        int
	objs      map[string]map[string]any // name -> configmap (without kind)
	order     []string
	watchers  map[chan watchEvent]bool
	seen      []seenReq
	endpoints []string // host:port of every fake, for endpoints/kubernetes
	// validTokens, when set, are the bearer tokens accepted (others: 401)
	validTokens map[string]bool
	// endpointsForbidden: nodes may not read the Endpoints (kubeadm's default)
	endpointsForbidden bool
	tokens             int
}

type seenReq struct {
	Method, Path, Query, CN, Auth, Accept string
}

func newFakeAPI(t testing.TB, pki *testPKI) *fakeAPI { return newFakeAPIAt(t, pki, "") }

// newFakeAPIAt listens on addr ("": any port on 127.0.0.1).
func newFakeAPIAt(t testing.TB, pki *testPKI, addr string) *fakeAPI {
	f := &fakeAPI{t: t, pki: pki, addr: addr, cert: pki.tlsCert(t, "kube-apiserver", nil, true),
		objs: map[string]map[string]any{}, watchers: map[chan watchEvent]bool{}, rv: 100}
	f.start()
	t.Cleanup(f.stop)
	return f
}

func (f *fakeAPI) url() string { return "https://" + f.addr }

func (f *fakeAPI) start() {
	f.mu.Lock()
	addr := f.addr
	f.mu.Unlock()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		f.t.Fatalf("fake API listen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: f, TLSConfig: &tls.Config{Certificates: []tls.Certificate{f.cert},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: f.pki.pool}, ErrorLog: log.New(io.Discard, "", 0)}
	f.mu.Lock()
	f.addr, f.srv = ln.Addr().String(), srv
	f.mu.Unlock()
	go func() { _ = srv.ServeTLS(ln, "", "") }()
}

func (f *fakeAPI) stop() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

func (f *fakeAPI) requests() []seenReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenReq(nil), f.seen...)
}

func (f *fakeAPI) lastRequest(path string) (seenReq, bool) {
	rs := f.requests()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Path == path {
			return rs[i], true
		}
	}
	return seenReq{}, false
}

func fakeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) withKind(o map[string]any) map[string]any {
	c := map[string]any{"kind": "ConfigMap", "apiVersion": "v1"}
	for k, v := range o {
		c[k] = v
	}
	return c
}

// put stores a configmap and tells the watchers.
func (f *fakeAPI) put(name string, data map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rv++
	typ := "MODIFIED"
	if _, ok := f.objs[name]; !ok {
		typ = "ADDED"
		f.order = append(f.order, name)
	}
	o := map[string]any{"metadata": map[string]any{"name": name, "namespace": "default", "resourceVersion": strconv.Itoa(f.rv)}, "data": data}
	f.objs[name] = o
	f.notifyLocked(typ, f.withKind(o))
}

func (f *fakeAPI) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objs[name]
	if !ok {
		return
	}
	f.rv++
	delete(f.objs, name)
	for i, n := range f.order {
		if n == name {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
	o["metadata"].(map[string]any)["resourceVersion"] = strconv.Itoa(f.rv)
	f.notifyLocked("DELETED", f.withKind(o))
}

func (f *fakeAPI) notifyLocked(typ string, obj map[string]any) {
	b, _ := json.Marshal(obj)
	for ch := range f.watchers {
		select {
		case ch <- watchEvent{Type: typ, Object: b}:
		default:
		}
	}
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := seenReq{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), Accept: r.Header.Get("Accept")}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		s.CN = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	f.mu.Lock()
	f.seen = append(f.seen, s)
	f.mu.Unlock()
	const cms = "/api/v1/namespaces/default/configmaps"
	p := r.URL.Path
	f.mu.Lock()
	valid := f.validTokens
	f.mu.Unlock()
	if tok, ok := strings.CutPrefix(s.Auth, "Bearer "); ok && valid != nil && !valid[tok] {
		fakeJSON(w, 401, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Unauthorized", "code": 401})
		return
	}
	switch {
	case p == "/readyz":
		_, _ = io.WriteString(w, "ok")
	case p == "/whoami":
		fakeJSON(w, 200, s)
	case p == "/api/v1/namespaces/default/endpoints/kubernetes" && f.isEndpointsForbidden():
		fakeJSON(w, 403, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403})
	case p == "/api/v1/namespaces/default/endpoints/kubernetes":
		f.mu.Lock()
		var addrs []map[string]string
		port := ""
		for _, hp := range f.endpoints {
			h, pt, _ := net.SplitHostPort(hp)
			addrs = append(addrs, map[string]string{"ip": h})
			port = pt // the fakes share 127.0.0.1, so a test uses one port
		}
		f.mu.Unlock()
		pn, _ := strconv.Atoi(port)
		fakeJSON(w, 200, map[string]any{"kind": "Endpoints", "apiVersion": "v1", "metadata": map[string]any{"name": "kubernetes"},
			"subsets": []any{map[string]any{"addresses": addrs, "ports": []any{map[string]any{"name": "https", "port": pn}}}}})
	case strings.HasSuffix(p, "/token") && r.Method == http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.tokens++
		n := f.tokens
		f.mu.Unlock()
		fakeJSON(w, 201, map[string]any{"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
			"spec": json.RawMessage(body), "status": map[string]any{"token": fmt.Sprintf("token-%d", n), "expirationTimestamp": "2026-12-02T23:00:00Z"}})
	case p == cms && r.Method == http.MethodGet && r.URL.Query().Get("watch") == "true":
		f.watch(w, r)
	case p == cms && r.Method == http.MethodGet:
		f.mu.Lock()
		items := []any{}
		for _, n := range f.order {
			items = append(items, f.objs[n])
		}
		md := map[string]any{"resourceVersion": strconv.Itoa(f.rv)}
		if r.URL.Query().Get("limit") == "1" && len(items) > 1 {
			items = items[:1]
			md["continue"] = "page2"
		}
		f.mu.Unlock()
		fakeJSON(w, 200, map[string]any{"kind": "ConfigMapList", "apiVersion": "v1", "metadata": md, "items": items})
	case strings.HasPrefix(p, cms+"/") && r.Method == http.MethodGet:
		f.mu.Lock()
		o, ok := f.objs[strings.TrimPrefix(p, cms+"/")]
		var obj map[string]any
		if ok {
			obj = f.withKind(o)
		}
		f.mu.Unlock()
		if !ok {
			fakeJSON(w, 404, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})
			return
		}
		fakeJSON(w, 200, obj)
	case strings.HasPrefix(p, cms+"/") && r.Method == http.MethodDelete:
		f.remove(strings.TrimPrefix(p, cms+"/"))
		fakeJSON(w, 200, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Success"})
	case p == cms && r.Method == http.MethodPost:
		var o struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&o)
		f.put(o.Metadata.Name, o.Data)
		fakeJSON(w, 201, map[string]any{"kind": "ConfigMap", "apiVersion": "v1", "metadata": map[string]any{"name": o.Metadata.Name}})
	default:
		fakeJSON(w, 404, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})
	}
}

func (f *fakeAPI) watch(w http.ResponseWriter, r *http.Request) {
	ch := make(chan watchEvent, 100)
	f.mu.Lock()
	f.watchers[ch] = true
	var initial []watchEvent
	rv := strconv.Itoa(f.rv)
	if r.URL.Query().Get("sendInitialEvents") == "true" {
		for _, n := range f.order {
			b, _ := json.Marshal(f.withKind(f.objs[n]))
			initial = append(initial, watchEvent{Type: "ADDED", Object: b})
		}
		b, _ := json.Marshal(map[string]any{"kind": "ConfigMap", "apiVersion": "v1", "metadata": map[string]any{
			"resourceVersion": rv, "annotations": map[string]string{initialEventsEnd: "true"}}})
		initial = append(initial, watchEvent{Type: "BOOKMARK", Object: b})
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.watchers, ch)
		f.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	enc := json.NewEncoder(w)
	fl := w.(http.Flusher)
	for _, ev := range initial {
		_ = enc.Encode(ev)
	}
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-ch:
			_ = enc.Encode(ev)
			fl.Flush()
		}
	}
}

func (f *fakeAPI) isEndpointsForbidden() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.endpointsForbidden
}
