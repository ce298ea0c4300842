package edgeproxy

// RBACManifest lets nodes read the default/kubernetes Endpoints, from
// which edge-proxy learns the API servers. kubeadm clusters authorize
// nodes with the Node authorizer, which does not cover Endpoints, and
// bind no RBAC role to system:nodes, so without this the list of servers
// stays what the config and servers.json say. Apply it once per cluster
// (kubectl apply -f -); it grants only get on that one object.
const RBACManifest = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: edgeops:edge-proxy:kubernetes-endpoints
  namespace: default
rules:
- apiGroups: [""]
  resources: ["endpoints"]
  resourceNames: ["kubernetes"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: edgeops:edge-proxy:kubernetes-endpoints
  namespace: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: edgeops:edge-proxy:kubernetes-endpoints
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:nodes
`
