package phases

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The leader's init starts while another host is still staging, and the
// joining hosts install the package before init ends; the joins then skip
// what the install phase did.
func TestUpPipelinesInitAndInstall(t *testing.T) {
	lab := newFakeLab(master, edge, worker)
	leader := lab.hosts[0]
	// The edge host's stage holds until the leader has run init: a runner
	// that waits for every stage before init never gets there.
	lab.hosts[1].beforeUpload = func(string) error {
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
			if leader.ran(EdgeadmPath + " init ") {
				return nil
			}
		}
		return errors.New("the leader's init did not start while this host was staging")
	}
	s := lab.state(t, nil)
	if err := Run(t.Context(), s, UpPhases()); err != nil {
		t.Fatalf("up: %v", err)
	}
	for _, h := range lab.hosts[1:] {
		cmds := strings.Join(h.commands(), "\n")
		install := strings.Index(cmds, EdgeadmPath+" join phase install-package")
		prep := strings.Index(cmds, EdgeadmPath+" join phase prepare-node")
		join := strings.Index(cmds, edgeadmJoin)
		if prep < 0 || install < prep || join < install {
			t.Errorf("%s: want prepare-node, install-package, then the join:\n%s", h.addr, cmds)
		}
		if !h.ran("--skip-phases prepare-node,install-package") {
			t.Errorf("%s: the join did not skip the phases the install phase ran:\n%s", h.addr, cmds)
		}
	}
	if leader.ran(EdgeadmPath + " join") {
		t.Errorf("the leader ran a join command:\n%s", strings.Join(leader.commands(), "\n"))
	}
	var titles []string
	for _, tm := range s.Timings() {
		titles = append(titles, tm.Phase)
	}
	if got := strings.Join(titles, ","); !strings.Contains(got, "stage,init,install,join info") {
		t.Errorf("phase timings %s: want stage, init and install in run order", got)
	}
}

// A join installs the package itself when the install phase did not run
// (left out with --skip-phases) or failed on that host.
func TestJoinInstallsWhenInstallPhaseDidNot(t *testing.T) {
	t.Run("skipped", func(t *testing.T) {
		lab := newFakeLab(master, edge)
		list, err := Select(UpPhases(), Selection{Skip: []string{"install"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := Run(t.Context(), lab.state(t, nil), list); err != nil {
			t.Fatalf("up: %v", err)
		}
		if h := lab.hosts[1]; h.ran(" join phase ") || h.ran("--skip-phases") || !h.ran(edgeadmJoin) {
			t.Errorf("want a whole join and nothing ahead:\n%s", strings.Join(h.commands(), "\n"))
		}
	})
	t.Run("not run on a host already done", func(t *testing.T) {
		lab := newFakeLab(master, edge)
		clusterUp(lab, true)
		if err := Run(t.Context(), lab.state(t, nil), UpPhases()); err != nil {
			t.Fatalf("up again: %v", err)
		}
		for _, h := range lab.hosts {
			if h.ran(" join phase ") {
				t.Errorf("%s: install ran on a host that is done", h.addr)
			}
		}
	})
}

// When init fails, the hosts that installed meanwhile do not join, and the
// run fails naming init.
func TestPipelineStopsAfterCriticalFailure(t *testing.T) {
	lab := newFakeLab(master, edge, edge)
	lab.c.initErr = errors.New("exit 1: kubeadm init failed")
	err := Run(t.Context(), lab.state(t, nil), UpPhases())
	if err == nil || !strings.Contains(err.Error(), "edgeadm init") {
		t.Fatalf("up = %v, want the init failure", err)
	}
	for _, h := range lab.hosts[1:] {
		if h.ran(edgeadmJoin) {
			t.Errorf("%s joined a cluster whose init failed", h.addr)
		}
	}
}
