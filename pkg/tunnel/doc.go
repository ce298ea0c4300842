// Package tunnel is edge-tunnel (cmd/edge-tunnel; paths and ports in
// pkg/contract): it lets the API server reach edge nodes it cannot dial.
//
// The server runs on every master. kube-apiserver's egress selector sends
// each connection of its "cluster" egress as an HTTP CONNECT on a Unix
// socket (egress.go, connect.go). A CONNECT whose host is one of a node's
// addresses or lies in one of its pod CIDRs (routes.go, nodes.go) goes
// through that node's agent when one is connected; anything else, or a
// stream the agent's session cannot open, is dialled directly.
//
// The agent runs on every edge node and dials out to every server (mutual
// TLS: the node's kubelet client certificate against the cluster CA;
// identity.go). After one hello line (protocol.go) the TLS connection
// carries a yamux session; the server opens a stream per relayed CONNECT,
// names the target in one header line, and the agent dials it and splices
// the bytes (relay.go). Agents follow edge-proxy's list of API servers
// (serversfile.go) and reconnect with a short backoff (backoff.go).
//
// Both serve /healthz and /status (JSON, status.go) on a local address.
package tunnel
