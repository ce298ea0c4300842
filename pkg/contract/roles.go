package contract

// Node roles as edgeadm names them (join's --node-role takes edge or worker;
// a control-plane node joins with --control-plane).
const (
	RoleControlPlane = "control-plane"
	RoleEdge         = "edge"
	RoleWorker       = "worker"
)

// Edge node identity: a label the kubelet may set on itself at registration
// (node-role.kubernetes.io/* is reserved by NodeRestriction) and a taint
// that keeps ordinary workloads off edge nodes unless they tolerate it.
const (
	EdgeNodeLabelKey   = "edgeops.io/node-role"
	EdgeNodeLabelValue = RoleEdge
	EdgeTaintKey       = "edgeops.io/edge"
)
