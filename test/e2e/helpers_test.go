//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/pkg/bundle"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

// suite is the lab and everything the steps share: the binaries, the
// inventories, and every byte edgeops printed (for the secret check).
type suite struct {
	root, labDir   string
	edgeops        string
	kubectl        string   // extracted from the package: runs here with the fetched kubeconfig
	spare          []string // lab hosts past the first 4 (the HA test's)
	kubeconfig     string
	hosts          []string // lab addresses, .11 first
	inv3, inv4     string   // 1 master + 2 edges; all four hosts
	preInstall     map[string]string
	mu             sync.Mutex
	outputs        []string                   // stdout and stderr of every edgeops run
	secrets        map[string]struct{}        // tokens and keys read from the hosts while edgeops ran
	joinInfoSeen   map[string][]joininfo.Info // per host: the join information found there during runs
	upWall         time.Duration
	upPhaseTimings string
	via            []string // ssh options that route s.ssh through a bastion chain (TestNonRootBastion)
}

type result struct {
	stdout, stderr string
	code           int
	wall           time.Duration
}

func newSuite(t *testing.T) *suite {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	s := &suite{root: root, secrets: map[string]struct{}{}, joinInfoSeen: map[string][]joininfo.Info{}}
	s.labDir = envOr("EDGEOPS_E2E_LAB_DIR", filepath.Join(root, "lab", "e2e"))
	s.edgeops = envOr("EDGEOPS_BIN", filepath.Join(root, "_output", "edgeops"))
	pkg := envOr("EDGEOPS_BUNDLE", filepath.Join(root, "_output", bundles.PackageFileName("amd64")))
	if _, err := os.Stat(pkg); err != nil {
		t.Fatalf("install package %s missing: run `make bundle` (or scripts/e2e, which does)", pkg)
	}
	if _, err := os.Stat(s.edgeops); err != nil {
		t.Fatalf("%s missing: run scripts/e2e (it builds _output/edgeops and _output/edgeadm)", s.edgeops)
	}
	inv, err := os.ReadFile(filepath.Join(s.labDir, "hosts.yaml"))
	if err != nil {
		t.Fatalf("no lab inventory (run scripts/e2e, or LAB_NAME=e2e LAB_SUBNET=172.28.30.0/24 LAB_DIR=lab/e2e scripts/lab up 4): %v", err)
	}
	s.hosts = regexp.MustCompile(`(?m)^\s*- address: (\S+)`).FindAllString(string(inv), -1)
	for i, h := range s.hosts {
		s.hosts[i] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "- address:"))
	}
	if len(s.hosts) < 4 {
		t.Fatalf("the e2e lab needs 4 hosts, %s lists %d", filepath.Join(s.labDir, "hosts.yaml"), len(s.hosts))
	}
	// Both inventories sit in the lab folder (paths in them are relative).
	s.inv4 = filepath.Join(s.labDir, "e2e-4.yaml")
	s.inv3 = filepath.Join(s.labDir, "e2e-3.yaml")
	// Most tests use 4 hosts (s.hosts, e2e-4); the HA test the spares too.
	s.hosts, s.spare = s.hosts[:4], s.hosts[4:]
	first4 := string(inv)
	for _, h := range s.spare {
		first4 = regexp.MustCompile(`(?m)^  - address: `+regexp.QuoteMeta(h)+`\n    role: \w+\n`).ReplaceAllString(first4, "")
	}
	writeFile(t, s.inv4, first4)
	first3 := regexp.MustCompile(`(?m)^  - address: `+regexp.QuoteMeta(s.hosts[3])+`\n    role: \w+\n`).ReplaceAllString(first4, "")
	// The first up's edges stand in one site: their nodes get its zone label.
	writeFile(t, s.inv3, strings.ReplaceAll(first3, "    role: edge\n", "    role: edge\n    site: "+e2eSite+"\n"))
	s.kubeconfig = filepath.Join(s.labDir, "e2e.kubeconfig")
	kc, err := bundle.ReadFile(context.Background(), pkg, "bin/kubectl")
	if err != nil {
		t.Fatalf("kubectl from the package: %v", err)
	}
	s.kubectl = filepath.Join(t.TempDir(), "kubectl")
	if err := os.WriteFile(s.kubectl, kc, 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

// e2eSite is the site of e2e-3.yaml's edge hosts.
const e2eSite = "lab-edge"

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs edgeops from the repository root and keeps its output.
func (s *suite) run(t *testing.T, args ...string) result {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(s.edgeops, args...)
	cmd.Dir = s.root
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// edgeops deletes its tokens and join information when it ends: read
	// them on the hosts while it runs, for the secret and certificate-key checks.
	stop := s.sniff()
	err := cmd.Run()
	stop()
	r := result{stdout: out.String(), stderr: errb.String(), wall: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("edgeops %v: %v", args, err)
	}
	s.keep(r.stdout, r.stderr)
	t.Logf("edgeops %s: exit %d in %s", strings.Join(args, " "), r.code, r.wall.Round(100*time.Millisecond))
	return r
}

func (s *suite) keep(out ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outputs = append(s.outputs, out...)
}

// ssh runs a command as root on a lab host.
func (s *suite) ssh(ctx context.Context, host, command string) (string, error) {
	args := append(append([]string{}, s.via...), "-i", filepath.Join(s.labDir, "key"),
		"-o", "UserKnownHostsFile="+filepath.Join(s.labDir, "known_hosts"), "-o", "BatchMode=yes",
		"-o", "ConnectTimeout=5", "root@"+host, command)
	cmd := exec.CommandContext(ctx, "ssh", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ssh %s %q: %w: %s", host, command, err, out)
	}
	return string(out), nil
}

func (s *suite) mustSSH(t *testing.T, host, command string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := s.ssh(ctx, host, command)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// lab runs scripts/lab with the environment scripts/e2e set.
func (s *suite) lab(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.root, "scripts", "lab"), args...)
	cmd.Dir = s.root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/lab %v: %v\n%s", args, err, out)
	}
}

// kubectl runs the package's kubectl here with the kubeconfig edgeops fetched.
func (s *suite) kubectlRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.kubectl, append([]string{"--kubeconfig", s.kubeconfig, "--request-timeout=20s"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

type node struct {
	Name   string
	Ready  bool
	Labels map[string]string
}

func (s *suite) nodes(t *testing.T) map[string]node {
	t.Helper()
	var list struct {
		Items []struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Status struct {
				Conditions []struct{ Type, Status string } `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(s.kubectlRun(t, "", "get", "nodes", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]node{}
	for _, it := range list.Items {
		n := node{Name: it.Metadata.Name, Labels: it.Metadata.Labels}
		for _, c := range it.Status.Conditions {
			if c.Type == "Ready" {
				n.Ready = c.Status == "True"
			}
		}
		out[n.Name] = n
	}
	return out
}

// waitReady waits until exactly want nodes exist and all are Ready.
func (s *suite) waitReady(t *testing.T, want int) map[string]node {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ns := s.nodes(t)
		ready := 0
		for _, n := range ns {
			if n.Ready {
				ready++
			}
		}
		if len(ns) == want && ready == want {
			return ns
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d Ready nodes, have %v", want, ns)
		}
		time.Sleep(3 * time.Second)
	}
}

// event is one --output json line.
type event struct {
	Time    time.Time `json:"time"`
	Host    string    `json:"host"`
	Phase   string    `json:"phase"`
	Event   string    `json:"event"`
	Message string    `json:"message"`
	Error   string    `json:"error"`
}

// events parses --output json stdout; every line must be one event.
func events(t *testing.T, stdout string) []event {
	t.Helper()
	var out []event
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("stdout line is not a JSON event: %q: %v", line, err)
		}
		if e.Event == "" && !strings.Contains(line, `"level"`) {
			t.Fatalf("JSON line without event: %q", line)
		}
		out = append(out, e)
	}
	return out
}

// changedHosts lists hosts with a "changed" event.
func changedHosts(evs []event) []string {
	set := map[string]bool{}
	for _, e := range evs {
		if e.Event == "changed" && e.Host != "" {
			set[e.Host] = true
		}
	}
	var out []string
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// sniff reads every host's join information and the leader's tokens every
// 300 ms until stopped.
func (s *suite) sniff() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var wg sync.WaitGroup
			// The spare hosts too: the HA test joins them.
			for _, h := range append(append([]string{}, s.hosts...), s.spare...) {
				wg.Add(1)
				go func() { defer wg.Done(); s.readJoinInfo(ctx, h) }()
			}
			wg.Wait()
			select {
			case <-ctx.Done():
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done; s.collectTokens(context.Background()) }
}

func (s *suite) readJoinInfo(ctx context.Context, h string) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	data, err := s.ssh(cctx, h, "cat "+joininfo.DefaultPath+" 2>/dev/null")
	if err != nil || strings.TrimSpace(data) == "" {
		return
	}
	info, err := joininfo.Parse([]byte(data))
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range info.Secrets() {
		s.secrets[sec] = struct{}{}
	}
	seen := s.joinInfoSeen[h]
	if len(seen) == 0 || seen[len(seen)-1].Token != info.Token || seen[len(seen)-1].CertificateKey != info.CertificateKey {
		s.joinInfoSeen[h] = append(seen, info)
	}
}

// collectTokens adds every bootstrap token the leader's cluster knows.
func (s *suite) collectTokens(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := s.ssh(cctx, s.hosts[0], "/usr/local/bin/edgeadm token list 2>/dev/null"); err == nil {
		s.mu.Lock()
		for _, tok := range regexp.MustCompile(`\b[a-z0-9]{6}\.[a-z0-9]{16}\b`).FindAllString(out, -1) {
			s.secrets[tok] = struct{}{}
			s.secrets[strings.SplitN(tok, ".", 2)[1]] = struct{}{}
		}
		s.mu.Unlock()
	}
}

// collectSecrets reads the join information on the leader (and every
// bootstrap token the cluster knows) so the final check can grep for them.
func (s *suite) collectSecrets(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if data, err := s.ssh(ctx, s.hosts[0], "cat "+joininfo.DefaultPath); err == nil {
		if info, err := joininfo.Parse([]byte(data)); err == nil {
			s.mu.Lock()
			for _, sec := range info.Secrets() {
				s.secrets[sec] = struct{}{}
			}
			s.mu.Unlock()
		}
	}
	if out, err := s.ssh(ctx, s.hosts[0], "/usr/local/bin/edgeadm token list 2>/dev/null"); err == nil {
		s.mu.Lock()
		for _, tok := range regexp.MustCompile(`\b[a-z0-9]{6}\.[a-z0-9]{16}\b`).FindAllString(out, -1) {
			s.secrets[tok] = struct{}{}
			s.secrets[strings.SplitN(tok, ".", 2)[1]] = struct{}{}
		}
		s.mu.Unlock()
	}
}

// hostState lists what a reset must restore: files in the places edgeadm and
// kubeadm write, unit files, running services, iptables chains, links.
const hostStateScript = `
for d in /etc/kubernetes /var/lib/kubelet /var/lib/etcd /etc/cni /opt/cni /var/lib/cni /run/flannel \
  /etc/containerd /var/lib/edgeops /var/lib/edgeadm /etc/edgeadm /etc/systemd/system /usr/local/bin \
  /usr/bin /etc/sysctl.d /etc/modules-load.d /etc/crictl.yaml; do
  [ -e "$d" ] && find "$d" -maxdepth 3 ! -type d 2>/dev/null
done | sort
echo '== unit files'
systemctl list-unit-files --no-legend --no-pager 2>/dev/null | awk '{print $1}' | sort
echo '== running services'
systemctl list-units --type=service --state=running --no-legend --plain --no-pager 2>/dev/null | awk '{print $1}' | sort
echo '== iptables chains'
for t in filter nat mangle raw; do iptables-save -t $t 2>/dev/null | grep '^:' | awk -v t=$t '{print t" "$1}'; done | sort
echo '== links'
ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | sort
`

// diffLiveHost is diffLines for a host of a running cluster: kube-proxy adds
// and drops per-service and per-endpoint chains, and the CNI adds and drops
// veth links, as pods come and go on their own (CoreDNS turning Ready after
// init, say). Those are the cluster's doing, not the command's under test.
func diffLiveHost(before, after string) (added, removed []string) {
	a, r := diffLines(before, after)
	return withoutLiveChurn(a), withoutLiveChurn(r)
}

func withoutLiveChurn(lines []string) []string {
	var kept []string
	for _, l := range lines {
		churn := strings.HasPrefix(l, "veth")
		for _, p := range []string{":KUBE-SEP-", ":KUBE-SVC-", ":KUBE-SVL-", ":KUBE-EXT-", ":KUBE-FW-"} {
			churn = churn || strings.Contains(l, " "+p)
		}
		if !churn {
			kept = append(kept, l)
		}
	}
	return kept
}

func diffLines(before, after string) (added, removed []string) {
	b := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		b[l] = true
	}
	a := map[string]bool{}
	for _, l := range strings.Split(after, "\n") {
		a[l] = true
		if !b[l] {
			added = append(added, l)
		}
	}
	for _, l := range strings.Split(before, "\n") {
		if !a[l] {
			removed = append(removed, l)
		}
	}
	return added, removed
}
