//go:build e2e

package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

// TestAgentOnLabHosts: a plain cluster (init --enable-edge=false, join a
// worker), both nodes Ready; reset leaves both hosts as they were; then an
// edge cluster (init --enable-edge=true, join --node-role edge) with the
// edge components applied and placed; reset again, twice.
func TestAgentOnLabHosts(t *testing.T) {
	l := newLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	pkgM := l.stage(ctx, master)
	pkgW := l.stage(ctx, worker)
	// Leftovers of an earlier, interrupted run would spoil the baseline.
	l.must(ctx, worker, remoteEdgeadm+" reset --force")
	l.must(ctx, master, remoteEdgeadm+" reset --force")
	before := map[string]string{master: l.snapshot(ctx, master), worker: l.snapshot(ctx, worker)}

	// Plain Kubernetes.
	initOut, _ := l.timed(ctx, master, "edgeadm init --enable-edge=false", fmt.Sprintf(
		"%s init --enable-edge=false --install-pkg-path %s --runtime-binary %s --skip-token-print --apiserver-advertise-address %s 2>&1",
		remoteEdgeadm, pkgM, runtimeBinary, master))
	info := l.checkInitOutput(ctx, initOut)
	l.copyJoinInfo(ctx, worker)
	joinOut, _ := l.timed(ctx, worker, "edgeadm join --node-role worker", fmt.Sprintf(
		"%s join --join-info-file /etc/edgeadm/join-info.json --node-role worker --enable-edge=false --install-pkg-path %s --runtime-binary %s 2>&1",
		remoteEdgeadm, pkgW, runtimeBinary))
	for _, s := range info.Secrets() {
		if strings.Contains(joinOut, s) {
			t.Errorf("edgeadm join printed a secret")
		}
	}
	l.waitFor(ctx, "2 nodes Ready", readyCmd, 5*time.Minute, allReady(2))
	l.waitFor(ctx, "CoreDNS ready (pod network works)", kubectlCmd+" -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}'",
		5*time.Minute, func(s string) bool { return strings.TrimSpace(s) == "2" })
	l.waitFor(ctx, "flannel running on both nodes", kubectlCmd+" -n kube-flannel get ds kube-flannel-ds -o jsonpath='{.status.numberReady}'",
		3*time.Minute, func(s string) bool { return strings.TrimSpace(s) == "2" })
	// Across nodes through flannel's VXLAN: the worker reaches a CoreDNS pod on the master.
	podIP := strings.TrimSpace(l.kubectl(ctx, `-n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{.items[0].status.podIP}'`))
	// flanneld on each node learns the other's lease a moment after it runs: retry for a minute.
	health := l.must(ctx, worker, `for i in $(seq 30); do out=$(timeout 3 bash -c 'exec 3<>/dev/tcp/`+podIP+`/8080; printf "GET /health HTTP/1.0\r\n\r\n" >&3; cat <&3') && break; sleep 2; done; echo "$out"`)
	if !strings.Contains(health, "200 OK") {
		t.Errorf("worker to CoreDNS pod %s on the master: %q", podIP, health)
	}
	if out := l.kubectl(ctx, "get ds -A"); strings.Contains(out, "-edge") {
		t.Errorf("--enable-edge=false made edge DaemonSets:\n%s", out)
	}
	if out, err := l.run(ctx, worker, "systemctl is-enabled edge-proxy.service"); err == nil {
		t.Errorf("--enable-edge=false enabled edge-proxy on the worker: %s", out)
	}
	if out, err := l.run(ctx, master, "grep egress-selector-config-file /etc/kubernetes/manifests/kube-apiserver.yaml || systemctl is-enabled edge-tunnel-server.service"); err == nil {
		t.Errorf("--enable-edge=false: the API server uses edge-tunnel, or its server is enabled: %s", out)
	}
	if out := l.must(ctx, worker, "cat /etc/cni/net.d/10-edgeops.conflist"); !strings.Contains(out, `"bridge": "cni0"`) {
		t.Errorf("worker CNI config:\n%s", out)
	}
	// token create mints fresh information (with --upload-certs, a certificate
	// key for joining masters) without printing it.
	out := l.must(ctx, master, remoteEdgeadm+" token create --upload-certs --join-info-file /etc/edgeadm/join-info-2.json 2>&1 && stat -c %a /etc/edgeadm/join-info-2.json")
	minted := l.fetchJoinInfo(ctx, "/etc/edgeadm/join-info-2.json")
	if !strings.HasSuffix(strings.TrimSpace(out), "600") || minted.Token == info.Token || len(minted.CertificateKey) != 64 {
		t.Errorf("token create --upload-certs: %s; minted %s", out, minted)
	}
	for _, s := range minted.Secrets() {
		if strings.Contains(out, s) {
			t.Errorf("token create printed a secret")
		}
	}

	l.resetBoth(ctx, before, "after the plain cluster")

	// The edge YAML, customised: edgeadm manifests writes the package's on the
	// master; one file replaced, one removed (empty), one added, on init and join.
	ov := l.edgeOverrides(ctx, pkgM)
	l.refuseBadEdgeDir(ctx, pkgM, before[master])

	// Edge cluster. --skip-phases takes kubeadm's and edgeadm's phase names;
	// the skipped join-info phase is then run alone as a phase subcommand.
	initOut, _ = l.timed(ctx, master, "edgeadm init --enable-edge=true", fmt.Sprintf(
		"%s init --install-pkg-path %s --runtime-binary %s --skip-token-print --apiserver-advertise-address %s --skip-phases=show-join-command,join-info --edge-manifests-dir %s 2>&1",
		remoteEdgeadm, pkgM, runtimeBinary, master, overridesDir))
	if want := ov.logLine(); !strings.Contains(initOut, want) {
		t.Errorf("init did not report the overrides %q:\n%s", want, initOut)
	}
	if strings.Contains(initOut, "edgeadm join") || !strings.Contains(initOut, "skipping phase join-info") {
		t.Errorf("--skip-phases=show-join-command,join-info not honoured:\n%s", initOut)
	}
	if out, err := l.run(ctx, master, "test -e /etc/edgeadm/join-info.json"); err == nil {
		t.Errorf("join-info phase ran though skipped %s", out)
	}
	l.timed(ctx, master, "edgeadm init phase join-info", remoteEdgeadm+" init phase join-info 2>&1")
	l.copyJoinInfo(ctx, worker)
	joinOut, _ = l.timed(ctx, worker, "edgeadm join --node-role edge", fmt.Sprintf(
		"%s join --join-info-file /etc/edgeadm/join-info.json --node-role edge --install-pkg-path %s --runtime-binary %s --edge-manifests-dir %s 2>&1",
		remoteEdgeadm, pkgW, runtimeBinary, overridesDir))
	// The edge YAML is the cluster's: init applied the overrides, a join only checks the folder and says so.
	if !strings.Contains(joinOut, "the kubelet now talks to edge-proxy") || !strings.Contains(joinOut, "--edge-manifests-dir "+overridesDir+": checked; the edge components' YAML is applied once for the cluster by edgeadm init") {
		t.Errorf("edge join did not switch the kubelet to edge-proxy or said nothing about the overrides folder:\n%s", joinOut)
	}
	l.waitFor(ctx, "2 nodes Ready (edge)", readyCmd, 5*time.Minute, allReady(2))
	l.checkEdge(ctx, ov)
	l.checkOverrides(ctx, ov)

	l.resetBoth(ctx, before, "after the edge cluster")
	l.must(ctx, worker, remoteEdgeadm+" reset --force")
	l.must(ctx, master, remoteEdgeadm+" reset --force")
	l.assertClean(ctx, master, before[master], "after a second reset")
	l.assertClean(ctx, worker, before[worker], "after a second reset")
}

const readyCmd = kubectlCmd + ` get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}'`

func allReady(n int) func(string) bool {
	return func(s string) bool {
		ready := 0
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if strings.HasSuffix(l, "=True") {
				ready++
			}
		}
		return ready == n
	}
}

// checkInitOutput: init says edgeadm join, prints no secret, writes the join information root-only.
func (l *lab) checkInitOutput(ctx context.Context, out string) joininfo.Info {
	l.t.Helper()
	if !strings.Contains(out, "edgeadm join") || strings.Contains(out, "kubeadm join") {
		l.t.Errorf("init does not print 'edgeadm join' commands:\n%s", out)
	}
	if mode := strings.TrimSpace(l.must(ctx, master, "stat -c %a /etc/edgeadm/join-info.json")); mode != "600" {
		l.t.Errorf("join information mode %s, want 600", mode)
	}
	info := l.fetchJoinInfo(ctx, "/etc/edgeadm/join-info.json")
	if info.APIServerEndpoint != master+":6443" || info.KubernetesVersion != bundles.KubernetesVersion() {
		l.t.Errorf("join information: %s", info)
	}
	for _, s := range info.Secrets() {
		if strings.Contains(out, s) {
			l.t.Errorf("init printed a secret")
		}
	}
	if out := l.must(ctx, master, "ls /etc/edgeadm"); strings.Contains(out, "kubeadm.yaml") {
		l.t.Errorf("generated kubeadm config (with the token) left on the host")
	}
	return info
}

// checkEdge: the edge node is labelled and tainted, edge-proxy serves its
// kubelet, kube-proxy and flannel run as their edge variants there, and the
// controller settings are in place.
func (l *lab) checkEdge(ctx context.Context, ov overrides) {
	l.t.Helper()
	node := strings.TrimSpace(l.must(ctx, worker, "hostname"))
	labels := l.kubectl(ctx, "get node "+node+` -o jsonpath='{.metadata.labels.edgeops\.io/node-role} {.spec.taints[*].key}'`)
	if !strings.HasPrefix(labels, "edge ") || !strings.Contains(labels, "edgeops.io/edge") {
		l.t.Errorf("edge node %s: label and taints %q", node, labels)
	}
	// edge-proxy runs on the edge node and the kubelet talks to it.
	if out := l.must(ctx, worker, "systemctl is-active edge-proxy.service; grep server: /etc/kubernetes/kubelet.conf; curl -fsS http://127.0.0.1:10267/status"); !strings.HasPrefix(out, "active\n") ||
		!strings.Contains(out, "server: https://127.0.0.1:10268") || !strings.Contains(out, `"online":true`) {
		l.t.Errorf("edge node: edge-proxy not active, or the kubelet not pointed at it, or offline:\n%s", out)
	}
	// kube-proxy and flannel: the edge variants on the edge node, the originals kept off it.
	objs := l.kubectl(ctx, `get ds -A -o jsonpath='{range .items[*]}{.metadata.name} {.spec.template.spec.nodeSelector} {.spec.template.spec.affinity.nodeAffinity}{"\n"}{end}'`)
	for _, ds := range []string{"kube-proxy", "kube-flannel-ds"} {
		for _, line := range strings.Split(objs, "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) == 0:
			case f[0] == ds && !strings.Contains(line, `"operator":"NotIn","values":["edge"]`):
				l.t.Errorf("DaemonSet %s is not kept off edge nodes: %s", ds, line)
			case f[0] == ds+"-edge" && !strings.Contains(line, `"edgeops.io/node-role":"edge"`):
				l.t.Errorf("DaemonSet %s-edge is not for edge nodes only: %s", ds, line)
			}
		}
		if !strings.Contains(objs, ds+"-edge ") {
			l.t.Errorf("no DaemonSet %s-edge:\n%s", ds, objs)
		}
	}
	l.waitFor(ctx, "kube-proxy-edge and kube-flannel-ds-edge running on the edge node",
		kubectlCmd+` get pods -A -o wide --field-selector spec.nodeName=`+node+` --no-headers`, 3*time.Minute, func(s string) bool {
			return strings.Contains(s, "kube-proxy-edge-") && strings.Contains(s, "kube-flannel-ds-edge-") && strings.Count(s, "Running") == strings.Count(s, "\n")
		})
	// edge-tunnel: the API server's cluster egress goes through the master's
	// server, and the edge node's agent holds a connection to it.
	if out := l.must(ctx, master, "systemctl is-active edge-tunnel-server.service; grep -h -- --egress-selector-config-file /etc/kubernetes/manifests/kube-apiserver.yaml"); !strings.HasPrefix(out, "active\n") ||
		!strings.Contains(out, "--egress-selector-config-file=/etc/kubernetes/edge-tunnel/egress-selector.yaml") {
		l.t.Errorf("master: edge-tunnel server not active, or the API server not using it:\n%s", out)
	}
	l.waitFor(ctx, "the edge node's edge-tunnel agent connected to the master's server", "curl -fsS http://127.0.0.1:10263/status", time.Minute,
		func(s string) bool { return strings.Contains(strings.ReplaceAll(s, " ", ""), `"node":"`+node+`"`) })
	if out := l.must(ctx, master, "cat /etc/kubernetes/manifests/kube-controller-manager.yaml"); !strings.Contains(out, "--node-monitor-grace-period=5m0s") {
		l.t.Errorf("controller manager lacks the edge grace period")
	}
}

// resetBoth resets the worker, then the master, and checks both are as before init.
func (l *lab) resetBoth(ctx context.Context, before map[string]string, when string) {
	l.t.Helper()
	l.timed(ctx, worker, "edgeadm reset --force", remoteEdgeadm+" reset --force 2>&1")
	l.timed(ctx, master, "edgeadm reset --force", remoteEdgeadm+" reset --force 2>&1")
	l.assertClean(ctx, master, before[master], when)
	l.assertClean(ctx, worker, before[worker], when)
}

// fetchJoinInfo reads a join information file from the master.
func (l *lab) fetchJoinInfo(ctx context.Context, path string) joininfo.Info {
	l.t.Helper()
	local := filepath.Join(l.t.TempDir(), "join-info.json")
	args := append(l.sshArgs(), "-q", "root@"+master+":"+path, local)
	if b, err := execOut(ctx, "scp", args...); err != nil {
		l.t.Fatalf("fetch join information %s: %v %s", path, err, b)
	}
	info, err := joininfo.ReadFile(local)
	if err != nil {
		l.t.Fatal(err)
	}
	return info
}
