package vip

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// sampler checks every 20 ms that at most one node holds the address.
type sampler struct {
	nw   *network
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	samples int
	bad     []string
}

func startSampler(t *testing.T, nw *network) *sampler {
	s := &sampler{nw: nw, stop: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tk.C:
			}
			hs := nw.holders()
			s.mu.Lock()
			s.samples++
			if len(hs) > 1 {
				slices.Sort(hs)
				s.bad = append(s.bad, time.Now().Format("15:04:05.000")+" "+joinNames(hs))
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.finish)
	return s
}

func (s *sampler) finish() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
}

// check fails t if any sample or any Add saw two holders.
func (s *sampler) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bad) > 0 {
		t.Errorf("%d of %d samples saw two holders: %v", len(s.bad), s.samples, s.bad)
	}
	if v := s.nw.violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
	t.Logf("%d samples, at most one holder in each", s.samples)
}

func joinNames(ns []string) string {
	out := ""
	for i, n := range ns {
		if i > 0 {
			out += "+"
		}
		out += n
	}
	return out
}

// soleHolder waits until exactly one node holds the address and that
// node's manager says it leads; it returns that node.
func soleHolder(t *testing.T, nw *network, within time.Duration, nodes ...*node) *node {
	t.Helper()
	var got *node
	eventually(t, within, "exactly one node leads and holds the address", func() bool {
		hs := nw.holders()
		if len(hs) != 1 {
			return false
		}
		for _, n := range nodes {
			if n.name == hs[0] && n.m.Status().Leader {
				got = n
				return true
			}
		}
		return false
	})
	return got
}

func others(all []*node, not *node) []*node {
	var out []*node
	for _, n := range all {
		if n != not {
			out = append(out, n)
		}
	}
	return out
}

func TestElectionTwoManagers(t *testing.T) {
	t.Parallel()
	testElection(t, 2)
}

func TestElectionThreeManagers(t *testing.T) {
	t.Parallel()
	testElection(t, 3)
}

func testElection(t *testing.T, count int) {
	api := &fakeAPI{}
	nw := newNetwork()
	s := startSampler(t, nw)
	var nodes []*node
	for i := range count {
		name := "m" + string(rune('1'+i))
		nodes = append(nodes, startNode(t, api, nw, name, false, nil))
	}

	leader := soleHolder(t, nw, 3*time.Second, nodes...)
	t.Logf("first leader: %s", leader.name)

	// A clean stop releases the lease: another takes over well before the
	// lease would have expired.
	stopped := time.Now()
	leader.stop(t)
	if present(leader.addrs) {
		t.Fatalf("%s still holds the address after a clean stop", leader.name)
	}
	next := soleHolder(t, nw, 3*time.Second, others(nodes, leader)...)
	if took := time.Since(stopped); took > testTimings.lease {
		t.Errorf("takeover after a clean stop took %v, want < lease duration %v", took, testTimings.lease)
	}
	t.Logf("after clean stop of %s: %s leads", leader.name, next.name)

	// The stopped node comes back (same interface), as a follower.
	for i, n := range nodes {
		if n == leader {
			nodes[i] = startNodeWith(t, api, n.addrs, n.name, n.fail, nil)
		}
	}
	time.Sleep(3 * testTimings.retry)
	if got := soleHolder(t, nw, time.Second, nodes...); got != next {
		t.Fatalf("leader changed to %s after %s restarted", got.name, leader.name)
	}

	// The leader's API server fails: it must drop the address before
	// anyone else can add it.
	next.fail.Store(true)
	failed := time.Now()
	eventually(t, 2*testTimings.lease, next.name+" drops the address", func() bool { return !present(next.addrs) })
	dropped := time.Since(failed)
	third := soleHolder(t, nw, 4*time.Second, others(nodes, next)...)
	t.Logf("%s's API failing: dropped after %v; %s leads after %v", next.name, dropped.Round(time.Millisecond), third.name, time.Since(failed).Round(time.Millisecond))
	// Its last renewal may have been up to a retry period before the
	// failure began; the lease runs from there.
	if took, min := time.Since(failed), testTimings.lease-2*testTimings.retry; took < min {
		t.Errorf("%s took over %v after the leader's API failed, want at least %v", third.name, took, min)
	}
	eventually(t, 2*time.Second, next.name+" no longer leads", func() bool { st := next.m.Status(); return !st.Leader && !st.Holding })

	// It recovers, stays a follower, and can lead again later.
	next.fail.Store(false)
	eventually(t, 2*time.Second, next.name+" sees "+third.name+" as holder", func() bool {
		return next.m.Status().Holder == third.name
	})
	if got := soleHolder(t, nw, time.Second, nodes...); got != third {
		t.Fatalf("leader changed to %s after %s recovered", got.name, next.name)
	}
	third.stop(t)
	again := soleHolder(t, nw, 3*time.Second, others(nodes, third)...)
	t.Logf("after %s stopped: %s leads", third.name, again.name)
	if again.m.Status().Transitions < 1 {
		t.Errorf("%s: transitions = %d", again.name, again.m.Status().Transitions)
	}

	for _, n := range nodes {
		n.stop(t)
	}
	if hs := nw.holders(); len(hs) != 0 {
		t.Errorf("after every manager stopped, holders: %v", hs)
	}
	s.finish()
	s.check(t)
}

// A node whose API calls fail keeps failing to renew: it must give the
// address up within RenewDeadline of its last successful renewal even
// though client-go's own OnStoppedLeading comes later.
func TestLeaderDropsBeforeLeaseExpires(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	nw := newNetwork()
	n := startNode(t, api, nw, "m1", false, nil)
	soleHolder(t, nw, 3*time.Second, n)
	n.fail.Store(true)
	start := time.Now()
	eventually(t, 2*testTimings.lease, "m1 drops the address", func() bool { return !present(n.addrs) })
	if took := time.Since(start); took >= testTimings.lease {
		t.Errorf("dropped after %v, want < lease duration %v", took, testTimings.lease)
	}
	// While failing, it neither re-adds nor announces.
	_, _, before := n.addrs.counts()
	time.Sleep(2 * testTimings.lease)
	if _, _, after := n.addrs.counts(); after != before || present(n.addrs) {
		t.Errorf("announcements %d -> %d, present %v while the API fails", before, after, present(n.addrs))
	}
	// Back: the lease is still its own, so it leads again.
	n.fail.Store(false)
	soleHolder(t, nw, 3*time.Second, n)
	if v := nw.violations(); len(v) > 0 {
		t.Error(v)
	}
}

func TestARPSchedule(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{}
	nw := newNetwork()
	n := startNode(t, api, nw, "m1", false, nil)
	soleHolder(t, nw, 3*time.Second, n)
	time.Sleep(1300 * time.Millisecond)
	if _, _, a := n.addrs.counts(); a != 3 {
		t.Errorf("announcements in the first 1.3s: %d, want 3", a)
	}
	if got := nextARP(time.Time{}, 3).Sub(time.Time{}); got != 11*time.Second {
		t.Errorf("4th announcement at %v, want 11s", got)
	}
	if got := nextARP(time.Time{}, 4).Sub(time.Time{}); got != 21*time.Second {
		t.Errorf("5th announcement at %v, want 21s", got)
	}
}

func present(f *fakeAddrs) bool { p, _ := f.Present(); return p }
