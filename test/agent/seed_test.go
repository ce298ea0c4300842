//go:build e2e

package agent

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/bundles"
)

// The seed test's own lab (docs/CONTRACTS.md reserves this subnet for it).
const (
	seedLab    = "agent-seed"
	seedSubnet = "172.28.21.0/24"
	seedHost1  = "172.28.21.11"
	seedHost2  = "172.28.21.12"
	// The seed runs ./edgeadm from the working directory.
	seedDir = "/root"
)

var (
	tokenRe   = regexp.MustCompile(`--token\s+(\S+)`)
	certKeyRe = regexp.MustCompile(`--certificate-key\s+(\S+)`)
)

// seed runs the seed's commands by hand and keeps the secrets init printed,
// to redact them from the test log.
type seed struct {
	*lab
	secrets []string
}

func (s *seed) redact(out string) string {
	for _, x := range s.secrets {
		if x != "" {
			out = strings.ReplaceAll(out, x, "<redacted>")
		}
	}
	return out
}

// sh runs a seed command on a host in /root, logging it and its output (redacted).
func (s *seed) sh(ctx context.Context, host, cmd string) string {
	s.t.Helper()
	start := time.Now()
	out, err := s.run(ctx, host, "cd "+seedDir+" && "+cmd+" 2>&1")
	// init prints the secrets before the test has read them: learn them from the output first.
	s.secrets = append(s.secrets, submatches(tokenRe, out)...)
	s.secrets = append(s.secrets, submatches(certKeyRe, out)...)
	s.t.Logf("host %s: [root@%s ~]# %s\n(%s)\n%s", host, host, s.redact(cmd), time.Since(start).Round(time.Millisecond), s.redact(out))
	if err != nil {
		s.t.Fatalf("host %s: %s: %v", host, s.redact(cmd), err)
	}
	return out
}

// printedJoin takes an 'edgeadm join' command from init's output: the
// control-plane one or the worker one, joined across its continuation lines.
func printedJoin(t *testing.T, out string, controlPlane bool) string {
	t.Helper()
	lines := strings.Split(out, "\n")
	var found []string
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), "edgeadm join ") {
			continue
		}
		cmd := strings.TrimSpace(lines[i])
		for strings.HasSuffix(cmd, `\`) && i+1 < len(lines) {
			i++
			cmd = strings.TrimSpace(strings.TrimSuffix(cmd, `\`)) + " " + strings.TrimSpace(lines[i])
		}
		found = append(found, cmd)
	}
	for _, c := range found {
		if strings.Contains(c, "--control-plane") == controlPlane {
			return c
		}
	}
	t.Fatalf("init printed no edgeadm join command (control plane %v); it printed:\n%s", controlPlane, strings.Join(found, "\n"))
	return ""
}

// waitNodes polls host 1's API until check accepts the node list.
func (s *seed) waitNodes(ctx context.Context, what, cmd string, check func(string) bool) {
	s.t.Helper()
	start := time.Now()
	var out string
	for time.Since(start) < 5*time.Minute {
		var err error
		if out, err = s.run(ctx, seedHost1, cmd); err == nil && check(out) {
			s.t.Logf("%s after %s:\n%s", what, time.Since(start).Round(time.Second), out)
			return
		}
		time.Sleep(3 * time.Second)
	}
	s.t.Fatalf("%s: not within 5m; last:\n%s", what, out)
}

// TestSeedByHand runs the seed document's sections 3.1 and 3.2 by hand on
// two lab hosts, verbatim but for the lab's addresses, the package's
// Kubernetes version and the lab's runc: init, then the join command init
// printed, then 'edgeadm reset' answered 'y', and the hosts as before.
func TestSeedByHand(t *testing.T) {
	s := &seed{lab: newLabOn(t, seedLab, seedSubnet)}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	version := strings.TrimPrefix(bundles.KubernetesVersion(), "v") // the seed writes 1.18.2
	pkg := map[string]string{}
	for _, h := range []string{seedHost1, seedHost2} {
		pkg[h] = s.stage(ctx, h)
		s.upload(ctx, h, s.edgeadm, seedDir+"/edgeadm", "0755")
		s.must(ctx, h, seedDir+"/edgeadm reset --force")
	}
	if pkg[seedHost1] != pkg[seedHost2] {
		t.Fatalf("package staged at %s and %s", pkg[seedHost1], pkg[seedHost2])
	}
	before := map[string]string{seedHost1: s.snapshot(ctx, seedHost1), seedHost2: s.snapshot(ctx, seedHost2)}
	lab := " --runtime-binary " + runtimeBinary
	common := fmt.Sprintf("--kubernetes-version=%s --image-repository superedge.tencentcloudcr.com/superedge --service-cidr=192.168.11.0/16 --pod-network-cidr=172.22.0.0/16 --apiserver-cert-extra-sans=%s",
		version, seedHost1)

	// 3.1: an edge cluster, one master and one edge node.
	out := s.sh(ctx, seedHost1, fmt.Sprintf("./edgeadm init %s --apiserver-advertise-address=%s --install-pkg-path %s -v=6", common, seedHost1, pkg[seedHost1])+lab)
	join := printedJoin(t, out, false)
	s.secrets = append(s.secrets, submatch(tokenRe, join))
	for _, want := range []string{"Your Kubernetes control-plane has initialized successfully!", "edgeadm installed the pod network", "pod CIDR 172.22.0.0/16", "edge components"} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q", want)
		}
	}
	if strings.Contains(out, "You should now deploy a pod network") || strings.Contains(out, "kubeadm join") {
		t.Errorf("init output still has kubeadm's pod network paragraph or 'kubeadm join'")
	}
	if !strings.HasPrefix(join, "edgeadm join "+seedHost1+":6443 --token ") || !strings.Contains(join, "--discovery-token-ca-cert-hash sha256:") ||
		!strings.HasSuffix(join, "--install-pkg-path "+pkg[seedHost1]) {
		t.Fatalf("printed join %q", s.redact(join))
	}
	// Both ways of giving discovery at once: refused, naming both, nothing changed.
	if o, err := s.run(ctx, seedHost2, "cd /root && ./"+join+" --join-info-file /etc/edgeadm/join-info.json"+lab+" 2>&1"); err == nil ||
		!strings.Contains(o, "--token") || !strings.Contains(o, "--join-info-file") {
		t.Errorf("join with --token and --join-info-file: %v\n%s", err, s.redact(o))
	}
	s.assertClean(ctx, seedHost2, before[seedHost2], "after a refused join")
	joinOut := s.sh(ctx, seedHost2, "./"+join+lab)
	if !strings.Contains(joinOut, "This node has joined the cluster") {
		t.Errorf("join output lacks kubeadm's success message")
	}
	s.waitNodes(ctx, "2 nodes Ready (3.1)", readyCmd, allReady(2))
	node2 := strings.TrimSpace(s.must(ctx, seedHost2, "hostname"))
	if l := s.must(ctx, seedHost1, kubectlCmd+" get node "+node2+` -o jsonpath='{.metadata.labels.edgeops\.io/node-role} {.spec.taints[*].key}'`); !strings.HasPrefix(l, "edge ") || !strings.Contains(l, "edgeops.io/edge") {
		t.Errorf("the node joined by hand is no edge node: %q", l)
	}
	if svc := s.must(ctx, seedHost1, kubectlCmd+" get svc kubernetes -o jsonpath='{.spec.clusterIP}'"); !strings.HasPrefix(svc, "192.168.") {
		t.Errorf("service CIDR not taken: kubernetes service at %q", svc)
	}
	s.resetSeed(ctx, before, "after 3.1")

	// 3.2: a control-plane endpoint (host 1's address here: a VIP is another issue)
	// with uploaded certificates, and a second control-plane node joined by hand.
	out = s.sh(ctx, seedHost1, fmt.Sprintf("./edgeadm init --control-plane-endpoint %s --upload-certs %s --install-pkg-path %s -v=6", seedHost1, common, pkg[seedHost1])+lab)
	join = printedJoin(t, out, true)
	s.secrets = append(s.secrets, submatch(tokenRe, join), submatch(certKeyRe, join))
	if !strings.Contains(join, "--control-plane --certificate-key ") || !strings.HasSuffix(join, "--install-pkg-path "+pkg[seedHost1]) ||
		!strings.Contains(out, `"edgeadm init phase upload-certs --upload-certs"`) {
		t.Fatalf("printed control-plane join %q", s.redact(join))
	}
	if w := printedJoin(t, out, false); strings.Contains(w, "--certificate-key") {
		t.Errorf("worker join carries the certificate key")
	}
	joinOut = s.sh(ctx, seedHost2, "./"+join+lab)
	if !strings.Contains(joinOut, "a new control plane instance was created") {
		t.Errorf("control-plane join output lacks kubeadm's message")
	}
	s.waitNodes(ctx, "2 control-plane nodes Ready (3.2)",
		kubectlCmd+` get nodes -l node-role.kubernetes.io/control-plane -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}'`,
		allReady(2))
	if pods := s.must(ctx, seedHost1, kubectlCmd+" -n kube-system get pods -l component=etcd -o name"); strings.Count(pods, "pod/") != 2 {
		t.Errorf("etcd members: %q", pods)
	}
	s.resetSeed(ctx, before, "after 3.2")
}

// resetSeed runs the seed's './edgeadm reset', answering kubeadm's question, on host 2 then host 1.
func (s *seed) resetSeed(ctx context.Context, before map[string]string, when string) {
	s.t.Helper()
	for _, h := range []string{seedHost2, seedHost1} {
		s.sh(ctx, h, "echo y | ./edgeadm reset")
	}
	for _, h := range []string{seedHost1, seedHost2} {
		s.assertClean(ctx, h, before[h], when)
	}
}

// submatches lists the secrets re finds in s; kubeadm's "<value withheld>" is none.
func submatches(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		if !strings.HasPrefix(m[1], "<") {
			out = append(out, m[1])
		}
	}
	return out
}

func submatch(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}
