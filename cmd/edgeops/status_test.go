package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/exitcode"
	"github.com/edgeops/edgeops/pkg/phases"
)

func wellHost(addr, role string) phases.Health {
	return phases.Health{Host: addr, Name: "n-" + addr, Role: role, Reachable: true, Cluster: phases.MemberYes, Node: phases.NodeReady,
		KubeletVersion: "v1.37.2", ContainerdVersion: "v2.1.4", OK: true, Problems: []phases.Problem{},
		Components: []phases.Component{
			{Name: "kubelet", Unit: "kubelet.service", State: "active", OK: true},
			{Name: "containerd", Unit: "containerd.service", State: "active", OK: true},
			{Name: "edge-proxy", Unit: "edge-proxy.service", State: "active", Health: "ok", Detail: "via https://m:6443", OK: true},
		}}
}

func stoppedProxy(addr string) phases.Health {
	h := wellHost(addr, "edge")
	h.Components[2] = phases.Component{Name: "edge-proxy", Unit: "edge-proxy.service", State: "inactive (dead)"}
	h.Problems = []phases.Problem{{Component: "edge-proxy", Message: "edge-proxy.service is inactive (dead)", Fix: "on " + addr + ": systemctl restart edge-proxy.service"}}
	h.OK = false
	return h
}

func TestStatusError(t *testing.T) {
	down := phases.Health{Host: "10.0.0.3", Role: "edge", Problems: []phases.Problem{{Component: "ssh", Message: "unreachable: i/o timeout", Fix: "check"}}}
	tests := []struct {
		name     string
		health   []phases.Health
		wantCode int
		wantMsg  []string
	}{
		{"all well", []phases.Health{wellHost("10.0.0.1", "master"), wellHost("10.0.0.2", "edge")}, exitcode.OK, nil},
		{"one host not well", []phases.Health{wellHost("10.0.0.1", "master"), stoppedProxy("10.0.0.2"), down},
			exitcode.Partial, []string{"2 of 3 host(s) not well", "10.0.0.2 (edge-proxy: edge-proxy.service is inactive (dead))", "10.0.0.3 (ssh: unreachable"}},
		{"no host well", []phases.Health{down}, exitcode.Failure, []string{"1 of 1 host(s) not well"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := statusError(tt.health)
			if code := exitcode.Of(err); code != tt.wantCode {
				t.Fatalf("exit code %d, want %d (%v)", code, tt.wantCode, err)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestStatusTable(t *testing.T) {
	leader := wellHost("10.0.0.1", "master")
	leader.Leader = true
	leader.Components = leader.Components[:2]
	leader.Lock = &phases.LockHolder{Owner: "edgeops/box/1/aa", HeartbeatAge: "2m0s"}
	var b bytes.Buffer
	writeStatusTable(&b, []phases.Health{leader, stoppedProxy("10.0.0.2")})
	out := b.String()
	for _, want := range []string{
		"HOST ", " CONTAINERD ", " EDGE ", " LOCK ",
		"master*", "stale (edgeops/box/1/aa)",
		"edge-proxy inactive (dead)", "1 problem(s)",
		"problems:\n  10.0.0.2 edge-proxy: edge-proxy.service is inactive (dead)\n      fix: on 10.0.0.2: systemctl restart edge-proxy.service",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	writeStatusTable(&b, []phases.Health{leader})
	if !strings.Contains(b.String(), "all 1 host(s) are well") || strings.Contains(b.String(), "problems:") {
		t.Errorf("a well cluster's table:\n%s", b.String())
	}
}

func TestStatusJSON(t *testing.T) {
	var b bytes.Buffer
	now := time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC)
	writeStatusJSON(&b, []phases.Health{wellHost("10.0.0.1", "master"), stoppedProxy("10.0.0.2")}, now)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per host:\n%s", len(lines), b.String())
	}
	var e struct {
		Time    time.Time     `json:"time"`
		Host    string        `json:"host"`
		Event   string        `json:"event"`
		Message string        `json:"message"`
		Health  phases.Health `json:"health"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Host != "10.0.0.2" || e.Event != "status" || !e.Time.Equal(now) || e.Health.OK || e.Health.Components[2].State != "inactive (dead)" ||
		e.Message != "edge-proxy: edge-proxy.service is inactive (dead)" {
		t.Errorf("event = %+v", e)
	}
}
