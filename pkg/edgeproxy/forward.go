package edgeproxy

import (
	"context"
	"net/http"
	"net/http/httputil"
)

// forward sends r to server x with the identity's credentials. It returns
// the transport error when nothing was written to w (the caller may retry
// elsewhere or answer from the cache); nil once a response was relayed.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, id *identity, x *upstream, modify func(*http.Response) error) error {
	var failed error
	mod := func(resp *http.Response) error {
		if id.kind == idToken && resp.StatusCode >= 200 && resp.StatusCode < 300 {
			id.dir = p.tokens.confirm(id.authorization) // an API server accepted it
		}
		if modify != nil {
			return modify(resp)
		}
		return nil
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(x.url)
			if id.kind != idToken {
				pr.Out.Header.Del("Authorization")
			}
		},
		Transport:      p.transportFor(*id),
		FlushInterval:  -1,
		ModifyResponse: mod,
		ErrorHandler:   func(_ http.ResponseWriter, _ *http.Request, err error) { failed = err },
		ErrorLog:       p.log,
	}
	rp.ServeHTTP(w, r)
	return failed
}

// forwardUntilDown is forward, cancelled when x goes unhealthy (so a
// request on a dead connection does not hang); serverDown reports that.
func (p *Proxy) forwardUntilDown(w http.ResponseWriter, r *http.Request, id *identity, x *upstream, modify func(*http.Response) error) (serverDown bool, err error) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	down := p.ups.downCh(x)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-down:
			cancel()
		case <-stop:
		}
	}()
	err = p.forward(w, r.WithContext(ctx), id, x, modify)
	return ctx.Err() != nil && r.Context().Err() == nil, err
}
