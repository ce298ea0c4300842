package vip

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestStatusHTTP(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	nw := newNetwork()
	n := startNode(t, api, nw, "m1", false, nil)
	soleHolder(t, nw, 3*time.Second, n)
	srv := httptest.NewServer(n.m.Handler())
	defer srv.Close()

	res, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("/healthz: %d %q", res.StatusCode, b)
	}

	res, err = http.Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"address", "holder", "holding", "interface", "leader", "node", "since", "transitions"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if raw["node"] != "m1" || raw["address"] != "10.0.0.100" || raw["interface"] != "eth0" || raw["leader"] != true ||
		raw["holder"] != "m1" || raw["holding"] != true || raw["transitions"] != 1.0 {
		t.Errorf("status %v", raw)
	}
	if _, err := time.Parse(time.RFC3339, raw["since"].(string)); err != nil {
		t.Errorf("since: %v", err)
	}
}

func TestStatusBeforeAnything(t *testing.T) {
	t.Parallel()
	nw := newNetwork()
	m, err := NewManager(Config{Address: testVIP, Interface: "eth0", NodeName: "m1",
		LeaseDuration: testTimings.lease, RenewDeadline: testTimings.renew, RetryPeriod: testTimings.retry},
		Options{Logger: testLogger(t, "m1"), Leases: (&fakeAPI{}).client(new(atomic.Bool)), Addrs: nw.iface("m1", false), ARP: nw.addrs["m1"]})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m.Status())
	if got := string(b); got != `{"node":"m1","address":"10.0.0.100","interface":"eth0","leader":false,"holder":"","holding":false,"since":"","transitions":0}` {
		t.Errorf("status %s", got)
	}
}
