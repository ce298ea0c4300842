package edgeproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/edgeops/edgeops/internal/atomicfile"
)

// serversFile is the persisted list of API servers.
type serversFile struct {
	Servers []string `json:"servers"`
}

func (p *Proxy) serversPath() string { return filepath.Join(p.cfg.DataDir, "servers.json") }

func loadServers(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f serversFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return f.Servers, nil
}

func saveServers(path string, servers []string) error {
	b, err := json.MarshalIndent(serversFile{Servers: servers}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode servers: %w", err)
	}
	return atomicfile.Write(path, append(b, '\n'), 0o600)
}

// endpointsDoc is the part of the default/kubernetes Endpoints we read.
type endpointsDoc struct {
	Subsets []struct {
		Addresses []struct {
			IP string `json:"ip"`
		} `json:"addresses"`
		Ports []struct {
			Name string `json:"name"`
			Port int    `json:"port"`
		} `json:"ports"`
	} `json:"subsets"`
}

func serversFromEndpoints(b []byte) ([]string, error) {
	var ep endpointsDoc
	if err := json.Unmarshal(b, &ep); err != nil {
		return nil, fmt.Errorf("parse endpoints: %w", err)
	}
	var out []string
	for _, s := range ep.Subsets {
		port := 0
		for _, pt := range s.Ports {
			if pt.Name == "https" || len(s.Ports) == 1 {
				port = pt.Port
			}
		}
		if port == 0 {
			continue
		}
		for _, a := range s.Addresses {
			out = append(out, "https://"+net.JoinHostPort(a.IP, strconv.Itoa(port)))
		}
	}
	return out, nil
}

// refreshServers reads the kubernetes Endpoints with the node's identity
// and follows them; the new list is persisted. It never empties the list.
func (p *Proxy) refreshServers(ctx context.Context) error {
	x := p.ups.pick()
	if x == nil {
		return nil
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, x.raw+"/api/v1/namespaces/default/endpoints/kubernetes", nil)
	if err != nil {
		return fmt.Errorf("endpoints request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.nodeClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET kubernetes endpoints: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read kubernetes endpoints: %w", err)
	}
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("GET default/kubernetes endpoints as system:node:%s: HTTP %d (apply edgeproxy.RBACManifest to allow it); keeping %v",
			p.cfg.NodeName, resp.StatusCode, p.ups.servers())
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET kubernetes endpoints: HTTP %d", resp.StatusCode)
	}
	servers, err := serversFromEndpoints(b)
	if err != nil {
		return err
	}
	if len(servers) == 0 {
		return nil
	}
	if p.ups.set(servers) {
		p.log.Printf("upstream: servers now %v (from the kubernetes endpoints)", p.ups.servers())
		if err := saveServers(p.serversPath(), p.ups.servers()); err != nil {
			return fmt.Errorf("persist servers: %w", err)
		}
		go p.checkAll(parent) // new servers get a health result soon
	}
	return nil
}

func (p *Proxy) refreshLoop(ctx context.Context) {
	t := time.NewTicker(p.opts.RefreshInterval)
	defer t.Stop()
	last := "" // the same failure is logged once
	for {
		err := p.refreshServers(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil && err.Error() != last:
			p.log.Printf("upstream: refresh servers: %v", err)
			last = err.Error()
		case err == nil:
			last = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
