package edgeproxy

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// Benchmarks of the latency edge-proxy adds: the same GET or LIST (50
// ConfigMaps) against the fake API server directly and through the proxy,
// with p50/p99 reported (go test -bench . -run '^$' ./pkg/edgeproxy/).

func benchSetup(b *testing.B) (*harness, *http.Client) {
	h := newHarness(b, 1, nil)
	for i := 0; i < 50; i++ {
		h.fakes[0].put(fmt.Sprintf("cm-%02d", i), map[string]string{"k": "value"})
	}
	direct := h.client(h.pki.tlsCert(b, "system:node:"+testNode, []string{"system:nodes"}, false))
	return h, direct
}

func benchGet(b *testing.B, c *http.Client, url string) {
	lat := make([]time.Duration, 0, b.N)
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "application/json")
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		r, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if r.StatusCode != 200 {
			b.Fatalf("HTTP %d", r.StatusCode)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func BenchmarkGetDirect(b *testing.B) {
	h, direct := benchSetup(b)
	benchGet(b, direct, h.fakes[0].url()+cmPath+"/cm-01")
}

func BenchmarkGetThroughProxy(b *testing.B) {
	h, _ := benchSetup(b)
	benchGet(b, h.node, h.url+cmPath+"/cm-01")
}

func BenchmarkListDirect(b *testing.B) {
	h, direct := benchSetup(b)
	benchGet(b, direct, h.fakes[0].url()+cmPath+"?limit=500")
}

func BenchmarkListThroughProxy(b *testing.B) {
	h, _ := benchSetup(b)
	benchGet(b, h.node, h.url+cmPath+"?limit=500")
}
