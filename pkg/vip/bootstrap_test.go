package vip

import (
	"sync/atomic"
	"testing"
	"time"
)

// The address is on the interface at start (edge-vip announce on the
// first master, or a restart while holding) and this instance wins: it is
// never removed in between.
func TestBootstrapKeptWhenLeading(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	nw := newNetwork()
	s := startSampler(t, nw)
	n := startNode(t, api, nw, "m1", true, nil)
	soleHolder(t, nw, 3*time.Second, n)
	time.Sleep(2 * testTimings.lease)
	if _, removes, _ := n.addrs.counts(); removes != 0 || !present(n.addrs) {
		t.Fatalf("removals %d, present %v; want the address kept throughout", removes, present(n.addrs))
	}
	if st := n.m.Status(); !st.Leader || st.Transitions != 1 {
		t.Errorf("status %+v", st)
	}
	s.finish()
	s.check(t)
}

// The same, but the API server answers only after a while (it is being
// set up): still kept, never removed.
func TestBootstrapKeptWhileAPIComesUp(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	nw := newNetwork()
	fail := &atomic.Bool{}
	fail.Store(true)
	n := startNodeWith(t, api, nw.iface("m1", true), "m1", fail, nil)
	time.Sleep(2 * testTimings.lease) // less than 3 lease durations
	if !present(n.addrs) {
		t.Fatal("address removed while the API server was not up yet")
	}
	fail.Store(false)
	soleHolder(t, nw, 3*time.Second, n)
	if _, removes, _ := n.addrs.counts(); removes != 0 {
		t.Fatalf("removals %d, want 0", removes)
	}
}

// Another identity holds a valid Lease: the address found at start goes.
func TestBootstrapRemovedWhenOtherLeads(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	api.preset("m9", 30)
	nw := newNetwork()
	n := startNode(t, api, nw, "m1", true, nil)
	eventually(t, 2*time.Second, "the address removed", func() bool { return !present(n.addrs) })
	st := n.m.Status()
	if st.Leader || st.Holding || st.Holder != "m9" || st.Since == "" {
		t.Errorf("status %+v", st)
	}
	if _, removes, _ := n.addrs.counts(); removes != 1 {
		t.Errorf("removals %d, want 1", removes)
	}
	// It stays a follower and never adds it back.
	time.Sleep(testTimings.lease)
	if adds, _, _ := n.addrs.counts(); adds != 0 || present(n.addrs) {
		t.Errorf("adds %d, present %v", adds, present(n.addrs))
	}
}

// A Lease left by a dead holder: m9 is seen first (client-go can only tell
// it expired after watching it for a lease duration), so the address goes,
// then comes back when this instance takes over.
func TestBootstrapExpiredOtherTakenOver(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	api.preset("m9", 1)
	nw := newNetwork()
	n := startNode(t, api, nw, "m1", true, nil)
	soleHolder(t, nw, 4*time.Second, n)
	if adds, removes, _ := n.addrs.counts(); removes != 1 || adds != 1 {
		t.Errorf("adds %d, removes %d; want 1, 1", adds, removes)
	}
}

// The API server never answers and this instance never leads: after 3
// lease durations the address goes, not before.
func TestBootstrapRemovedWhenAPIStaysDown(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	nw := newNetwork()
	fail := &atomic.Bool{}
	fail.Store(true)
	start := time.Now()
	n := startNodeWith(t, api, nw.iface("m1", true), "m1", fail, nil)
	eventually(t, 3*testTimings.lease+2*time.Second, "the address removed", func() bool { return !present(n.addrs) })
	if took := time.Since(start); took < 3*testTimings.lease {
		t.Errorf("removed after %v, want at least 3 lease durations (%v)", took, 3*testTimings.lease)
	}
	if st := n.m.Status(); st.Leader || st.Holding {
		t.Errorf("status %+v", st)
	}
}

// A clean stop while the address is held from start but the leader is not
// known yet leaves it (the first master's API server may be starting).
func TestBootstrapStopKeeps(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	nw := newNetwork()
	fail := &atomic.Bool{}
	fail.Store(true)
	n := startNodeWith(t, api, nw.iface("m1", true), "m1", fail, nil)
	time.Sleep(300 * time.Millisecond)
	n.stop(t)
	if !present(n.addrs) {
		t.Fatal("address removed on stop before the leader was known")
	}
}
