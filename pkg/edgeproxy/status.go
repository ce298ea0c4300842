package edgeproxy

import (
	"encoding/json"
	"net/http"
)

// writeStatus answers with a Kubernetes Status object.
func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	b, _ := json.Marshal(map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code,
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

const (
	msgOffline       = "edge-proxy: no API server reachable (offline)"
	msgOfflineWrites = "edge-proxy: no API server reachable (offline); writes are not queued"
)

func writeOffline(w http.ResponseWriter, msg string) {
	writeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", msg)
}
