package edgeproxy

import (
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// reqKind is what edge-proxy does with a request.
type reqKind int

const (
	kindOther reqKind = iota // forwarded once, never cached
	kindGet                  // GET/LIST: cached, served from cache offline
	kindWatch                // WATCH: updates the cached LIST, held offline
	kindToken                // TokenRequest POST: cached, served from cache offline
	kindWrite                // fails fast offline
)

var tokenPath = regexp.MustCompile(`^/api/v1/namespaces/[^/]+/serviceaccounts/[^/]+/token$`)

// streaming subresources are never cached.
var streamingSub = map[string]bool{"log": true, "exec": true, "attach": true, "portforward": true, "proxy": true}

// droppedParams do not change what a GET/LIST returns (for the cache).
var droppedParams = map[string]bool{
	"resourceVersion": true, "resourceVersionMatch": true, "timeout": true, "timeoutSeconds": true,
	"watch": true, "allowWatchBookmarks": true, "sendInitialEvents": true, "limit": true,
}

type reqInfo struct {
	kind reqKind
	// key is the cache key (empty: not cacheable).
	key string
	// rewriteAccept: the client accepts JSON; ask upstream for JSON only.
	rewriteAccept bool
	// watchList: a WATCH with sendInitialEvents=true.
	watchList bool
}

func isTrue(v string) bool { return v == "true" || v == "1" }

func classify(r *http.Request) reqInfo {
	q := r.URL.Query()
	path := r.URL.Path
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		if tokenPath.MatchString(path) {
			return reqInfo{kind: kindToken, key: "POST " + path + "|" + acceptClass(r.Header.Get("Accept")), rewriteAccept: jsonAcceptable(r.Header.Get("Accept"))}
		}
		return reqInfo{kind: kindWrite}
	case http.MethodPut, http.MethodPatch:
		// The answer to a successful update is the object as stored: it
		// refreshes the cached GET of that object, so a client that reads
		// back what it wrote (flannel's node annotations) sees it offline.
		info := reqInfo{kind: kindWrite}
		if obj := writtenObject(path); obj != "" && jsonAcceptable(r.Header.Get("Accept")) {
			info.key, info.rewriteAccept = "GET "+obj+"?|json", true
		}
		return info
	case http.MethodDelete:
		return reqInfo{kind: kindWrite}
	default:
		return reqInfo{kind: kindOther}
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 0 || (segs[0] != "api" && segs[0] != "apis" && segs[0] != "version") || streamingSub[segs[len(segs)-1]] || q.Has("continue") || strings.Contains(path, "/watch/") {
		if strings.Contains(path, "/watch/") {
			return reqInfo{kind: kindWatch}
		}
		return reqInfo{kind: kindOther}
	}
	info := reqInfo{kind: kindGet, watchList: isTrue(q.Get("sendInitialEvents"))}
	if isTrue(q.Get("watch")) {
		info.kind = kindWatch
	}
	accept := r.Header.Get("Accept")
	info.rewriteAccept = jsonAcceptable(accept)
	info.key = "GET " + path + "?" + normalizedQuery(q) + "|" + acceptClass(accept)
	return info
}

// writtenObject is the object path an update writes: the path itself, or
// without its /status subresource; "" for other subresources.
func writtenObject(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var rest []string
	switch {
	case len(segs) > 2 && segs[0] == "api":
		rest = segs[2:]
	case len(segs) > 3 && segs[0] == "apis":
		rest = segs[3:]
	default:
		return ""
	}
	if len(rest) > 2 && rest[0] == "namespaces" {
		rest = rest[2:]
	}
	switch {
	case len(rest) == 2:
		return path
	case len(rest) == 3 && rest[2] == "status":
		return strings.TrimSuffix(path, "/status")
	}
	return ""
}

func normalizedQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if !droppedParams[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	v := url.Values{}
	for _, k := range keys {
		v[k] = q[k]
	}
	return v.Encode()
}

// jsonAcceptable: every media type asked for is plain JSON, protobuf or a
// wildcard, so a JSON answer is fine for the client.
func jsonAcceptable(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			return false
		}
		for k := range params {
			if k != "q" && k != "stream" && k != "type" && k != "charset" {
				return false // as=Table, g=, v=: a different answer
			}
		}
		switch mt {
		case "application/json", "application/vnd.kubernetes.protobuf", "*/*", "application/*":
		default:
			return false
		}
	}
	return true
}

// acceptClass is the part of the cache key the Accept header gives.
func acceptClass(accept string) string {
	if jsonAcceptable(accept) {
		return "json"
	}
	return "accept=" + strings.ReplaceAll(accept, " ", "")
}
