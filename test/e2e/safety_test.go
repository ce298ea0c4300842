//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/bundles"
)

// The re-run safety steps of TestEdgeops (issue: "Re-runs that can never
// destroy a cluster"): an API outage, a host of another cluster, the
// certificate key on edge hosts, a cluster made by hand, leftovers.

const hostKubectl = "PATH=$PATH:/usr/local/bin kubectl"

var tokenRE = regexp.MustCompile(`\b[a-z0-9]{6}\.[a-z0-9]{16}\b`)

// stepNoLeftovers: after a run, no host keeps join information and the
// tokens the run minted are gone from the cluster.
func stepNoLeftovers(t *testing.T, s *suite) {
	for _, h := range s.hosts {
		if out := s.mustSSH(t, h, "ls /etc/edgeadm/join-info.json 2>/dev/null || true"); strings.TrimSpace(out) != "" {
			t.Errorf("host %s keeps the join information after the run", h)
		}
	}
	if out := s.mustSSH(t, s.hosts[0], "/usr/local/bin/edgeadm token list 2>&1"); tokenRE.MatchString(out) {
		t.Errorf("bootstrap tokens are still valid after the run:\n%s", tokenRE.ReplaceAllString(out, "<token>"))
	}
}

// stepAPIOutage: the leader has no done marker, its kubelet is stopped and its
// API server container killed. up must fail naming the leader and change
// nothing; once the kubelet is back, every node and a ConfigMap created
// before are still there, and the next up finishes the leader's init.
func stepAPIOutage(t *testing.T, s *suite) {
	leader := s.hosts[0]
	before := s.nodes(t)
	s.kubectlRun(t, "", "create", "configmap", "e2e-survivor", "--from-literal=made=before-the-outage")
	s.mustSSH(t, leader, "rm -f /var/lib/edgeops/done && systemctl stop kubelet && "+
		"for id in $(crictl ps -q --name kube-apiserver); do crictl stop --timeout 0 $id; done")
	r := s.run(t, "up", "-i", s.inv3, "--api-wait", "20s", "--output", "json")
	if r.code == 0 {
		t.Fatalf("up with the leader's API down exited 0:\n%s", tail(r.stdout, 30))
	}
	last := tail(r.stdout, 1)
	if !strings.Contains(last, "leader "+leader) || !strings.Contains(last, "reset --host "+leader) {
		t.Errorf("the failure does not name the leader and the way out:\n%s", last)
	}
	for _, h := range s.hosts[:3] {
		if out := s.mustSSH(t, h, "ls /etc/kubernetes/kubelet.conf"); !strings.Contains(out, "kubelet.conf") {
			t.Errorf("host %s lost its kubelet.conf", h)
		}
	}
	if ch := changedHosts(events(t, r.stdout)); len(ch) > 0 {
		t.Errorf("up during the outage changed %v", ch)
	}
	s.mustSSH(t, leader, "systemctl start kubelet")
	// The kubelet starts the static API server again; wait until it answers.
	s.mustSSH(t, leader, hostKubectl+" --kubeconfig /etc/kubernetes/admin.conf get --raw /readyz --request-timeout=5s >/dev/null 2>&1 || "+
		"{ for i in $(seq 90); do sleep 2; "+hostKubectl+" --kubeconfig /etc/kubernetes/admin.conf get --raw /readyz --request-timeout=5s >/dev/null 2>&1 && exit 0; done; exit 1; }")
	after := s.waitReady(t, len(before))
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Errorf("node %s is gone after the outage", name)
		}
	}
	if v := strings.TrimSpace(s.kubectlRun(t, "", "get", "configmap", "e2e-survivor", "-o", "jsonpath={.data.made}")); v != "before-the-outage" {
		t.Errorf("the ConfigMap made before the outage reads %q: etcd lost its data", v)
	}
	r = s.run(t, "up", "-i", s.inv3)
	if r.code != 0 {
		t.Fatalf("up after the outage: exit %d\n%s\n%s", r.code, tail(r.stdout, 30), r.stderr)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(leader) + `\s.*finished init`).MatchString(r.stdout) {
		t.Errorf("up after the outage did not finish the leader's init:\n%s", r.stdout)
	}
	if out := s.mustSSH(t, leader, "ls /var/lib/edgeops/done"); !strings.Contains(out, "done") {
		t.Errorf("no done marker on the leader after the finishing up")
	}
	s.kubectlRun(t, "", "delete", "configmap", "e2e-survivor")
}

// stepForeignHost: the 4th host becomes the control plane of a cluster of
// its own (B); cluster A's inventory lists it as an edge. up on A refuses it
// by name and leaves it a Ready member of B; reset --host wipes it.
func stepForeignHost(t *testing.T, s *suite) {
	b := s.hosts[3]
	invB := s.inventoryFile(t, "e2e-b", "e2e-b", "", fmt.Sprintf("  - {address: %s, role: master}\n", b))
	if r := s.run(t, "up", "-i", invB, "--output", "json"); r.code != 0 {
		t.Fatalf("up of cluster B: exit %d\n%s\n%s", r.code, tail(r.stdout, 30), r.stderr)
	}
	// decide is critical: a foreign host in the inventory (the wrong file
	// open, a reused address) stops the run before anything changes.
	r := s.run(t, "up", "-i", s.inv4, "--output", "json")
	if r.code != 1 {
		t.Fatalf("up of A listing B's host: exit %d, want 1\n%s", r.code, tail(r.stdout, 30))
	}
	if last := tail(r.stdout, 1); !strings.Contains(last, "host "+b) || !strings.Contains(last, "another cluster") {
		t.Errorf("the refusal does not name %s as another cluster's:\n%s", b, last)
	}
	if ch := changedHosts(events(t, r.stdout)); len(ch) > 0 {
		t.Errorf("up changed %v", ch)
	}
	out := s.mustSSH(t, b, hostKubectl+" --kubeconfig /etc/kubernetes/admin.conf get nodes --no-headers")
	if !strings.Contains(out, " Ready ") || len(strings.Split(strings.TrimSpace(out), "\n")) != 1 {
		t.Errorf("host %s is no longer the Ready node of cluster B:\n%s", b, out)
	}
	if r := s.run(t, "reset", "-i", s.inv4, "--host", b); r.code != 0 {
		t.Fatalf("reset --host %s: exit %d\n%s%s", b, r.code, r.stdout, r.stderr)
	}
}

// checkCertificateKeyOnMastersOnly (HA step): the worker's join information
// never held the certificate key, the joining master's did, and the worker's
// credentials cannot read kubeadm-certs.
func checkCertificateKeyOnMastersOnly(t *testing.T, s *suite, master2, worker string) {
	s.mu.Lock()
	seenW, seenM := s.joinInfoSeen[worker], s.joinInfoSeen[master2]
	s.mu.Unlock()
	if len(seenW) == 0 || len(seenM) == 0 {
		t.Fatalf("the join information was not seen on the joining hosts (worker %d, master %d reads): the check would prove nothing", len(seenW), len(seenM))
	}
	for _, i := range seenW {
		if i.CertificateKey != "" {
			t.Errorf("the worker %s received the certificate key", worker)
		}
	}
	key := false
	for _, i := range seenM {
		key = key || i.CertificateKey != ""
	}
	if !key {
		t.Errorf("the joining master %s received no certificate key", master2)
	}
	out, err := s.ssh(t.Context(), worker, hostKubectl+" --kubeconfig /etc/kubernetes/kubelet.conf -n kube-system get secret kubeadm-certs -o name 2>&1")
	if err == nil || !strings.Contains(strings.ToLower(out), "forbidden") {
		t.Errorf("the worker's credentials read kubeadm-certs (or failed otherwise): %v\n%s", err, out)
	}
}

// stepAdoptHandMade: a cluster made with edgeadm by hand (edgeadm run from
// /root, as a person following the seed does) is adopted by up, which joins
// the edges; reset --all then stages edgeadm where it is missing and leaves
// every host as before the install.
func stepAdoptHandMade(t *testing.T, s *suite) {
	leader := s.hosts[0]
	pkg := envOr("EDGEOPS_BUNDLE", filepath.Join(s.root, "_output", bundles.PackageFileName("amd64")))
	s.scp(t, leader, filepath.Join(s.root, "_output", "edgeadm"), "/root/edgeadm")
	s.scp(t, leader, pkg, "/root/"+filepath.Base(pkg))
	out := s.mustSSH(t, leader, fmt.Sprintf("cd /root && ./edgeadm init --install-pkg-path /root/%s --runtime-binary /usr/local/sbin/runc-lab --apiserver-advertise-address %s 2>&1 | tail -5",
		filepath.Base(pkg), leader))
	s.collectTokens(t.Context())
	t.Logf("edgeadm init by hand:\n%s", tokenRE.ReplaceAllString(out, "<token>"))
	r := s.run(t, "up", "-i", s.inv3, "--output", "json")
	if r.code != 0 {
		t.Fatalf("up adopting the hand-made cluster: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
	}
	s.waitReady(t, 3)
	// The hand-made leader's staged edgeadm goes: reset must bring its own.
	s.mustSSH(t, leader, "rm -f /usr/local/bin/edgeadm /root/edgeadm /root/"+filepath.Base(pkg))
	r = s.run(t, "reset", "--all", "-i", s.inv4, "--output", "json")
	if r.code != 0 {
		t.Fatalf("reset --all: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
	}
	for _, h := range s.hosts {
		added, removed := diffLines(s.preInstall[h], s.mustSSH(t, h, hostStateScript))
		if len(added)+len(removed) > 0 {
			t.Errorf("host %s is not back to its pre-install state:\n  left behind: %v\n  missing: %v", h, added, removed)
		}
	}
	// A second reset finds nothing: it must say so, not "reset".
	r = s.run(t, "reset", "--all", "-i", s.inv4)
	if r.code != 0 {
		t.Fatalf("reset of clean hosts: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range s.hosts {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(h) + `\s+\S+\s+\S+\s+clean\s`).MatchString(r.stdout) {
			t.Errorf("reset of a clean host %s does not say clean:\n%s", h, r.stdout)
		}
	}
}

// inventoryFile writes <file>.yaml in the lab folder: an inventory of the
// lab's kind for cluster name, with extra cluster fields and the host lines.
func (s *suite) inventoryFile(t *testing.T, file, name, clusterExtra, hostLines string) string {
	pkg := envOr("EDGEOPS_BUNDLE", filepath.Join(s.root, "_output", bundles.PackageFileName("amd64")))
	inv := fmt.Sprintf(`apiVersion: edgeops.io/v1
kind: Inventory
cluster:
  name: %s
%s  installPackage:
    path: %s
  containerRuntime:
    runtimeBinary: /usr/local/sbin/runc-lab
ssh:
  user: root
  identityFiles: [key]
  knownHosts: known_hosts
hosts:
%s`, name, clusterExtra, pkg, hostLines)
	path := filepath.Join(s.labDir, file+".yaml")
	writeFile(t, path, inv)
	return path
}

// scp copies a local file to a lab host as root.
func (s *suite) scp(t *testing.T, host, local, remote string) {
	t.Helper()
	if _, err := os.Stat(local); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("scp", "-q", "-i", filepath.Join(s.labDir, "key"),
		"-o", "UserKnownHostsFile="+filepath.Join(s.labDir, "known_hosts"), "-o", "BatchMode=yes",
		local, "root@"+host+":"+remote)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scp %s to %s: %v\n%s", local, host, err, out)
	}
}
