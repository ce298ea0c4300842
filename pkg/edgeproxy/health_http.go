package edgeproxy

import (
	"encoding/json"
	"net/http"
)

// Status is what /status reports.
type Status struct {
	Servers    []string `json:"servers"`
	Current    string   `json:"current"`
	Online     bool     `json:"online"`
	CacheBytes int64    `json:"cacheBytes"`
	CacheFiles int      `json:"cacheFiles"`
}

// Status reports the servers, the one in use and the cache size.
func (p *Proxy) Status() Status {
	online, _ := p.ups.state()
	bytes, files := p.cache.size()
	return Status{Servers: p.ups.servers(), Current: p.ups.currentRaw(), Online: online, CacheBytes: bytes, CacheFiles: files}
}

// HealthHandler serves /healthz and /status.
func (p *Proxy) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p.Status())
	})
	return mux
}
