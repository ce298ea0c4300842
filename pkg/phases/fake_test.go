package phases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/contract"
	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

// fakeCluster is the Kubernetes cluster the fake hosts share: its CA, its
// nodes, whether its API server answers, and the tokens minted in it.
type fakeCluster struct {
	mu      sync.Mutex
	ca      string          // "" before init
	apiUp   bool            // kubectl get nodes answers
	nodes   map[string]bool // name -> Ready
	tokens  map[string]bool // live token IDs
	minted  int
	initErr error // edgeadm init fails after writing the join information
}

// fakeHost is one host of the fake lab: in-memory files, scripted
// behaviour, and the log of every command run on it.
type fakeHost struct {
	addr, hostname string
	c              *fakeCluster // the cluster the host's kubelet belongs to (nil: none)

	mu       sync.Mutex
	files    map[string][]byte
	log      []string
	joinSeen []joininfo.Info // the join information each join found
	failJoin error
	gone     bool          // every command fails, as on a dead connection
	hang     chan struct{} // heartbeats block until this closes (or their context ends)
	lockHeld string        // another run's lock on the host
	beats    int
	// beforeUpload, when set, runs before each upload (without h.mu): a
	// test's gate on staging.
	beforeUpload func(path string) error
}

const (
	kubeletConf = "/etc/kubernetes/kubelet.conf"
	adminConf   = "/etc/kubernetes/admin.conf"
	etcdMember  = "/var/lib/etcd/member"
	pkiCA       = "/etc/kubernetes/pki/ca.crt"
)

func newFakeHost(addr, hostname string) *fakeHost {
	return &fakeHost{addr: addr, hostname: hostname, files: map[string][]byte{}}
}

func (h *fakeHost) has(path string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.files[path]
	return ok
}

func (h *fakeHost) commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.log...)
}

// ran reports whether a command containing sub ran on the host.
func (h *fakeHost) ran(sub string) bool {
	for _, c := range h.commands() {
		if strings.Contains(c, sub) {
			return true
		}
	}
	return false
}

// joinMember makes the host a member of c, as a finished kubeadm join leaves it.
func (h *fakeHost) joinMember(c *fakeCluster, controlPlane bool) {
	h.c = c
	h.files[kubeletConf] = []byte(c.ca)
	h.files[pkiCA] = []byte(c.ca)
	if controlPlane {
		h.files[adminConf] = []byte("admin")
		h.files[etcdMember] = nil
	}
	c.mu.Lock()
	c.nodes[h.hostname] = true
	c.mu.Unlock()
}

func (h *fakeHost) facts() string {
	var b strings.Builder
	fmt.Fprintf(&b, "os=debian\nosversion=12\narch=x86_64\nhostname=%s\nclock=%d.0\n", h.hostname, time.Now().Unix())
	if _, ok := h.files[EdgeadmPath]; ok {
		b.WriteString("edgeadm=1\nkubelet=1\n")
	}
	for path, word := range map[string]string{kubeletConf: "kubeletconf", adminConf: "adminconf", etcdMember: "etcdmember", DoneMarker: "done", JoiningMarker: "joining"} {
		if _, ok := h.files[path]; ok {
			b.WriteString(word + "=1\n")
		}
	}
	for _, p := range []string{kubeletConf, pkiCA, "/var/lib/kubelet/config.yaml"} {
		if _, ok := h.files[p]; ok {
			b.WriteString("kubeadmfiles=1\n")
			break
		}
	}
	if ca, ok := h.files[pkiCA]; ok {
		fmt.Fprintf(&b, "cahash=%s\n", ca)
	}
	if ca, ok := h.files[kubeletConf]; ok {
		fmt.Fprintf(&b, "kubeletcahash=%s\nkubeletserver=https://%s:6443\n", ca, "api")
	}
	return b.String()
}

func (h *fakeHost) wipe() {
	for _, p := range []string{kubeletConf, adminConf, etcdMember, pkiCA, "/var/lib/kubelet/config.yaml", DoneMarker, JoiningMarker, joininfo.DefaultPath} {
		delete(h.files, p)
	}
	if h.c != nil {
		h.c.mu.Lock()
		delete(h.c.nodes, h.hostname)
		h.c.mu.Unlock()
		h.c = nil
	}
}

// fakeRemote is the Remote the phases get for a fakeHost.
type fakeRemote struct {
	h *fakeHost
	c *fakeCluster // the cluster an init on this host creates
}

func (r fakeRemote) Run(ctx context.Context, cmd string, out io.Writer) ([]byte, error) {
	h := r.h
	if strings.Contains(cmd, "echo ours") && h.hang != nil {
		select { // a black-holed host: the beat hangs until its deadline
		case <-h.hang:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, cmd)
	if h.gone {
		return nil, errors.New("connection lost")
	}
	res, err := r.respond(cmd)
	if out != nil && res != "" {
		io.WriteString(out, res)
	}
	return []byte(res), err
}

// edgeadmJoin starts a join's command line (not a 'join phase' one).
const edgeadmJoin = EdgeadmPath + " join --"

// RunSplit plays edgeadm's progress protocol around Run: 'init|join phase
// X' reports step X; a whole init or join reports install-package (skipped
// when --skip-phases names it) and kubeadm (failed when the command did).
func (r fakeRemote) RunSplit(ctx context.Context, cmd string, stdout func(string), out io.Writer) error {
	_, err := r.Run(ctx, cmd, out)
	if !strings.Contains(cmd, "--progress-fd 3") {
		return err
	}
	f := strings.Fields(cmd)
	wf := f[1]
	step := func(name string, state string, ms int64) {
		stdout(string(contract.Step{Workflow: wf, Step: name, State: state, DurationMS: ms}.Line()))
	}
	end := func(name string, ms int64) {
		if err != nil {
			step(name, contract.StepFailed, ms)
		} else {
			step(name, contract.StepDone, ms)
		}
	}
	if f[2] == "phase" {
		step(f[3], contract.StepStart, 0)
		end(f[3], 900)
		return err
	}
	if strings.Contains(cmd, "--skip-phases prepare-node,install-package") {
		step("install-package", contract.StepSkipped, 0)
	} else {
		step("install-package", contract.StepStart, 0)
		step("install-package", contract.StepDone, 1200)
	}
	step("kubeadm", contract.StepStart, 0)
	end("kubeadm", 3400)
	return err
}

// respond plays the host's part; h.mu is held.
func (r fakeRemote) respond(cmd string) (string, error) {
	h, c := r.h, r.c
	switch {
	case cmd == factsScript:
		return h.facts(), nil
	case strings.Contains(cmd, "flock -w"):
		if h.lockHeld != "" {
			return "held 5 " + h.lockHeld, nil
		}
		return "acquired\n", nil
	case strings.Contains(cmd, "echo ours"):
		h.beats++
		if h.lockHeld != "" {
			return "lost " + h.lockHeld, nil
		}
		return "ours\n", nil
	case strings.Contains(cmd, "get nodes"):
		cl := h.c
		if cl == nil {
			return "", errors.New("exit 1: The connection to the server was refused")
		}
		cl.mu.Lock()
		defer cl.mu.Unlock()
		if !cl.apiUp {
			return "", errors.New("exit 1: The connection to the server localhost:6443 was refused - did you specify the right host or port?")
		}
		return nodesJSON(cl.nodes), nil
	case strings.Contains(cmd, "result reset"): // resetScript
		had := len(h.files) > 0
		_, edgeadm := h.files[EdgeadmPath]
		if edgeadm {
			h.wipe()
		}
		_, left := h.files[kubeletConf]
		for p := range h.files {
			if strings.HasPrefix(p, "/usr/local/bin/") || strings.HasPrefix(p, StateDir) {
				delete(h.files, p)
			}
		}
		switch {
		case left:
			return "result left " + kubeletConf + "\n", nil
		case had:
			return "result reset\n", nil
		}
		return "result clean\n", nil
	case strings.HasPrefix(cmd, EdgeadmPath+" init phase"):
		return "[" + strings.Fields(cmd)[3] + "] applied\n", nil
	case strings.HasPrefix(cmd, EdgeadmPath+" init"):
		c.mu.Lock()
		c.ca = "ca-" + h.addr
		c.apiUp = true
		c.mu.Unlock()
		h.joinMember(c, true)
		h.files[joininfo.DefaultPath] = r.mint(strings.Contains(cmd, "--upload-certs"))
		if c.initErr != nil {
			return "", c.initErr
		}
		return "Your Kubernetes control-plane has initialized successfully!\n", nil
	case strings.Contains(cmd, " token create "):
		h.files[joininfo.DefaultPath] = r.mint(strings.Contains(cmd, "--upload-certs"))
		return "", nil
	case strings.Contains(cmd, " token delete "):
		cl := h.c
		cl.mu.Lock()
		defer cl.mu.Unlock()
		for _, f := range strings.Fields(cmd[strings.Index(cmd, "admin.conf")+len("admin.conf"):]) {
			if f == ";" || strings.HasPrefix(f, "rm") {
				break
			}
			delete(cl.tokens, strings.TrimSuffix(f, ";"))
		}
		delete(h.files, joininfo.DefaultPath)
		return "", nil
	case strings.HasPrefix(cmd, EdgeadmPath+" join phase"):
		h.files["/etc/edgeadm/installed.json"] = nil
		return "[" + strings.Fields(cmd)[3] + "] done\n", nil
	case strings.HasPrefix(cmd, EdgeadmPath+" join"):
		data, ok := h.files[joininfo.DefaultPath]
		if !ok {
			return "", errors.New("exit 1: read join information: no such file")
		}
		info, err := joininfo.Parse(data)
		if err != nil {
			return "", err
		}
		h.joinSeen = append(h.joinSeen, info)
		if h.failJoin != nil {
			h.files["/var/lib/kubelet/config.yaml"] = nil // kubeadm got half-way
			return "", h.failJoin
		}
		h.joinMember(c, strings.Contains(cmd, "--control-plane"))
		return "This node has joined the cluster\n", nil
	case strings.HasPrefix(cmd, EdgeadmPath+" reset --force"):
		h.wipe()
		return "", nil
	}
	// Plain file commands the phases use.
	for _, part := range strings.Split(cmd, "&&") {
		f := strings.Fields(part)
		switch {
		case len(f) >= 2 && f[0] == "touch":
			h.files[f[1]] = nil
		case len(f) >= 3 && f[0] == "rm" && f[1] == "-f":
			for _, p := range f[2:] {
				delete(h.files, p)
			}
		}
	}
	return "", nil
}

// mint writes fresh join information into the cluster; h.mu is held.
func (r fakeRemote) mint(certKey bool) []byte {
	c := r.c
	c.mu.Lock()
	c.minted++
	id := fmt.Sprintf("tok%03d", c.minted)
	if c.tokens == nil {
		c.tokens = map[string]bool{}
	}
	c.tokens[id] = true
	c.mu.Unlock()
	info := joininfo.Info{APIServerEndpoint: "api:6443", Token: id + ".0123456789abcdef", CACertHashes: []string{"sha256:" + c.ca},
		TokenExpires: time.Now().Add(2 * time.Hour)}
	if certKey {
		info.CertificateKey = strings.Repeat("c0ffee", 10) + "abcd"
	}
	data, _ := info.Marshal()
	return data
}

func (r fakeRemote) Upload(ctx context.Context, local, path string, mode os.FileMode, progress func(done, total int64)) (bool, error) {
	return false, r.UploadBytes(ctx, nil, path, mode)
}

func (r fakeRemote) UploadBytes(ctx context.Context, data []byte, path string, mode os.FileMode) error {
	if r.h.beforeUpload != nil {
		if err := r.h.beforeUpload(path); err != nil {
			return err
		}
	}
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	r.h.log = append(r.h.log, "upload "+path)
	if r.h.gone {
		return errors.New("connection lost")
	}
	r.h.files[path] = data
	return nil
}

func (r fakeRemote) Download(ctx context.Context, path string) ([]byte, error) {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	if r.h.gone {
		return nil, errors.New("connection lost")
	}
	data, ok := r.h.files[path]
	if !ok {
		return nil, fmt.Errorf("open %s: no such file", path)
	}
	return data, nil
}

func (fakeRemote) Close() error { return nil }

func nodesJSON(nodes map[string]bool) string {
	type cond struct{ Type, Status string }
	var items []map[string]any
	for name, ready := range nodes {
		st := "False"
		if ready {
			st = "True"
		}
		items = append(items, map[string]any{
			"metadata": map[string]any{"name": name},
			"status":   map[string]any{"conditions": []map[string]string{{"type": "Ready", "status": st}}},
		})
	}
	data, _ := json.Marshal(map[string]any{"items": items})
	return string(data)
}

// fakeLab is an inventory of fake hosts: the first is the leader, and
// roles are given in order ("master", "edge", "worker").
type fakeLab struct {
	c     *fakeCluster
	hosts []*fakeHost
	inv   *inventory.Inventory
}

func newFakeLab(roles ...inventory.Role) *fakeLab {
	lab := &fakeLab{c: &fakeCluster{nodes: map[string]bool{}}, inv: &inventory.Inventory{}}
	for i, role := range roles {
		h := newFakeHost(fmt.Sprintf("10.0.0.%d", i+1), fmt.Sprintf("n%d", i+1))
		lab.hosts = append(lab.hosts, h)
		lab.inv.Hosts = append(lab.inv.Hosts, &inventory.Host{Address: h.addr, Role: role})
	}
	return lab
}

// state is a run over the lab's hosts (all of them when targets is nil).
func (lab *fakeLab) state(t *testing.T, targets map[string]bool) *State {
	t.Helper()
	byAddr := map[string]*fakeHost{}
	for _, h := range lab.hosts {
		byAddr[h.addr] = h
	}
	dir := t.TempDir()
	bin, pkg := dir+"/edgeadm", dir+"/edgeops-bundle-v1.34.4-linux-amd64.tar.gz"
	for _, f := range []string{bin, pkg} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return NewState(Config{
		Inventory: lab.inv, Package: pkg, EdgeadmBinary: bin, RunID: "edgeops/test/1/aa", Targets: targets,
		ReadyTimeout: 50 * time.Millisecond, APIWait: 30 * time.Millisecond,
		After: func(time.Duration) <-chan time.Time { return time.After(time.Millisecond) },
		Dial: func(ctx context.Context, h *inventory.Host) (Remote, error) {
			return fakeRemote{h: byAddr[h.Address], c: lab.c}, nil
		},
	}, lab.inv.Hosts)
}

// up runs `edgeops up`'s phases on every host of the lab.
func (lab *fakeLab) up(t *testing.T) (*State, error) {
	t.Helper()
	s := lab.state(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s, Run(ctx, s, UpPhases())
}
