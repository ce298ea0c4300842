// Package edgeproxy is edge-proxy: the node-local Kubernetes API endpoint
// of an edge node (cmd/edge-proxy; addresses and files in pkg/contract).
// The kubelet, kube-proxy and flannel talk to it; it forwards to every API
// server with health checks and failover, never widens a client's
// identity, and keeps GET/LIST/WATCH answers on disk to serve them while
// no API server answers.
//
// Identity (identity.go): a client certificate verified by the cluster CA
// for system:node:<nodeName> (group system:nodes) is forwarded with the
// node's own certificate (ClientCertFile, re-read every few seconds); any
// other certificate gets a 403; a bearer token is forwarded alone; a
// client with neither is forwarded with no credentials. Impersonation
// headers pass unchanged: upstream authorizes them against the forwarded
// identity.
//
// Upstreams (upstreams.go, health.go, serverlist.go): the config's servers
// plus DataDir/servers.json; GET /readyz every 2 s; the healthy server in
// use is kept until it fails. Every 30 s the list follows the
// default/kubernetes Endpoints (port "https") and is persisted; it is
// never emptied.
//
// Cache (store.go, request.go, handler.go, watch.go, liststate.go):
// DataDir/cache/<node|token-<sha256/8>|anonymous>/<readable>-<hash>, 0600
// files in 0700 directories. Each file is a one-line JSON header (version,
// length, sha256, status code, content type, key) followed by the body as
// the API server sent it (JSON), written to a temp file, fsynced and
// renamed. A file whose length or sha256 does not match is removed and
// logged ("cache: discarded <file>: <reason>"), never served. The key is
// the path, the query without resourceVersion/watch/limit/timeouts and the
// kind of answer asked for (JSON, which protobuf clients are given, or
// e.g. a Table). Paginated lists are not cached. WATCH events are folded
// into the cached LIST of the same key; a watch-list (sendInitialEvents)
// builds it up to the initial-events-end bookmark. The kubelet's
// TokenRequests are cached per identity, path and request body. The least
// recently written files go beyond CacheMaxBytes.
//
// Offline (no healthy server, or the request could not be sent): GET and
// LIST come from the cache (header X-Edge-Proxy-Cache: hit) or get a 503;
// WATCHes are held open (a watch-list first gets the cached items and the
// bookmark) and ended when a server answers again, so clients re-list;
// writes get a 503 at once. An online watch whose server goes unhealthy is
// ended.
package edgeproxy
