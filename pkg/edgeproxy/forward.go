package edgeproxy

import (
	"net/http"
	"net/http/httputil"
)

// forward sends r to server x with the identity's credentials. It returns
// the transport error when nothing was written to w (the caller may retry
// elsewhere or answer from the cache); nil once a response was relayed.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, id identity, x *upstream, modify func(*http.Response) error) error {
	var failed error
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(x.url)
			if id.kind != idToken {
				pr.Out.Header.Del("Authorization")
			}
		},
		Transport:      p.transportFor(id),
		FlushInterval:  -1,
		ModifyResponse: modify,
		ErrorHandler:   func(_ http.ResponseWriter, _ *http.Request, err error) { failed = err },
		ErrorLog:       p.log,
	}
	rp.ServeHTTP(w, r)
	return failed
}
