package tunnel

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestInformerNodes runs the informer source against a fake clientset:
// nodes arrive, address changes bump the generation, heartbeats do not.
func TestInformerNodes(t *testing.T) {
	cs := fake.NewClientset(testNode("edge-1", []string{"172.28.30.12"}, "10.244.1.0/24"))
	lg, _ := newTestLogger(t, "nodes")
	src, err := newInformerNodes(cs, "fake", lg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = src.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, 10*time.Second, "the informer to sync", src.Synced)
	r := newRouter(src)
	if n, ok := r.current().lookup("10.244.1.5"); !ok || n != "edge-1" {
		t.Fatalf("lookup after sync: %q %v", n, ok)
	}

	gen := src.Generation()
	n := testNode("edge-1", []string{"172.28.30.12"}, "10.244.1.0/24")
	n.Labels = map[string]string{"heartbeat": "1"}
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if src.Generation() != gen {
		t.Fatal("an update that leaves the routes alone changed the generation")
	}

	n = testNode("edge-1", []string{"172.28.30.99"}, "10.244.1.0/24")
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the new address", func() bool {
		n, ok := r.current().lookup("172.28.30.99")
		return ok && n == "edge-1"
	})
	if _, err := cs.CoreV1().Nodes().Create(ctx, testNode("edge-2", []string{"172.28.30.13"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the new node", func() bool { n, _ := r.current().lookup("172.28.30.13"); return n == "edge-2" })
	if err := cs.CoreV1().Nodes().Delete(ctx, "edge-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the node to go", func() bool { _, ok := r.current().lookup("172.28.30.99"); return !ok })
	if got := src.Nodes(); len(got) != 1 || len(got[0].Status.Images) != 0 {
		t.Fatalf("nodes: %+v", got)
	}
}
