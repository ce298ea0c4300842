package edgeproxy

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestListStateApply: events fold into a list the way the API server
// would list afterwards.
func TestListStateApply(t *testing.T) {
	obj := func(name, rv, v string) json.RawMessage {
		return json.RawMessage(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"` + name + `","namespace":"ns","resourceVersion":"` + rv + `"},"data":{"k":"` + v + `"}}`)
	}
	base := `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[` +
		`{"metadata":{"name":"a","namespace":"ns"},"data":{"k":"a"}},{"metadata":{"name":"b","namespace":"ns"},"data":{"k":"b"}},{"metadata":{"name":"c","namespace":"ns"},"data":{"k":"c"}}]}`
	cases := []struct {
		name   string
		events []watchEvent
		want   string
		rv     string
	}{
		{"none", nil, "a=a,b=b,c=c", "10"},
		{"added", []watchEvent{{"ADDED", obj("d", "11", "d")}}, "a=a,b=b,c=c,d=d", "11"},
		{"modified", []watchEvent{{"MODIFIED", obj("b", "12", "b2")}}, "a=a,b=b2,c=c", "12"},
		{"deleted then modified after it", []watchEvent{{"DELETED", obj("a", "13", "")}, {"MODIFIED", obj("c", "14", "c2")}}, "b=b,c=c2", "14"},
		{"bookmark", []watchEvent{{"BOOKMARK", json.RawMessage(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"20"}}`)}}, "a=a,b=b,c=c", "20"},
		{"deleted unknown", []watchEvent{{"DELETED", obj("zz", "15", "")}}, "a=a,b=b,c=c", "15"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ls, err := parseList([]byte(base))
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range c.events {
				if _, err := ls.apply(ev.Type, ev.Object); err != nil {
					t.Fatal(err)
				}
			}
			b, err := ls.encode()
			if err != nil {
				t.Fatal(err)
			}
			rv, got := names(t, string(b))
			if strings.Join(got, ",") != c.want || rv != c.rv {
				t.Errorf("got %v rv %s, want %s rv %s", got, rv, c.want, c.rv)
			}
		})
	}
}

// TestClassify: cache keys ignore what does not change the answer and
// keep what does; protobuf-or-JSON clients are asked JSON.
func TestClassify(t *testing.T) {
	cases := []struct {
		method, url, accept string
		kind                reqKind
		key                 string
		rewrite             bool
	}{
		{"GET", "/api/v1/pods?fieldSelector=spec.nodeName%3De1&limit=500&resourceVersion=0", "application/vnd.kubernetes.protobuf, application/json", kindGet, "GET /api/v1/pods?fieldSelector=spec.nodeName%3De1|json", true},
		{"GET", "/api/v1/pods?watch=true&resourceVersion=5&timeoutSeconds=300&allowWatchBookmarks=true&fieldSelector=spec.nodeName%3De1", "", kindWatch, "GET /api/v1/pods?fieldSelector=spec.nodeName%3De1|json", true},
		{"GET", "/api/v1/pods?limit=1&continue=abc", "", kindOther, "", false},
		{"GET", "/api/v1/namespaces/a/pods/p/log", "", kindOther, "", false},
		{"GET", "/api/v1/nodes", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", kindGet, "GET /api/v1/nodes?|accept=application/json;as=Table;v=v1;g=meta.k8s.io,application/json", false},
		{"POST", "/api/v1/namespaces/a/serviceaccounts/default/token", "application/vnd.kubernetes.protobuf", kindToken, "POST /api/v1/namespaces/a/serviceaccounts/default/token|json", true},
		{"POST", "/api/v1/namespaces/a/configmaps", "", kindWrite, "", false},
		// An update's answer refreshes the cached GET of the object it wrote.
		{"PATCH", "/api/v1/nodes/e1/status", "", kindWrite, "GET /api/v1/nodes/e1?|json", true},
		{"PATCH", "/api/v1/nodes/e1", "application/json", kindWrite, "GET /api/v1/nodes/e1?|json", true},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/e1", "application/vnd.kubernetes.protobuf", kindWrite, "GET /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/e1?|json", true},
		{"PUT", "/api/v1/namespaces/a", "", kindWrite, "GET /api/v1/namespaces/a?|json", true},
		{"PATCH", "/api/v1/namespaces/a/pods/p/ephemeralcontainers", "", kindWrite, "", false},
		{"PATCH", "/api/v1/nodes/e1", "application/json;as=Table;v=v1;g=meta.k8s.io", kindWrite, "", false},
		{"DELETE", "/api/v1/namespaces/a/pods/p", "", kindWrite, "", false},
	}
	for _, c := range cases {
		r := mustReq(c.method, c.url)
		r.Header.Set("Accept", c.accept)
		got := classify(r)
		if got.kind != c.kind || got.key != c.key || got.rewriteAccept != c.rewrite {
			t.Errorf("%s %s: %+v, want kind %d key %q rewrite %v", c.method, c.url, got, c.kind, c.key, c.rewrite)
		}
	}
}
