package vip

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	k8stesting "k8s.io/client-go/testing"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/edgeops/edgeops/pkg/contract"
)

// fakeAPI is one API server's Lease store shared by several fake
// clientsets, with the optimistic concurrency of the real one (the fake
// tracker ignores resourceVersion, and the election relies on it).
type fakeAPI struct {
	mu    sync.Mutex
	rv    int
	lease *coordinationv1.Lease
}

var leaseGR = coordinationv1.Resource("leases")

// client is a clientset over a; while fail is set every call fails.
func (a *fakeAPI) client(fail *atomic.Bool) coordinationv1client.LeasesGetter {
	cs := &fake.Clientset{}
	cs.AddReactor("*", "*", a.react)
	cs.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		if fail.Load() {
			return true, nil, errors.New("injected: connection refused")
		}
		return false, nil, nil
	})
	return cs.CoordinationV1()
}

func (a *fakeAPI) react(action k8stesting.Action) (bool, runtime.Object, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch action.GetVerb() {
	case "get":
		name := action.(k8stesting.GetAction).GetName()
		if a.lease == nil || name != a.lease.Name {
			return true, nil, apierrors.NewNotFound(leaseGR, name)
		}
		return true, a.lease.DeepCopy(), nil
	case "create":
		l := action.(k8stesting.CreateAction).GetObject().(*coordinationv1.Lease).DeepCopy()
		if a.lease != nil {
			return true, nil, apierrors.NewAlreadyExists(leaseGR, l.Name)
		}
		a.rv++
		l.ResourceVersion = strconv.Itoa(a.rv)
		a.lease = l
		return true, l.DeepCopy(), nil
	case "update":
		l := action.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease).DeepCopy()
		if a.lease == nil {
			return true, nil, apierrors.NewNotFound(leaseGR, l.Name)
		}
		if l.ResourceVersion != a.lease.ResourceVersion {
			return true, nil, apierrors.NewConflict(leaseGR, l.Name, errors.New("resourceVersion changed"))
		}
		a.rv++
		l.ResourceVersion = strconv.Itoa(a.rv)
		a.lease = l
		return true, l.DeepCopy(), nil
	}
	return true, nil, errors.New("fake API: unexpected " + action.GetVerb())
}

// preset stores a Lease held by holder, renewed now.
func (a *fakeAPI) preset(holder string, seconds int32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := metav1MicroNow()
	a.rv++
	a.lease = &coordinationv1.Lease{}
	a.lease.Name, a.lease.Namespace = contract.VIPLeaseName, contract.VIPLeaseNamespace
	a.lease.ResourceVersion = strconv.Itoa(a.rv)
	a.lease.Spec.HolderIdentity = &holder
	a.lease.Spec.LeaseDurationSeconds = &seconds
	a.lease.Spec.AcquireTime, a.lease.Spec.RenewTime = &now, &now
}

// network is the shared view of the fake interfaces of all managers: one
// mutex, so a sample of who holds is consistent, and a double hold is
// caught at the very Add that causes it.
type network struct {
	mu       sync.Mutex
	addrs    map[string]*fakeAddrs
	doubles  []string
	arpWhile []string // announcements sent without the address
}

func newNetwork() *network { return &network{addrs: map[string]*fakeAddrs{}} }

func (n *network) iface(node string, present bool) *fakeAddrs {
	n.mu.Lock()
	defer n.mu.Unlock()
	f := &fakeAddrs{net: n, node: node, present: present}
	n.addrs[node] = f
	return f
}

// holders lists the nodes whose address is present.
func (n *network) holders() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.holdersLocked()
}

func (n *network) holdersLocked() []string {
	var out []string
	for node, f := range n.addrs {
		if f.present {
			out = append(out, node)
		}
	}
	return out
}

func (n *network) violations() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append(append([]string(nil), n.doubles...), n.arpWhile...)
}

// fakeAddrs is one node's interface.
type fakeAddrs struct {
	net             *network
	node            string
	present         bool
	adds, removes   int
	announcements   int
	failAdd, failRm bool
}

func (f *fakeAddrs) Present() (bool, error) {
	f.net.mu.Lock()
	defer f.net.mu.Unlock()
	return f.present, nil
}

func (f *fakeAddrs) Add() error {
	f.net.mu.Lock()
	defer f.net.mu.Unlock()
	if f.failAdd {
		return errors.New("fake: add failed")
	}
	f.adds++
	if !f.present {
		if hs := f.net.holdersLocked(); len(hs) > 0 {
			f.net.doubles = append(f.net.doubles, f.node+" added the address while "+hs[0]+" held it")
		}
	}
	f.present = true
	return nil
}

func (f *fakeAddrs) Remove() error {
	f.net.mu.Lock()
	defer f.net.mu.Unlock()
	if f.failRm {
		return errors.New("fake: remove failed")
	}
	if f.present {
		f.removes++
	}
	f.present = false
	return nil
}

func (f *fakeAddrs) Announce() error {
	f.net.mu.Lock()
	defer f.net.mu.Unlock()
	f.announcements++
	if !f.present {
		f.net.arpWhile = append(f.net.arpWhile, f.node+" announced without holding the address")
	}
	return nil
}

func (f *fakeAddrs) counts() (adds, removes, announcements int) {
	f.net.mu.Lock()
	defer f.net.mu.Unlock()
	return f.adds, f.removes, f.announcements
}

// Test timings: the lease is 1 s (the Lease stores whole seconds).
var testTimings = struct{ lease, renew, retry time.Duration }{time.Second, 600 * time.Millisecond, 150 * time.Millisecond}

var testVIP = netip.MustParseAddr("10.0.0.100")

// node is one running manager.
type node struct {
	name   string
	m      *Manager
	addrs  *fakeAddrs
	fail   *atomic.Bool
	cancel context.CancelFunc
	done   chan error
}

// startNode runs a manager for name against api; its interface is from nw.
func startNode(t *testing.T, api *fakeAPI, nw *network, name string, present bool, lg *log.Logger) *node {
	t.Helper()
	fail := &atomic.Bool{}
	return startNodeWith(t, api, nw.iface(name, present), name, fail, lg)
}

func startNodeWith(t *testing.T, api *fakeAPI, addrs *fakeAddrs, name string, fail *atomic.Bool, lg *log.Logger) *node {
	t.Helper()
	if lg == nil {
		lg = testLogger(t, name)
	}
	cfg := Config{
		Address: testVIP, Interface: "eth0", NodeName: name,
		LeaseDuration: testTimings.lease, RenewDeadline: testTimings.renew, RetryPeriod: testTimings.retry,
		HealthListen: "127.0.0.1:0",
	}
	m, err := NewManager(cfg, Options{Logger: lg, Leases: api.client(fail), Addrs: addrs, ARP: addrs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{name: name, m: m, addrs: addrs, fail: fail, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- m.Run(ctx) }()
	t.Cleanup(func() { n.stop(t) })
	return n
}

// stop cancels the manager and waits for Run to return.
func (n *node) stop(t *testing.T) {
	n.cancel()
	select {
	case <-n.done:
	case <-time.After(5 * time.Second):
		t.Errorf("%s: Run did not return within 5s of cancel", n.name)
	}
	n.done = closedErrChan()
}

func closedErrChan() chan error {
	c := make(chan error, 1)
	c <- nil
	return c
}

// testLogger writes to t.Log (quiet unless -v or failing), prefixed.
func testLogger(t *testing.T, prefix string) *log.Logger {
	if testing.Verbose() {
		w := &tWriter{t: t}
		t.Cleanup(func() { w.mu.Lock(); w.closed = true; w.mu.Unlock() })
		return log.New(w, prefix+": ", log.Lmicroseconds)
	}
	return log.New(io.Discard, "", 0)
}

type tWriter struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(string(p[:len(p)-1]))
	}
	return len(p), nil
}

// eventually polls cond every 10ms until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func metav1MicroNow() metav1.MicroTime { return metav1.NowMicro() }

func leaseRecordAt(t *testing.T, at string) *rl.LeaderElectionRecord {
	ts, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		t.Fatal(err)
	}
	return &rl.LeaderElectionRecord{HolderIdentity: "m1", LeaseDurationSeconds: 4, RenewTime: metav1.NewTime(ts), AcquireTime: metav1.NewTime(ts.Add(-time.Hour))}
}

func jsonOf(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
