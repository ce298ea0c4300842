package edgeproxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/contract"
)

// syncBuf collects the proxy's log.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t     testing.TB
	pki   *testPKI
	fakes []*fakeAPI
	p     *Proxy
	url   string
	logs  *syncBuf
	data  string
	cfg   contract.EdgeProxyConfig

	node, other, plain *http.Client
}

const testNode = "edge1"

func newHarness(t testing.TB, nFakes int, tweak func(*contract.EdgeProxyConfig)) *harness {
	t.Helper()
	h := &harness{t: t, pki: newTestPKI(t), logs: &syncBuf{}, data: t.TempDir()}
	for i := 0; i < nFakes; i++ {
		h.fakes = append(h.fakes, newFakeAPI(t, h.pki))
	}
	dir := h.pki.dir
	nc, nk := h.pki.issue(t, "system:node:"+testNode, []string{"system:nodes"}, false)
	writeTestFile(t, filepath.Join(dir, "kubelet-client-current.pem"), append(nc, nk...))
	sc, sk := h.pki.issue(t, "edge-proxy", nil, true)
	writeTestFile(t, filepath.Join(dir, "serving.crt"), sc)
	writeTestFile(t, filepath.Join(dir, "serving.key"), sk)
	h.cfg = contract.EdgeProxyConfig{NodeName: testNode, ClusterCAFile: h.pki.caFile,
		ClientCertFile: filepath.Join(dir, "kubelet-client-current.pem"), ServingCertFile: filepath.Join(dir, "serving.crt"),
		ServingKeyFile: filepath.Join(dir, "serving.key"), DataDir: h.data}
	for _, f := range h.fakes {
		h.cfg.Servers = append(h.cfg.Servers, f.url())
	}
	if tweak != nil {
		tweak(&h.cfg)
	}
	h.startProxy()
	h.node = h.client(h.pki.tlsCert(t, "system:node:"+testNode, []string{"system:nodes"}, false))
	h.other = h.client(h.pki.tlsCert(t, "system:node:edge2", []string{"system:nodes"}, false))
	h.plain = h.client()
	return h
}

func (h *harness) startProxy() {
	t := h.t
	p, err := New(h.cfg, Options{Logger: log.New(h.logs, "", 0), HealthInterval: 50 * time.Millisecond,
		HealthTimeout: 500 * time.Millisecond, RefreshInterval: 100 * time.Millisecond, CertRecheck: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Start(ctx)
	done := make(chan struct{})
	go func() { _ = p.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	h.p, h.url = p, "https://"+ln.Addr().String()
}

func (h *harness) client(certs ...tls.Certificate) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: h.pki.pool, Certificates: certs}, ForceAttemptHTTP2: true}}
}

type resp struct {
	code   int
	body   string
	header http.Header
}

func (h *harness) do(c *http.Client, method, path, token, body string) resp {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf, application/json")
	r, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, string(b), r.Header}
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) waitOnline(want bool) {
	h.t.Helper()
	waitFor(h.t, "online="+map[bool]string{true: "true", false: "false"}[want], func() bool { return h.p.Status().Online == want })
}
