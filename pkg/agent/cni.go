package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	kubeadmapi "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm"
	configutil "k8s.io/kubernetes/cmd/kubeadm/app/util/config"
)

// cniMTU leaves room for flannel's VXLAN header.
const cniMTU = 1450

// CNI IPAM plugins: host-local, or edge-ipam (the package's host-local
// wrapper that gives a pod back its previous address, so that Services
// cached on an edge node still work after a reboot offline: docs/edge.md).
const (
	IPAMHostLocal = "host-local"
	IPAMEdge      = "edge-ipam"
)

// Conflist renders the node's CNI config: a bridge (cni0) with addresses
// from the node's pod CIDR (ipam: IPAMHostLocal or IPAMEdge), plus portmap.
// Flannel's VXLAN routes carry traffic between the nodes' pod CIDRs; the
// node is Ready with this file alone, even before flannel runs.
func Conflist(podCIDRs []string, ipam string) ([]byte, error) {
	var ranges [][]map[string]string
	var routes []map[string]string
	for _, c := range podCIDRs {
		ip, _, err := net.ParseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("pod CIDR %q: %w", c, err)
		}
		ranges = append(ranges, []map[string]string{{"subnet": c}})
		if ip.To4() != nil {
			routes = append(routes, map[string]string{"dst": "0.0.0.0/0"})
		} else {
			routes = append(routes, map[string]string{"dst": "::/0"})
		}
	}
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "edgeops",
		"plugins": []any{
			// No masquerading here: flanneld (--ip-masq) masquerades what leaves
			// the cluster's pod network, so pod addresses survive between nodes.
			map[string]any{
				"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
				"hairpinMode": true, "mtu": cniMTU,
				"ipam": map[string]any{"type": ipam, "ranges": ranges, "routes": routes},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// waitPodCIDRs waits until the controller manager gave the node its pod CIDRs.
func waitPodCIDRs(ctx context.Context, c kubernetes.Interface, node string, timeout time.Duration) ([]string, error) {
	var cidrs []string
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		n, err := c.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		cidrs = n.Spec.PodCIDRs
		if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
			cidrs = []string{n.Spec.PodCIDR}
		}
		return len(cidrs) > 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("node %s has no spec.podCIDR after %s (is the controller manager running with --allocate-node-cidrs, i.e. a pod subnet set?): %w", node, timeout, err)
	}
	return cidrs, nil
}

// NodeName is the node name in the kubelet's client certificate.
func NodeName(h *Host) (string, error) {
	n, err := configutil.GetNodeName(h.Path(KubeletKubeconfig))
	if err != nil {
		return "", fmt.Errorf("node name from %s: %w", KubeletKubeconfig, err)
	}
	return n, nil
}

// WriteNodeConflist waits for the node's pod CIDR and writes the CNI config,
// unless the cluster runs the user's own CNI (which configures its nodes).
func WriteNodeConflist(ctx context.Context, r *Run) error {
	node, err := NodeName(r.Host)
	if err != nil {
		return err
	}
	c, _, err := clients(r.Host.Path(KubeletKubeconfig))
	if err != nil {
		return err
	}
	if plugin, err := clusterCNI(ctx, c); err != nil {
		return err
	} else if plugin == CNICustom {
		r.Host.Logf("[cni] the cluster runs its own CNI (--%s at init): no edgeops CNI config on this node", FlagCNIManifest)
		return nil
	}
	cidrs, err := waitPodCIDRs(ctx, c, node, PodCIDRTimeout)
	if err != nil {
		return err
	}
	// A package built before edge-ipam existed has host-local only.
	ipam := IPAMHostLocal
	if r.Host.Exists(filepath.Join(CNIBinDir, IPAMEdge)) {
		ipam = IPAMEdge
	}
	conf, err := Conflist(cidrs, ipam)
	if err != nil {
		return err
	}
	if err := r.Host.WriteFile(CNIConflist, conf, 0o644); err != nil {
		return err
	}
	r.Host.Logf("[cni] wrote %s for pod CIDR %s (IPAM %s)", CNIConflist, strings.Join(cidrs, ","), ipam)
	return nil
}

// clusterSettings reads the pod subnet and image repository from the
// cluster's kubeadm-config.
func clusterSettings(ctx context.Context, c kubernetes.Interface) (podSubnet, imageRepository string, err error) {
	cc, err := clusterConfig(ctx, c)
	if err != nil {
		return "", "", err
	}
	return cc.Networking.PodSubnet, cc.ImageRepository, nil
}

// clusterConfig reads the cluster's kubeadm ClusterConfiguration.
func clusterConfig(_ context.Context, c kubernetes.Interface) (*kubeadmapi.ClusterConfiguration, error) {
	cfg, err := configutil.FetchInitConfigurationFromCluster(c, quietPrinter{}, "edgeadm", false, false, false, false)
	if err != nil {
		return nil, fmt.Errorf("read kubeadm-config from the cluster: %w", err)
	}
	return &cfg.ClusterConfiguration, nil
}

// packageImageNames lists the images the install put in containerd.
func packageImageNames(in *Installed) []string {
	if in == nil {
		return nil
	}
	var n []string
	for _, i := range in.Images {
		n = append(n, i.Name)
	}
	return n
}

// ApplyCNI applies the CNI YAML (the user's --cni-manifest, else the
// package's flannel) with the pod CIDR and image repository filled in, then
// writes the control-plane node's CNI config.
func ApplyCNI(ctx context.Context, r *Run) error {
	c, restCfg, err := clients(r.Host.Path(AdminKubeconfig))
	if err != nil {
		return err
	}
	podSubnet, repo, err := clusterSettings(ctx, c)
	if err != nil {
		return err
	}
	if repo == DefaultImageRepository {
		repo = ""
	}
	src := r.Opts.CNIManifest
	if src == "" {
		src = filepath.Join(ManifestsDir, "flannel.yaml")
	}
	data, err := r.Host.ReadFile(src)
	if err != nil {
		return fmt.Errorf("CNI manifest: %w", err)
	}
	data = []byte(strings.ReplaceAll(string(data), PlaceholderPodCIDR, podSubnet))
	data = SubstituteImages(data, repo, DefaultImageRepository, packageImageNames(r.installed()))
	if err := Apply(ctx, restCfg, data); err != nil {
		return fmt.Errorf("apply %s: %w", src, err)
	}
	r.Host.Logf("[cni] applied %s (pod subnet %s)", src, podSubnet)
	plugin := CNIBridge
	if r.Opts.CNIManifest != "" {
		plugin = CNICustom
	}
	if err := Apply(ctx, restCfg, cniChoiceObjects(plugin)); err != nil {
		return fmt.Errorf("record the CNI choice: %w", err)
	}
	if plugin == CNICustom {
		return nil
	}
	return WriteNodeConflist(ctx, r)
}

// The CNI choice init made, in a ConfigMap every node may read, so joining
// nodes know whether to write the edgeops CNI config.
const (
	cniChoiceConfigMap = "edgeadm-cni"
	CNIBridge          = "edgeops-bridge"
	CNICustom          = "custom"
)

func cniChoiceObjects(plugin string) []byte {
	return []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: ` + cniChoiceConfigMap + `
  namespace: kube-system
data:
  plugin: ` + plugin + `
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: edgeadm:read-cni
  namespace: kube-system
rules:
  - apiGroups: [""]
    resources: ["configmaps"]
    resourceNames: ["` + cniChoiceConfigMap + `"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: edgeadm:read-cni
  namespace: kube-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: edgeadm:read-cni
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: system:nodes
`)
}

// clusterCNI reads the CNI choice; a cluster without it gets the bridge.
func clusterCNI(ctx context.Context, c kubernetes.Interface) (string, error) {
	cm, err := c.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, cniChoiceConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return CNIBridge, nil
	}
	if err != nil {
		return "", fmt.Errorf("read kube-system/%s: %w", cniChoiceConfigMap, err)
	}
	return cm.Data["plugin"], nil
}
