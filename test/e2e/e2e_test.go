//go:build e2e

// Package e2e drives the real edgeops binary against lab hosts (scripts/e2e
// brings the lab up): a cluster from one command, idempotence, add-node, a
// host killed mid-join, reset back to the pre-install state, and no secret in
// any output. The steps share one lab and run in order; a failed step stops
// the rest.
package e2e

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEdgeops(t *testing.T) {
	s := newSuite(t)
	steps := []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		{"snapshot pre-install state", snapshotPreInstall},
		{"up phase stage pre-stages, nothing else; --skip-phases stage refused until then", stepPreStage},
		{"up 1 master + 2 edges", stepUp},
		{"no join information or token left after up", stepNoLeftovers},
		{"workload on edge nodes and cluster DNS", stepWorkload},
		{"up again changes nothing", stepUpAgain},
		{"API outage on a leader without the marker: refused, nothing lost", stepAPIOutage},
		{"a host of another cluster is refused and untouched", stepForeignHost},
		{"add-node the 4th host", stepAddNode},
		{"status: well, a stopped edge-proxy, a killed host", func(t *testing.T, s *suite) { checkStatus(t, s, s.inv4) }},
		{"host killed mid-join, then completed", stepKilledMidJoin},
		{"reset all back to pre-install state", stepReset},
		{"a cluster made by hand is adopted, then reset clean", stepAdoptHandMade},
		{"no secret in any output", stepNoSecrets},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) { st.run(t, s) }) {
			t.Fatalf("step %q failed; later steps need it", st.name)
		}
	}
	t.Logf("TIMING up (1 master + 2 edges): %s; phases: %s", s.upWall.Round(100*time.Millisecond), s.upPhaseTimings)
}

func snapshotPreInstall(t *testing.T, s *suite) {
	// A clean start: a lab left over from an earlier run is reset first.
	r := s.run(t, "reset", "--all", "-i", s.inv4, "--output", "json")
	if r.code != 0 {
		t.Fatalf("initial reset: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s.preInstall = map[string]string{}
	for _, h := range s.hosts {
		s.preInstall[h] = s.mustSSH(t, h, hostStateScript)
	}
}

func stepUp(t *testing.T, s *suite) {
	// As an operator runs it: in a terminal, with the live view.
	const width = 120
	r := s.runInTerminal(t, width, 40, "up", "-i", s.inv3)
	if r.code != 0 {
		t.Fatalf("up: exit %d\n%s", r.code, tail(r.history, 60))
	}
	s.upWall = r.wall
	if m := regexp.MustCompile(`\[edgeops\] (up took [^\n]*)`).FindStringSubmatch(strings.ReplaceAll(r.history, "\n    ", " ")); m != nil {
		s.upPhaseTimings = m[1]
	}
	t.Logf("up wall time %s; %s", r.wall.Round(100*time.Millisecond), s.upPhaseTimings)
	checkTerminal(t, r, width, s.hosts[:3])
	checkCriticalPath(t, s, s.hosts[0], s.hosts[1:3])
	s.collectSecrets(t)
	st, err := os.Stat(s.kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig not written: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v, want 0600", st.Mode().Perm())
	}
	ns := s.waitReady(t, 3)
	edges := 0
	for _, n := range ns {
		if n.Labels["edgeops.io/node-role"] == "edge" {
			edges++
			if z := n.Labels["topology.kubernetes.io/zone"]; z != e2eSite {
				t.Errorf("edge node %s: zone label %q, want the inventory's site %q", n.Name, z, e2eSite)
			}
		}
	}
	if edges != 2 {
		t.Errorf("want 2 nodes labelled edge, got %d: %v", edges, ns)
	}
}

// checkCriticalPath: the joining hosts installed the package while the
// leader initialised (up's pipeline), not after: each one's install record
// is older than the leader's done marker, touched when init ended.
func checkCriticalPath(t *testing.T, s *suite, leader string, joiners []string) {
	t.Helper()
	mtime := func(host, path string) int64 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := s.ssh(ctx, host, "stat -c %Y "+path)
		if err != nil {
			t.Fatalf("%s: stat %s: %v: %s", host, path, err, out)
		}
		v, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			t.Fatalf("%s: stat %s: %q", host, path, out)
		}
		return v
	}
	initEnd := mtime(leader, "/var/lib/edgeops/done")
	for _, h := range joiners {
		installed := mtime(h, "/var/lib/edgeadm/installed.json")
		t.Logf("MEASURE %s installed the package %d s before the leader's init ended", h, initEnd-installed)
		if installed > initEnd {
			t.Errorf("%s installed the package %d s after the leader's init ended: the install did not overlap init", h, installed-initEnd)
		}
	}
}

// stepWorkload runs a Deployment on the edge nodes behind a Service, asks it
// from the master (another node), and resolves the Service through cluster DNS.
func stepWorkload(t *testing.T, s *suite) {
	image := strings.TrimSpace(s.kubectlRun(t, "", "-n", "kube-system", "get", "deploy", "coredns", "-o", "jsonpath={.spec.template.spec.containers[0].image}"))
	if image == "" {
		t.Fatal("no coredns image in the cluster")
	}
	// CoreDNS is in the package; its health plugin is a small HTTP server.
	manifest := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: default}
data:
  Corefile: |
    .:5353 {
        whoami
        health :8080
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {edgeops.io/node-role: edge}
      tolerations: [{operator: Exists}]
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: web
        image: %s
        imagePullPolicy: IfNotPresent
        args: ["-conf", "/etc/coredns/Corefile"]
        ports: [{containerPort: 8080}]
        volumeMounts: [{name: conf, mountPath: /etc/coredns}]
      volumes: [{name: conf, configMap: {name: web}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`, image)
	s.kubectlRun(t, manifest, "apply", "-f", "-")
	s.kubectlRun(t, "", "rollout", "status", "deploy/web", "--timeout=180s")
	var pods struct {
		Items []struct {
			Spec struct {
				NodeName string `json:"nodeName"`
			} `json:"spec"`
		} `json:"items"`
	}
	json.Unmarshal([]byte(s.kubectlRun(t, "", "get", "pods", "-l", "app=web", "-o", "json")), &pods)
	ns := s.nodes(t)
	on := map[string]bool{}
	for _, p := range pods.Items {
		if ns[p.Spec.NodeName].Labels["edgeops.io/node-role"] != "edge" {
			t.Errorf("pod on non-edge node %s", p.Spec.NodeName)
		}
		on[p.Spec.NodeName] = true
	}
	if len(on) != 2 {
		t.Errorf("pods on %v, want both edge nodes", on)
	}
	svcIP := strings.TrimSpace(s.kubectlRun(t, "", "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"))
	dnsIP := strings.TrimSpace(s.kubectlRun(t, "", "-n", "kube-system", "get", "svc", "kube-dns", "-o", "jsonpath={.spec.clusterIP}"))
	// From the master, a node with no web pod: through the Service.
	var body string
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		body, _ = s.ssh(ctx, s.hosts[0], fmt.Sprintf(`timeout 5 bash -c 'exec 3<>/dev/tcp/%s/80; printf "GET /health HTTP/1.0\r\n\r\n" >&3; cat <&3'`, svcIP))
		cancel()
		if strings.Contains(body, "200 OK") {
			break
		}
		time.Sleep(3 * time.Second)
	}
	if !strings.Contains(body, "200 OK") {
		t.Fatalf("Service %s:80 did not answer from the master: %q", svcIP, body)
	}
	// Cluster DNS: web.default.svc.cluster.local must resolve to the Service IP.
	var got string
	for i := 0; i < 20; i++ {
		got = s.resolve(t, dnsIP, "web.default.svc.cluster.local")
		if got == svcIP {
			break
		}
		time.Sleep(3 * time.Second)
	}
	if got != svcIP {
		t.Fatalf("cluster DNS %s resolved web.default.svc.cluster.local to %q, want %s", dnsIP, got, svcIP)
	}
	t.Logf("Service %s answered from %s; DNS %s resolved it", svcIP, s.hosts[0], dnsIP)
	s.kubectlRun(t, manifest, "delete", "-f", "-", "--wait=true")
}

// resolve sends one DNS A query from the master (bash's /dev/udp) and
// returns the first answer's address.
func (s *suite) resolve(t *testing.T, server, name string) string {
	q := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		q = append(q, byte(len(l)))
		q = append(q, l...)
	}
	q = append(q, 0, 0, 1, 0, 1)
	var esc strings.Builder
	for _, b := range q {
		fmt.Fprintf(&esc, `\x%02x`, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := s.ssh(ctx, s.hosts[0], fmt.Sprintf(`timeout 5 bash -c 'exec 3<>/dev/udp/%s/53; printf "%s" >&3; dd bs=512 count=1 <&3 2>/dev/null | od -An -v -tx1'`, server, esc.String()))
	if err != nil {
		return ""
	}
	var resp []byte
	for _, f := range strings.Fields(out) {
		var b byte
		if _, err := fmt.Sscanf(f, "%02x", &b); err == nil {
			resp = append(resp, b)
		}
	}
	return firstA(resp, len(q))
}

// firstA parses the first A record of a DNS response whose question section
// ends at qEnd.
func firstA(resp []byte, qEnd int) string {
	if len(resp) < qEnd || binary.BigEndian.Uint16(resp[6:8]) == 0 {
		return ""
	}
	p := qEnd
	for p+12 <= len(resp) {
		if resp[p]&0xc0 == 0xc0 {
			p += 2
		} else {
			for p < len(resp) && resp[p] != 0 {
				p += int(resp[p]) + 1
			}
			p++
		}
		if p+10 > len(resp) {
			return ""
		}
		typ := binary.BigEndian.Uint16(resp[p : p+2])
		rdlen := int(binary.BigEndian.Uint16(resp[p+8 : p+10]))
		p += 10
		if typ == 1 && rdlen == 4 && p+4 <= len(resp) {
			return fmt.Sprintf("%d.%d.%d.%d", resp[p], resp[p+1], resp[p+2], resp[p+3])
		}
		p += rdlen
	}
	return ""
}

func stepUpAgain(t *testing.T, s *suite) {
	r := s.run(t, "up", "-i", s.inv3)
	if r.code != 0 {
		t.Fatalf("second up: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "nothing to do") || !strings.Contains(r.stdout, "no host was changed") {
		t.Errorf("second up does not say nothing changed:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "changed:") {
		t.Errorf("second up reports a change:\n%s", r.stdout)
	}
	for _, h := range s.hosts[:3] {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(h) + `\s+\S+\s+\S+\s+unchanged\s`).MatchString(r.stdout) {
			t.Errorf("summary does not say %s is unchanged:\n%s", h, r.stdout)
		}
	}
	rj := s.run(t, "up", "-i", s.inv3, "--output", "json")
	if rj.code != 0 {
		t.Fatalf("third up (json): exit %d", rj.code)
	}
	if ch := changedHosts(events(t, rj.stdout)); len(ch) > 0 {
		t.Errorf("up on a healthy cluster changed %v", ch)
	}
	t.Logf("up on a healthy cluster took %s", r.wall.Round(100*time.Millisecond))
}

func stepAddNode(t *testing.T, s *suite) {
	r := s.run(t, "add-node", "-i", s.inv4, "--host", s.hosts[3], "--output", "json")
	if r.code != 0 {
		t.Fatalf("add-node: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
	}
	s.collectSecrets(t)
	for _, h := range changedHosts(events(t, r.stdout)) {
		if h != s.hosts[3] {
			t.Errorf("add-node changed %s", h)
		}
	}
	s.waitReady(t, 4)
}

// stepKilledMidJoin resets the 4th host, runs up, and kills the host while
// kubeadm is joining it (its bootstrap kubeconfig exists). up must exit 3
// naming it; after the host boots again, up completes it and leaves the
// others alone.
func stepKilledMidJoin(t *testing.T, s *suite) {
	victim := s.hosts[3]
	if r := s.run(t, "reset", "-i", s.inv4, "--host", victim); r.code != 0 {
		t.Fatalf("reset --host: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cmd := exec.Command(s.edgeops, "up", "-i", s.inv4, "--output", "json")
	cmd.Dir = s.root
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(io.TeeReader(stdout, &out))
		for sc.Scan() {
		}
	}()
	// Poll for the moment kubeadm has written its first files on the victim.
	killed := false
	deadline := time.Now().Add(15 * time.Minute)
	for !killed && time.Now().Before(deadline) {
		select {
		case <-done:
			deadline = time.Now()
			continue
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		o, _ := s.ssh(ctx, victim, "ls /etc/kubernetes/bootstrap-kubelet.conf /etc/kubernetes/kubelet.conf /etc/kubernetes/pki/ca.crt 2>/dev/null | head -1")
		cancel()
		if strings.TrimSpace(o) != "" {
			s.lab(t, "kill", victim)
			killed = true
			t.Logf("killed %s mid-join (it had %s)", victim, strings.TrimSpace(o))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	<-done
	err := cmd.Wait()
	s.keep(out.String(), stderr.String())
	if !killed {
		t.Fatalf("the join of %s was never seen in progress; up: %v\n%s", victim, err, tail(out.String(), 30))
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 3 {
		t.Fatalf("up with a killed host: exit %d, want 3 (partial)\n%s\n%s", code, tail(out.String(), 30), stderr.String())
	}
	// --output json: the final error is the last JSON line on stdout.
	if last := tail(out.String(), 1); !strings.Contains(last, `"exitCode":3`) || !strings.Contains(last, "host "+victim) {
		t.Errorf("the final error does not name %s with exit code 3:\n%s", victim, last)
	}
	s.lab(t, "start", victim)
	r := s.run(t, "up", "-i", s.inv4, "--output", "json")
	if r.code != 0 {
		t.Fatalf("up after restart: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
	}
	s.collectSecrets(t)
	ch := changedHosts(events(t, r.stdout))
	if len(ch) != 1 || ch[0] != victim {
		t.Errorf("up after restart changed %v, want only %s", ch, victim)
	}
	s.waitReady(t, 4)
}

func stepReset(t *testing.T, s *suite) {
	s.collectSecrets(t)
	r := s.run(t, "reset", "--all", "-i", s.inv4, "--output", "json")
	if r.code != 0 {
		t.Fatalf("reset --all: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
	}
	// The leader is reset last: its reset starts after every other host's ended.
	var leaderStart, lastOther time.Time
	for _, e := range events(t, r.stdout) {
		if !strings.HasPrefix(e.Phase, "reset ") {
			continue
		}
		if e.Host == s.hosts[0] && e.Event == "start" {
			leaderStart = e.Time
		}
		if e.Host != s.hosts[0] && e.Host != "" && (e.Event == "changed" || e.Event == "done") && e.Time.After(lastOther) {
			lastOther = e.Time
		}
	}
	if leaderStart.Before(lastOther) {
		t.Errorf("the leader's reset started (%s) before the others ended (%s)", leaderStart, lastOther)
	}
	for _, h := range s.hosts {
		after := s.mustSSH(t, h, hostStateScript)
		added, removed := diffLines(s.preInstall[h], after)
		if len(added)+len(removed) > 0 {
			t.Errorf("host %s is not back to its pre-install state:\n  left behind: %v\n  missing: %v", h, added, removed)
		}
	}
}

func stepNoSecrets(t *testing.T, s *suite) {
	if len(s.secrets) == 0 {
		t.Fatal("no secret was collected from the leader; the check would prove nothing")
	}
	logs, _ := filepath.Glob(filepath.Join(s.labDir, "edgeops-logs", "*.log"))
	if len(logs) == 0 {
		t.Fatal("no run log found")
	}
	sources := map[string]string{}
	for i, o := range s.outputs {
		sources[fmt.Sprintf("output #%d", i)] = o
	}
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		sources[l] = string(data)
		if st, _ := os.Stat(l); st.Mode().Perm() != 0o600 {
			t.Errorf("log %s mode %v, want 0600", l, st.Mode().Perm())
		}
	}
	for name, text := range sources {
		for sec := range s.secrets {
			if strings.Contains(text, sec) {
				t.Errorf("a secret (%d chars) appears in %s", len(sec), name)
			}
		}
	}
	t.Logf("checked %d secrets against %d outputs and %d log files", len(s.secrets), len(s.outputs), len(logs))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
