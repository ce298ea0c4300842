package tunnel

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestChooseRoute(t *testing.T) {
	nodes := []*corev1.Node{
		testNode("edge-1", []string{"172.28.30.12", "edge-1.lab"}, "10.244.1.0/24"),
		testNode("edge-2", []string{"172.28.30.13", "fd00::13"}, "10.244.2.0/24", "fd10:0:0:2::/64"),
		testNode("cloud-1", []string{"172.28.30.2"}, "10.244.0.0/24"),
		// an old-style node with only spec.podCIDR
		func() *corev1.Node {
			n := testNode("edge-3", []string{"172.28.30.14"})
			n.Spec.PodCIDR = "10.244.3.0/24"
			return n
		}(),
	}
	nodes[0].Status.Addresses = append(nodes[0].Status.Addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.12"})
	connected := map[string]bool{"edge-1": true, "edge-2": true, "edge-3": true}
	table := buildRoutes(nodes)

	tests := []struct {
		name, host string
		want       route
	}{
		{"internal IP", "172.28.30.12", route{Node: "edge-1", ViaAgent: true}},
		{"external IP", "203.0.113.12", route{Node: "edge-1", ViaAgent: true}},
		{"hostname", "edge-1.lab", route{Node: "edge-1", ViaAgent: true}},
		{"hostname other case, trailing dot", "EDGE-1.Lab.", route{Node: "edge-1", ViaAgent: true}},
		{"pod IP", "10.244.1.77", route{Node: "edge-1", ViaAgent: true}},
		{"IPv6 address, other spelling", "fd00:0:0::13", route{Node: "edge-2", ViaAgent: true}},
		{"IPv6 pod IP", "fd10:0:0:2::5", route{Node: "edge-2", ViaAgent: true}},
		{"second pod CIDR", "10.244.2.1", route{Node: "edge-2", ViaAgent: true}},
		{"legacy spec.podCIDR", "10.244.3.9", route{Node: "edge-3", ViaAgent: true}},
		{"IPv4-mapped IPv6", "::ffff:172.28.30.13", route{Node: "edge-2", ViaAgent: true}},
		{"known node without agent", "172.28.30.2", route{Node: "cloud-1"}},
		{"pod of a node without agent", "10.244.0.5", route{Node: "cloud-1"}},
		{"unknown IP", "192.0.2.1", route{}},
		{"unknown name", "db.example", route{}},
		{"outside every CIDR", "10.245.0.1", route{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chooseRoute(table, func(n string) bool { return connected[n] }, tt.host)
			if got != tt.want {
				t.Fatalf("chooseRoute(%q) = %+v, want %+v", tt.host, got, tt.want)
			}
		})
	}
}

func TestRoutesMostSpecificCIDRAndStableOwner(t *testing.T) {
	table := buildRoutes([]*corev1.Node{
		testNode("b-wide", []string{"192.0.2.9"}, "10.0.0.0/8"),
		testNode("a-narrow", []string{"192.0.2.9"}, "10.1.0.0/16"),
	})
	for host, want := range map[string]string{
		"10.1.2.3":  "a-narrow", // longest prefix
		"10.2.0.1":  "b-wide",
		"192.0.2.9": "a-narrow", // a shared address goes to the first node by name
	} {
		if got, _ := table.lookup(host); got != want {
			t.Errorf("lookup(%s) = %q, want %q", host, got, want)
		}
	}
}

func TestRouterFollowsNodeChanges(t *testing.T) {
	src := newFakeNodes(testNode("edge-1", []string{"172.28.30.12"}))
	r := newRouter(src)
	if n, ok := r.current().lookup("172.28.30.12"); !ok || n != "edge-1" {
		t.Fatalf("before: %q %v", n, ok)
	}
	src.set(testNode("edge-1", []string{"172.28.30.99"}))
	if _, ok := r.current().lookup("172.28.30.12"); ok {
		t.Fatal("old address still routed after the node changed")
	}
	if n, _ := r.current().lookup("172.28.30.99"); n != "edge-1" {
		t.Fatalf("new address: %q", n)
	}
}

func TestSlimNodeKeepsRoutes(t *testing.T) {
	n := testNode("edge-1", []string{"172.28.30.12"}, "10.244.1.0/24")
	n.Status.Images = []corev1.ContainerImage{{Names: []string{"big"}}}
	n.Annotations = map[string]string{"a": "b"}
	out, err := slimNode(n)
	if err != nil {
		t.Fatal(err)
	}
	s := out.(*corev1.Node)
	if !sameRoutes(n, s) || s.Name != "edge-1" || len(s.Status.Images) != 0 || len(s.Annotations) != 0 {
		t.Fatalf("slimNode: %+v", s)
	}
}
