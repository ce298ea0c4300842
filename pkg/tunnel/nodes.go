package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"slices"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// NodeSource tells the server which nodes exist, with their addresses and
// pod CIDRs. The server uses an informer; tests give fixed nodes.
type NodeSource interface {
	// Run fills the source and keeps it current until ctx ends.
	Run(ctx context.Context) error
	// Synced says whether the first full list has arrived.
	Synced() bool
	// Generation changes whenever a node's addresses or pod CIDRs do.
	Generation() uint64
	// Nodes returns the nodes known now (shared: do not modify them).
	Nodes() []*corev1.Node
}

// informerNodes is a NodeSource watching the API server's Nodes.
type informerNodes struct {
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	lister   listersv1.NodeLister
	gen      atomic.Uint64
}

// NewInformerNodeSource watches Nodes with the credentials of a kubeconfig
// file. List and watch failures go to lg, each new one once.
func NewInformerNodeSource(kubeconfig string, lg *log.Logger) (NodeSource, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	rc.UserAgent = "edge-tunnel-server"
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return newInformerNodes(cs, kubeconfig, lg)
}

// newInformerNodes watches Nodes through cs; what names the credentials in
// log lines.
func newInformerNodes(cs kubernetes.Interface, what string, lg *log.Logger) (*informerNodes, error) {
	s := &informerNodes{}
	// only names, addresses and pod CIDRs are kept: a Node's images and
	// conditions would cost memory for nothing
	s.factory = informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTransform(slimNode))
	nodes := s.factory.Core().V1().Nodes()
	s.informer, s.lister = nodes.Informer(), nodes.Lister()
	bump := func(any) { s.gen.Add(1) }
	_, err := s.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    bump,
		DeleteFunc: bump,
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*corev1.Node)
			n, ok2 := newObj.(*corev1.Node)
			if !ok1 || !ok2 || !sameRoutes(o, n) {
				s.gen.Add(1)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("node informer: %w", err)
	}
	var mu sync.Mutex
	last := ""
	err = s.informer.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		// a watch the API server ends is routine: the reflector resumes it
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if msg := err.Error(); msg != last {
			lg.Printf("nodes: list/watch with %s: %v", what, err)
			last = msg
		}
	})
	if err != nil {
		return nil, fmt.Errorf("node informer: %w", err)
	}
	return s, nil
}

func (s *informerNodes) Run(ctx context.Context) error {
	s.factory.Start(ctx.Done())
	<-ctx.Done()
	s.factory.Shutdown()
	return nil
}

func (s *informerNodes) Synced() bool       { return s.informer.HasSynced() }
func (s *informerNodes) Generation() uint64 { return s.gen.Load() }

func (s *informerNodes) Nodes() []*corev1.Node {
	nodes, err := s.lister.List(labels.Everything())
	if err != nil {
		return nil
	}
	return nodes
}

// slimNode drops everything routing does not use.
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil // e.g. a tombstone: kept as it is
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion},
		Spec:       corev1.NodeSpec{PodCIDR: n.Spec.PodCIDR, PodCIDRs: n.Spec.PodCIDRs},
		Status:     corev1.NodeStatus{Addresses: n.Status.Addresses},
	}, nil
}

// sameRoutes says whether an update leaves a node's routes as they were
// (most updates are heartbeats).
func sameRoutes(a, b *corev1.Node) bool {
	return a.Spec.PodCIDR == b.Spec.PodCIDR &&
		slices.Equal(a.Spec.PodCIDRs, b.Spec.PodCIDRs) &&
		slices.Equal(a.Status.Addresses, b.Status.Addresses)
}
