package edgeproxy

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/contract"
)

// TestIdentity: the node's certificate is forwarded as the node, another
// certificate is refused, a token goes alone, nothing goes anonymous.
func TestIdentity(t *testing.T) {
	h := newHarness(t, 1, nil)
	f := h.fakes[0]
	cases := []struct {
		name     string
		client   *http.Client
		token    string
		wantCode int
		wantCN   string
		wantAuth string
	}{
		{"node certificate", h.node, "", 200, "system:node:" + testNode, ""},
		{"node certificate and a token: still only the node", h.node, "abc", 200, "system:node:" + testNode, ""},
		{"another node's certificate", h.other, "", 403, "", ""},
		{"bearer token", h.plain, "tok123", 200, "", "Bearer tok123"},
		{"anonymous", h.plain, "", 200, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.requests())
			r := h.do(c.client, "GET", "/whoami", c.token, "")
			if r.code != c.wantCode {
				t.Fatalf("HTTP %d, want %d: %s", r.code, c.wantCode, r.body)
			}
			if c.wantCode == 403 {
				if !strings.Contains(r.body, `"kind":"Status"`) || !strings.Contains(r.body, "only this node's certificate") {
					t.Errorf("403 body: %s", r.body)
				}
				for _, s := range f.requests()[before:] {
					if s.Path == "/whoami" {
						t.Errorf("refused request reached upstream: %+v", s)
					}
				}
				return
			}
			s, _ := f.lastRequest("/whoami")
			if s.CN != c.wantCN || s.Auth != c.wantAuth {
				t.Errorf("upstream saw CN=%q Auth=%q, want CN=%q Auth=%q", s.CN, s.Auth, c.wantCN, c.wantAuth)
			}
		})
	}
	// Whatever a local unauthenticated client does, upstream never sees the node.
	for _, path := range []string{"/whoami", "/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1"} {
		if path[len(path)-1] != '1' {
			h.do(h.plain, "GET", path, "", "")
		}
		s, _ := f.lastRequest(strings.SplitN(path, "?", 2)[0])
		if s.CN != "" {
			t.Errorf("anonymous %s forwarded as %q", path, s.CN)
		}
	}
}

// TestNodeCertReload: a rotated node certificate is used without restart.
func TestNodeCertReload(t *testing.T) {
	h := newHarness(t, 1, nil)
	h.do(h.node, "GET", "/whoami", "", "")
	c, k := h.pki.issue(t, "system:node:"+testNode, []string{"system:nodes"}, false)
	old, _ := os.ReadFile(h.cfg.ClientCertFile)
	writeTestFile(t, h.cfg.ClientCertFile+".new", append(c, k...))
	if err := os.Rename(h.cfg.ClientCertFile+".new", h.cfg.ClientCertFile); err != nil {
		t.Fatal(err)
	}
	if string(old) == string(append(c, k...)) {
		t.Fatal("same cert")
	}
	waitFor(t, "the new certificate in use", func() bool {
		cert, _, err := h.p.nodeCert.get()
		return err == nil && string(cert.Certificate[0]) != "" && cert.Leaf.SerialNumber.Cmp(mustLeaf(t, c).SerialNumber) == 0
	})
}

// TestFailover: the server in use is stopped; edge-proxy switches to the
// other one, GETs keep working, and it says so in its log.
func TestFailover(t *testing.T) {
	h := newHarness(t, 2, nil)
	h.put(0, "a")
	h.put(1, "a")
	if r := h.do(h.node, "GET", "/api/v1/namespaces/default/configmaps/a", "", ""); r.code != 200 {
		t.Fatalf("GET: %d %s", r.code, r.body)
	}
	cur := h.p.Status().Current
	victim, other := 0, 1
	if cur == h.fakes[1].url() {
		victim, other = 1, 0
	}
	h.fakes[victim].stop()
	// The very next GET already works: it is retried on the other server.
	r := h.do(h.node, "GET", "/api/v1/namespaces/default/configmaps/a", "", "")
	if r.code != 200 || r.header.Get(CacheHeader) != "" {
		t.Fatalf("GET after the stop: %d cache=%q %s", r.code, r.header.Get(CacheHeader), r.body)
	}
	waitFor(t, "a switch", func() bool { return h.p.Status().Current == h.fakes[other].url() })
	if !strings.Contains(h.logs.String(), "upstream: using "+h.fakes[other].url()) {
		t.Errorf("no switch in the log:\n%s", h.logs)
	}
	if s := h.p.Status(); !s.Online {
		t.Errorf("status: %+v", s)
	}
}

// put creates configmap name on fake i.
func (h *harness) put(i int, name string) { h.fakes[i].put(name, map[string]string{"k": name}) }

// TestOfflineWritesFailFast: writes while no server answers get a 503.
func TestOfflineWritesFailFast(t *testing.T) {
	h := newHarness(t, 1, nil)
	h.fakes[0].stop()
	h.waitOnline(false)
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		r := h.do(h.node, m, "/api/v1/namespaces/default/configmaps/x", "", `{}`)
		if r.code != 503 || !strings.Contains(r.body, "writes are not queued") {
			t.Errorf("%s offline: %d %s", m, r.code, r.body)
		}
	}
}

// TestHealthEndpoints: /healthz and /status.
func TestHealthEndpoints(t *testing.T) {
	h := newHarness(t, 1, nil)
	rec := newRecorder()
	h.p.HealthHandler().ServeHTTP(rec, mustReq("GET", "/healthz"))
	if rec.code != 200 || rec.body.String() != "ok" {
		t.Errorf("/healthz: %d %q", rec.code, rec.body.String())
	}
	rec = newRecorder()
	h.p.HealthHandler().ServeHTTP(rec, mustReq("GET", "/status"))
	var st Status
	if err := json.Unmarshal(rec.body.Bytes(), &st); err != nil || !st.Online || st.Current != h.fakes[0].url() {
		t.Errorf("/status: %v %s", err, rec.body.String())
	}
}

// TestServersFollowEndpoints: the list follows the kubernetes Endpoints,
// is persisted, and the persisted list is used at the next start.
func TestServersFollowEndpoints(t *testing.T) {
	h := newHarness(t, 1, nil)
	// a second server on another address of the same port is not possible
	// on one loopback; announce the one fake by IP and check persistence.
	h.fakes[0].mu.Lock()
	h.fakes[0].endpoints = []string{h.fakes[0].addr}
	h.fakes[0].mu.Unlock()
	want := h.fakes[0].url()
	h.cfg.Servers = []string{"https://localhost:" + strings.Split(h.fakes[0].addr, ":")[1]}
	h2 := &harness{t: t, pki: h.pki, logs: &syncBuf{}, data: t.TempDir(), cfg: h.cfg, fakes: h.fakes}
	h2.cfg.DataDir = h2.data
	h2.startProxy()
	waitFor(t, "servers from the endpoints", func() bool {
		s := h2.p.Status().Servers
		return len(s) == 1 && s[0] == want
	})
	waitFor(t, "servers.json", func() bool {
		b, err := os.ReadFile(filepath.Join(h2.data, "servers.json"))
		return err == nil && strings.Contains(string(b), want)
	})
	// an empty Endpoints never empties the list
	h.fakes[0].mu.Lock()
	h.fakes[0].endpoints = nil
	h.fakes[0].mu.Unlock()
	h2.p.refreshServers(t.Context())
	if s := h2.p.Status().Servers; len(s) != 1 {
		t.Errorf("servers after empty endpoints: %v", s)
	}
	// next start: config seed and persisted list
	h3 := &harness{t: t, pki: h.pki, logs: &syncBuf{}, data: h2.data, cfg: h2.cfg, fakes: h.fakes}
	h3.cfg.Servers = nil
	h3.startProxy()
	if s := h3.p.Status().Servers; len(s) != 1 || s[0] != want {
		t.Errorf("servers at restart from servers.json: %v", s)
	}
}

// TestServersFollowTwoMasters: two API servers (127.0.0.1 and 127.0.0.2 on
// one port) announced by the Endpoints; edge-proxy starts knowing only the
// first, learns the second, persists both and fails over to it.
func TestServersFollowTwoMasters(t *testing.T) {
	h := newHarness(t, 1, nil)
	port := strings.Split(h.fakes[0].addr, ":")[1]
	second := newFakeAPIAt(t, h.pki, "127.0.0.2:"+port)
	for _, f := range []*fakeAPI{h.fakes[0], second} {
		f.mu.Lock()
		f.endpoints = []string{h.fakes[0].addr, second.addr}
		f.mu.Unlock()
		f.put("a", map[string]string{"k": "a"})
	}
	waitFor(t, "both servers known", func() bool { return len(h.p.Status().Servers) == 2 })
	waitFor(t, "servers.json with both", func() bool {
		b, _ := os.ReadFile(filepath.Join(h.data, "servers.json"))
		return strings.Contains(string(b), second.url())
	})
	waitFor(t, "the second server healthy", func() bool {
		h.p.ups.mu.Lock()
		defer h.p.ups.mu.Unlock()
		return len(h.p.ups.list) == 2 && h.p.ups.list[1].healthy
	})
	h.fakes[0].stop()
	if r := h.do(h.node, "GET", "/api/v1/namespaces/default/configmaps/a", "", ""); r.code != 200 || r.header.Get(CacheHeader) != "" {
		t.Fatalf("GET after the first master stopped: %d %s", r.code, r.body)
	}
	waitFor(t, "failover to the learnt server", func() bool { return h.p.Status().Current == second.url() })
}

// TestLoadConfig: YAML with the contract's names, defaults filled, unknown fields refused.
func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, yaml string
		ok         bool
	}{
		{"minimal", "nodeName: edge1\nservers: [https://10.0.0.1:6443]\n", true},
		{"full", "nodeName: edge1\nservers: [https://10.0.0.1:6443]\ncacheMaxBytes: 1000\nlisten: 127.0.0.1:1\ndataDir: /x\n", true},
		{"unknown field", "nodeName: edge1\nbogus: 1\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".yaml")
			writeTestFile(t, p, []byte(c.yaml))
			cfg, err := LoadConfig(p)
			if (err == nil) != c.ok {
				t.Fatalf("err %v, want ok=%v", err, c.ok)
			}
			if err != nil {
				return
			}
			if cfg.NodeName != "edge1" || cfg.ClusterCAFile == "" || cfg.HealthListen == "" || cfg.CacheMaxBytes <= 0 {
				t.Errorf("defaults not filled: %+v", cfg)
			}
		})
	}
}

// TestServersEndpointsForbidden: without RBACManifest the node may not read
// the Endpoints; the list is kept and the reason logged once.
func TestServersEndpointsForbidden(t *testing.T) {
	h := newHarness(t, 1, func(*contract.EdgeProxyConfig) {})
	h.fakes[0].mu.Lock()
	h.fakes[0].endpointsForbidden = true
	h.fakes[0].mu.Unlock()
	waitFor(t, "the refusal logged", func() bool { return strings.Contains(h.logs.String(), "RBACManifest") })
	time.Sleep(300 * time.Millisecond) // a few more refreshes
	if n := strings.Count(h.logs.String(), "RBACManifest"); n != 1 {
		t.Errorf("logged %d times:\n%s", n, h.logs)
	}
	if s := h.p.Status().Servers; len(s) != 1 || s[0] != h.fakes[0].url() {
		t.Errorf("servers %v", s)
	}
}

// TestServingCertReload: a renewed serving certificate is served to new
// connections without a restart.
func TestServingCertReload(t *testing.T) {
	h := newHarness(t, 1, nil)
	c, k := h.pki.issue(t, "edge-proxy-renewed", nil, true)
	writeTestFile(t, h.cfg.ServingKeyFile, k)
	writeTestFile(t, h.cfg.ServingCertFile, c)
	waitFor(t, "the renewed certificate served", func() bool {
		r, err := h.client().Get(h.url + "/whoami")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.TLS.PeerCertificates[0].Subject.CommonName == "edge-proxy-renewed"
	})
}
