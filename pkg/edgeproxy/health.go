package edgeproxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// checkAll health-checks every server once, concurrently.
func (p *Proxy) checkAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, x := range p.ups.all() {
		wg.Go(func() {
			err := p.checkOne(ctx, x)
			if ctx.Err() != nil {
				return
			}
			why := ""
			if err != nil {
				why = err.Error()
			}
			p.ups.setHealth(x, err == nil, why)
		})
	}
	wg.Wait()
}

// checkOne is GET /readyz with the node's identity. A 401/403 still
// proves the server answers (the node certificate may not exist yet).
func (p *Proxy) checkOne(ctx context.Context, x *upstream) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.HealthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, x.raw+"/readyz", nil)
	if err != nil {
		return fmt.Errorf("health request: %w", err)
	}
	resp, err := p.healthClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET /readyz: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusUnauthorized, http.StatusForbidden:
		return nil
	}
	return fmt.Errorf("GET /readyz: HTTP %d", resp.StatusCode)
}

// healthLoop checks every server every HealthInterval.
func (p *Proxy) healthLoop(ctx context.Context) {
	t := time.NewTicker(p.opts.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.checkAll(ctx)
		}
	}
}
