package phases

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

const (
	master = inventory.RoleMaster
	edge   = inventory.RoleEdge
	worker = inventory.RoleWorker
)

// mutating are the commands that change a host's cluster state.
var mutating = []string{"reset --force", "result reset", EdgeadmPath + " init", EdgeadmPath + " join", "upload "}

func assertUntouched(t *testing.T, h *fakeHost) {
	t.Helper()
	for _, c := range h.commands() {
		for _, m := range mutating {
			if strings.Contains(c, m) {
				t.Errorf("host %s was changed: %q", h.addr, firstLine(c))
			}
		}
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// clusterUp makes lab a running cluster as a finished `up` leaves it.
func clusterUp(lab *fakeLab, done bool) {
	lab.c.ca, lab.c.apiUp = "ca-"+lab.hosts[0].addr, true
	for i, h := range lab.hosts {
		h.files[EdgeadmPath] = nil
		h.joinMember(lab.c, lab.inv.Hosts[i].Role == master)
		if done {
			h.files[DoneMarker] = nil
		}
	}
}

// Every rule of decide, and every phase body of up, against fake hosts.
func TestUpScenarios(t *testing.T) {
	tests := []struct {
		name  string
		roles []inventory.Role
		setup func(lab *fakeLab)
		// check looks at the lab after the run; err is Run's result.
		check func(t *testing.T, lab *fakeLab, s *State, err error)
	}{
		{"fresh cluster: init, joins, no secret left behind", []inventory.Role{master, edge, worker}, nil,
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err != nil {
					t.Fatalf("up: %v", err)
				}
				for _, h := range lab.hosts {
					if !h.has(DoneMarker) || !lab.c.nodes[h.hostname] {
						t.Errorf("%s: not a finished member", h.addr)
					}
					if h.has(joininfo.DefaultPath) {
						t.Errorf("%s: join information left behind", h.addr)
					}
				}
				if len(lab.c.tokens) != 0 {
					t.Errorf("tokens minted by the run are still valid: %v", lab.c.tokens)
				}
			}},
		{"two masters: the certificate key reaches masters only", []inventory.Role{master, master, edge, worker}, nil,
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err != nil {
					t.Fatalf("up: %v", err)
				}
				for i, h := range lab.hosts[1:] {
					if len(h.joinSeen) != 1 {
						t.Fatalf("%s joined %d times", h.addr, len(h.joinSeen))
					}
					hasKey := h.joinSeen[0].CertificateKey != ""
					if want := i == 0; hasKey != want {
						t.Errorf("%s (%s): certificate key present = %v, want %v", h.addr, lab.inv.Hosts[i+1].Role, hasKey, want)
					}
				}
				if !lab.hosts[0].ran(certsTokenCleanup) {
					t.Errorf("the kubeadm-certs TTL token (and so the uploaded certificates) is not deleted after the run")
				}
			}},
		{"API outage on a leader without the done marker: nothing is reset, up fails naming it", []inventory.Role{master, edge, edge},
			func(lab *fakeLab) { clusterUp(lab, false); lab.c.apiUp = false },
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err == nil || !strings.Contains(err.Error(), "leader 10.0.0.1 has a control plane") || !strings.Contains(err.Error(), "edgeops reset --host 10.0.0.1") {
					t.Fatalf("up = %v, want a refusal naming the leader and the way out", err)
				}
				for _, h := range lab.hosts {
					assertUntouched(t, h)
				}
				if got := len(lab.c.nodes); got != 3 {
					t.Errorf("cluster has %d nodes after the run, want 3", got)
				}
			}},
		{"API outage with the marker: same refusal", []inventory.Role{master, edge},
			func(lab *fakeLab) { clusterUp(lab, true); lab.c.apiUp = false },
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err == nil || !strings.Contains(err.Error(), "did not answer") {
					t.Fatalf("up = %v", err)
				}
				for _, h := range lab.hosts {
					assertUntouched(t, h)
				}
			}},
		{"leader with etcd data but no admin.conf: refused, untouched", []inventory.Role{master, edge},
			func(lab *fakeLab) { lab.hosts[0].files[etcdMember] = nil; lab.hosts[0].files[pkiCA] = []byte("ca-x") },
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err == nil || !strings.Contains(err.Error(), "etcd data") {
					t.Fatalf("up = %v", err)
				}
				for _, h := range lab.hosts {
					assertUntouched(t, h)
				}
			}},
		{"interrupted init (API answers, no marker): post-init phases again, then the marker", []inventory.Role{master, edge},
			func(lab *fakeLab) { clusterUp(lab, true); delete(lab.hosts[0].files, DoneMarker) },
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err != nil {
					t.Fatalf("up: %v", err)
				}
				l := lab.hosts[0]
				if !l.ran(EdgeadmPath+" init phase cni") || !l.ran(EdgeadmPath+" init phase edge") || !l.has(DoneMarker) {
					t.Errorf("leader: cni/edge phases or marker missing: %q", l.commands())
				}
				if l.ran("reset") || l.ran(EdgeadmPath+" init --") {
					t.Errorf("leader was reset or re-initialised")
				}
				assertUntouched(t, lab.hosts[1])
			}},
		{"a host of another cluster is refused by name and untouched", []inventory.Role{master, edge, edge},
			func(lab *fakeLab) {
				clusterUp(lab, true)
				other := &fakeCluster{ca: "ca-other", apiUp: true, nodes: map[string]bool{}}
				h := lab.hosts[2]
				h.wipe()
				h.joinMember(other, false)
				h.files[DoneMarker] = nil
			},
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				var fe *ForeignClusterError
				if !errors.As(err, &fe) || fe.Host != "10.0.0.3" {
					t.Fatalf("up = %v, want a ForeignClusterError for 10.0.0.3", err)
				}
				if !strings.Contains(err.Error(), "edgeops reset --host 10.0.0.3") {
					t.Errorf("the error does not say the way out: %v", err)
				}
				assertUntouched(t, lab.hosts[2])
				if !lab.hosts[2].has(kubeletConf) {
					t.Errorf("the foreign host lost its kubelet.conf")
				}
			}},
		{"a host of a cluster, leader fresh: refused, untouched", []inventory.Role{master, edge},
			func(lab *fakeLab) {
				other := &fakeCluster{ca: "ca-other", apiUp: true, nodes: map[string]bool{}}
				lab.hosts[1].joinMember(other, false)
			},
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				var fe *ForeignClusterError
				if !errors.As(err, &fe) || !fe.NoCluster {
					t.Fatalf("up = %v, want a ForeignClusterError (no cluster yet)", err)
				}
				assertUntouched(t, lab.hosts[1])
			}},
		{"half-joined to this cluster: reset, then joined", []inventory.Role{master, edge},
			func(lab *fakeLab) {
				clusterUp(lab, true)
				h := lab.hosts[1]
				h.wipe()
				h.files[pkiCA] = []byte(lab.c.ca)
				h.files["/var/lib/kubelet/config.yaml"] = nil
			},
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err != nil {
					t.Fatalf("up: %v", err)
				}
				h := lab.hosts[1]
				if !h.ran(EdgeadmPath+" reset --force") || !h.has(DoneMarker) {
					t.Errorf("half-joined host not reset and joined: %q", h.commands())
				}
			}},
		{"leader with kubeadm traces only (init died in preflight): reset, then init", []inventory.Role{master},
			func(lab *fakeLab) { lab.hosts[0].files["/var/lib/kubelet/config.yaml"] = nil },
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err != nil {
					t.Fatalf("up: %v", err)
				}
				if !lab.hosts[0].ran(EdgeadmPath+" reset --force") || !lab.hosts[0].has(adminConf) {
					t.Errorf("not re-initialised: %q", lab.hosts[0].commands())
				}
			}},
		{"a cluster made by hand is adopted: edgeadm staged on the leader, a new node joins", []inventory.Role{master, edge, edge},
			func(lab *fakeLab) {
				clusterUp(lab, false)
				for _, h := range lab.hosts {
					delete(h.files, EdgeadmPath)
				}
				lab.hosts[2].wipe()
			},
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err != nil {
					t.Fatalf("up: %v", err)
				}
				if !lab.hosts[0].ran("upload " + EdgeadmPath) {
					t.Errorf("edgeadm not staged on the leader")
				}
				if !lab.c.nodes["n3"] || !lab.hosts[2].has(DoneMarker) {
					t.Errorf("the new node did not join")
				}
				assertUntouched(t, lab.hosts[1])
			}},
		{"a join interrupted after its kubelet registered: reset, node deleted, joined again", []inventory.Role{master, edge, edge},
			func(lab *fakeLab) {
				clusterUp(lab, true)
				delete(lab.hosts[2].files, DoneMarker)
				lab.hosts[2].files[JoiningMarker] = nil // up died while edgeadm join ran
			},
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err != nil {
					t.Fatalf("up: %v", err)
				}
				if !lab.hosts[2].ran(EdgeadmPath+" reset --force") || !lab.hosts[2].ran(EdgeadmPath+" join") {
					t.Errorf("the interrupted host was not reset and joined again")
				}
				if !lab.hosts[0].ran("delete node n3") {
					t.Errorf("the half-joined node was not deleted from the cluster before the rejoin")
				}
				if !lab.hosts[2].has(DoneMarker) || lab.hosts[2].has(JoiningMarker) {
					t.Errorf("after the rejoin: done=%v joining=%v, want done only", lab.hosts[2].has(DoneMarker), lab.hosts[2].has(JoiningMarker))
				}
				assertUntouched(t, lab.hosts[1])
			}},
		{"a join fails: its join information is removed, the others join, partial", []inventory.Role{master, edge, edge},
			func(lab *fakeLab) { lab.hosts[2].failJoin = errors.New("exit 1: kubeadm join: timed out") },
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				var pe *PartialError
				if !errors.As(err, &pe) {
					t.Fatalf("up = %v, want partial", err)
				}
				if lab.hosts[2].has(joininfo.DefaultPath) {
					t.Errorf("failed host keeps its join information")
				}
				if !lab.c.nodes["n2"] {
					t.Errorf("the other edge did not join")
				}
			}},
		{"init fails after writing join information: no token or file left", []inventory.Role{master, edge},
			func(lab *fakeLab) { lab.c.initErr = errors.New("exit 1: wait-control-plane timed out") },
			func(t *testing.T, lab *fakeLab, s *State, err error) {
				if err == nil || !strings.Contains(err.Error(), "edgeadm init") {
					t.Fatalf("up = %v", err)
				}
				if lab.hosts[0].has(joininfo.DefaultPath) || len(lab.c.tokens) != 0 {
					t.Errorf("join information or tokens left: file=%v tokens=%v", lab.hosts[0].has(joininfo.DefaultPath), lab.c.tokens)
				}
				if lab.hosts[1].ran(edgeadmJoin) {
					t.Errorf("a host joined a cluster whose init failed")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := newFakeLab(tt.roles...)
			if tt.setup != nil {
				tt.setup(lab)
			}
			start := time.Now()
			s, err := lab.up(t)
			tt.check(t, lab, s, err)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("scenario took %s: something waited for real time", d)
			}
		})
	}
}

// A leader that goes away mid-run fails the run with its address, and the
// hosts that still had to join are not left with join information.
func TestUpLeaderLostMidRun(t *testing.T) {
	lab := newFakeLab(master, edge)
	clusterUp(lab, true)
	lab.hosts[1].wipe()
	s := lab.state(t, nil)
	// Cut the leader once decide is done: the join info phase needs it.
	list := UpPhases()
	for i, p := range list {
		if _, ok := p.(joinInfoPhase); ok {
			list = append(list[:i], append([]Phase{cut(lab.hosts[0])}, list[i:]...)...)
			break
		}
	}
	err := Run(context.Background(), s, list)
	if err == nil || !strings.Contains(err.Error(), "10.0.0.1") {
		t.Fatalf("up = %v, want a failure naming the leader", err)
	}
	if lab.hosts[1].has(joininfo.DefaultPath) || lab.hosts[1].ran(edgeadmJoin) {
		t.Errorf("the edge host got join information or joined without a leader")
	}
}

// faultPhase injects a fault between two phases of a run: it selects no
// host and does its work once, in Prepare.
type faultPhase struct {
	title  string
	inject func()
}

func (p faultPhase) Title() string                          { return p.title }
func (faultPhase) Hosts(*State) []*Host                     { return nil }
func (faultPhase) Run(context.Context, *State, *Host) error { return nil }
func (p faultPhase) Prepare(context.Context, *State) error  { p.inject(); return nil }

// cut makes a host unreachable, as a pulled cable does.
func cut(h *fakeHost) Phase {
	return faultPhase{"cut", func() { h.mu.Lock(); h.gone = true; h.mu.Unlock() }}
}

// apiDown stops the cluster's API server answering.
func apiDown(c *fakeCluster) Phase {
	return faultPhase{"api down", func() { c.mu.Lock(); c.apiUp = false; c.mu.Unlock() }}
}

func TestReadyTimeoutShowsKubectlError(t *testing.T) {
	lab := newFakeLab(master, edge)
	clusterUp(lab, true)
	lab.hosts[1].wipe()
	s := lab.state(t, nil)
	list := UpPhases()
	// The API goes away after the joins, before ready.
	list = append(list[:len(list)-1], apiDown(lab.c), list[len(list)-1])
	err := Run(context.Background(), s, list)
	if err == nil || !strings.Contains(err.Error(), "connection to the server localhost:6443 was refused") {
		t.Fatalf("up = %v, want the kubectl error in the ready failure", err)
	}
}

func TestUpAgainChangesNothing(t *testing.T) {
	lab := newFakeLab(master, edge, worker)
	if _, err := lab.up(t); err != nil {
		t.Fatal(err)
	}
	before := make([]int, len(lab.hosts))
	for i, h := range lab.hosts {
		before[i] = len(h.commands())
	}
	s, err := lab.up(t)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range lab.hosts {
		for _, c := range h.commands()[before[i]:] {
			for _, m := range mutating {
				if strings.Contains(c, m) {
					t.Errorf("second up changed %s: %q", h.addr, firstLine(c))
				}
			}
		}
		if s.Hosts[i].Changed() {
			t.Errorf("second up reports %s changed", h.addr)
		}
	}
}

func TestAddNodeLeavesTheLeaderAlone(t *testing.T) {
	lab := newFakeLab(master, edge)
	clusterUp(lab, false) // made by hand: no marker, no edgeadm on the leader
	delete(lab.hosts[0].files, EdgeadmPath)
	lab.hosts[1].wipe()
	s := lab.state(t, map[string]bool{"10.0.0.2": true})
	if err := Run(context.Background(), s, AddNodePhases()); err != nil {
		t.Fatalf("add-node: %v", err)
	}
	l := lab.hosts[0]
	if l.ran("init phase") || l.ran(EdgeadmPath+" init") {
		t.Errorf("add-node worked on the leader: %q", l.commands())
	}
	if !l.ran("upload "+EdgeadmPath) || !lab.c.nodes["n2"] {
		t.Errorf("edgeadm not staged on the leader, or the node did not join")
	}
}

func TestLock(t *testing.T) {
	t.Run("held by a fresh run: locked, nothing changed", func(t *testing.T) {
		lab := newFakeLab(master, edge)
		lab.hosts[1].lockHeld = "edgeops/other/7/bb"
		_, err := lab.up(t)
		var le *LockedError
		if !errors.As(err, &le) || le.Host != "10.0.0.2" {
			t.Fatalf("up = %v, want LockedError on 10.0.0.2", err)
		}
		for _, h := range lab.hosts {
			assertUntouched(t, h)
		}
	})
	t.Run("lost mid-run: the host fails, the others beat on", func(t *testing.T) {
		lab := newFakeLab(master, edge, edge)
		s := lab.state(t, nil)
		s.HeartbeatEvery = 20 * time.Millisecond
		ctx := context.Background()
		for _, h := range s.Hosts {
			h.Remote, _ = s.Dial(ctx, h.Host)
			if err := acquireLock(ctx, s, h); err != nil {
				t.Fatal(err)
			}
		}
		hang := make(chan struct{})
		lab.hosts[1].hang = hang // black-holed: every beat hangs
		lab.hosts[2].mu.Lock()
		lab.hosts[2].lockHeld = "edgeops/other/9/cc" // taken over
		lab.hosts[2].mu.Unlock()
		if err := (lockPhase{}).Prepare(ctx, s); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		lockPhase{}.CleanUp(ctx, s)
		close(hang)
		var lost *LockLostError
		if err := s.Hosts[2].Err(); !errors.As(err, &lost) || lost.Owner != "edgeops/other/9/cc" {
			t.Errorf("host 3 error = %v, want LockLostError", err)
		}
		lab.hosts[0].mu.Lock()
		beats := lab.hosts[0].beats
		lab.hosts[0].mu.Unlock()
		if beats < 4 {
			t.Errorf("the leader beat %d times in 300 ms at 20 ms despite a hung host, want ≥ 4", beats)
		}
		if s.Hosts[1].Failed() {
			t.Errorf("a host whose beats hang is not failed for it: %v", s.Hosts[1].Err())
		}
	})
}

func TestReset(t *testing.T) {
	lab := newFakeLab(master, edge, edge)
	clusterUp(lab, false)
	delete(lab.hosts[0].files, EdgeadmPath) // made by hand: edgeadm run from elsewhere
	lab.hosts[2].wipe()
	delete(lab.hosts[2].files, EdgeadmPath) // never had anything
	s := lab.state(t, nil)
	if err := Run(context.Background(), s, ResetPhases()); err != nil {
		t.Fatalf("reset: %v", err)
	}
	rows := map[string]string{}
	for _, h := range s.Hosts {
		rows[h.Addr()] = h.status
	}
	if !lab.hosts[0].ran("upload "+EdgeadmPath) || lab.hosts[0].has(adminConf) {
		t.Errorf("the hand-made leader was not reset with a staged edgeadm: %q", lab.hosts[0].commands())
	}
	if rows["10.0.0.1"] != "reset" || rows["10.0.0.2"] != "reset" || rows["10.0.0.3"] != "clean" {
		t.Errorf("statuses %v, want reset, reset, clean", rows)
	}

	t.Run("a reset that leaves the cluster behind is a failure", func(t *testing.T) {
		lab := newFakeLab(master)
		clusterUp(lab, true)
		s := lab.state(t, nil)
		s.EdgeadmBinary = ""
		delete(lab.hosts[0].files, EdgeadmPath)
		err := Run(context.Background(), s, ResetPhases())
		if err == nil || !strings.Contains(err.Error(), "no edgeadm to stage") {
			t.Fatalf("reset = %v", err)
		}
	})
}

func TestResetOutcome(t *testing.T) {
	tests := []struct {
		out      string
		left     string
		had, bad bool
	}{
		{"[reset] done\nresult reset\n", "", true, false},
		{"result clean\n", "", false, false},
		{"result left /etc/kubernetes/admin.conf kubelet-running\n", "/etc/kubernetes/admin.conf kubelet-running", true, false},
		{"[reset] done\n", "", false, true},
	}
	for _, tt := range tests {
		left, had, err := resetOutcome(tt.out)
		if (err != nil) != tt.bad || had != tt.had || strings.Join(left, " ") != tt.left {
			t.Errorf("resetOutcome(%q) = %v %v %v", tt.out, left, had, err)
		}
	}
}
