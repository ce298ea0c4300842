package tunnel

import (
	"encoding/json"
	"net/http"
	"time"
)

// ServerStatus is the server's /status.
type ServerStatus struct {
	Node       string           `json:"node"`
	Agents     []ConnectedAgent `json:"agents"`
	NodesKnown int              `json:"nodesKnown"`
	Synced     bool             `json:"synced"`
}

// ConnectedAgent is one agent in the server's /status.
type ConnectedAgent struct {
	Node    string `json:"node"`
	Remote  string `json:"remote"`
	Since   string `json:"since"`
	Streams int64  `json:"streams"` // relays open now
	Relayed int64  `json:"relayed"` // relays since it connected
}

// AgentStatus is the agent's /status.
type AgentStatus struct {
	Node    string       `json:"node"`
	Servers []ServerLink `json:"servers"`
}

// ServerLink is one server in the agent's /status.
type ServerLink struct {
	Address   string `json:"address"`
	Connected bool   `json:"connected"`
	Since     string `json:"since"` // connected since; empty while not
	LastError string `json:"lastError"`
	Streams   int64  `json:"streams"`
	Relayed   int64  `json:"relayed"`
}

// Status reports the connected agents (sorted by node) and the node watch.
func (s *Server) Status() ServerStatus {
	st := ServerStatus{
		Node:       s.cfg.NodeName,
		Agents:     []ConnectedAgent{},
		NodesKnown: len(s.nodes.Nodes()),
		Synced:     s.nodes.Synced(),
	}
	for _, a := range s.agents.list() {
		st.Agents = append(st.Agents, ConnectedAgent{
			Node:    a.node,
			Remote:  a.remote,
			Since:   formatSince(a.since),
			Streams: a.streams.Load(),
			Relayed: a.relayed.Load(),
		})
	}
	return st
}

// healthHandler serves /healthz ("ok") and /status (status() as JSON).
func healthHandler(status func() any) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(status())
	})
	return mux
}

func formatSince(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
