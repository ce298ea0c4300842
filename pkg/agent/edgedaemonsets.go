package agent

import (
	"context"
	"fmt"
	"regexp"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/edgeops/edgeops/pkg/contract"
)

// The edge variants of the node DaemonSets (kube-proxy, flannel) are copies
// that run only on edge nodes and reach the API through the node's
// edge-proxy, so that their rules and routes come back from its cache when
// the node restarts cut off from the masters; the originals keep off edge nodes.
const (
	edgeKubeconfigConfigMap = "edge-proxy-kubeconfig"
	edgeKubeconfigMountDir  = "/etc/edge-proxy-kubeconfig"
	edgeKubeconfigPath      = edgeKubeconfigMountDir + "/kubeconfig"
	edgeCAMountDir          = "/etc/edge-proxy-ca"
	edgeVariantSuffix       = "-edge"
	edgeVariantLabel        = "edgeops.io/edge-variant"
)

type edgeVariant struct {
	namespace, name string
	// point makes the copy's pod spec use the edge kubeconfig.
	point func(ctx context.Context, c kubernetes.Interface, spec *corev1.PodSpec) error
}

func edgeVariants() []edgeVariant {
	return []edgeVariant{
		{"kube-system", "kube-proxy", pointKubeProxy},
		{"kube-flannel", "kube-flannel-ds", pointFlannel},
	}
}

// applyEdgeVariants makes or updates the edge copy of each DaemonSet that
// exists (another CNI than flannel has none) and keeps the original off edge nodes.
func applyEdgeVariants(ctx context.Context, c kubernetes.Interface) ([]string, error) {
	var made []string
	for _, v := range edgeVariants() {
		ds, err := c.AppsV1().DaemonSets(v.namespace).Get(ctx, v.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return made, fmt.Errorf("read DaemonSet %s/%s: %w", v.namespace, v.name, err)
		}
		if err := copyEdgeKubeconfig(ctx, c, v.namespace); err != nil {
			return made, err
		}
		edge := edgeCopy(ds)
		if err := v.point(ctx, c, &edge.Spec.Template.Spec); err != nil {
			return made, fmt.Errorf("edge variant of %s/%s: %w", v.namespace, v.name, err)
		}
		if err := createOrUpdateDaemonSet(ctx, c, edge); err != nil {
			return made, err
		}
		if err := keepOffEdgeNodes(ctx, c, v.namespace, v.name); err != nil {
			return made, err
		}
		made = append(made, v.namespace+"/"+edge.Name)
	}
	return made, nil
}

// edgeCopy is ds renamed, selecting its own pods, on edge nodes only.
func edgeCopy(ds *appsv1.DaemonSet) *appsv1.DaemonSet {
	e := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name + edgeVariantSuffix, Namespace: ds.Namespace, Labels: map[string]string{}},
		Spec:       *ds.Spec.DeepCopy(),
	}
	for k, v := range ds.Labels {
		e.Labels[k] = v
	}
	e.Labels[edgeVariantLabel] = "true"
	sel := e.Spec.Selector.DeepCopy()
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[edgeVariantLabel] = "true"
	e.Spec.Selector = sel
	if e.Spec.Template.Labels == nil {
		e.Spec.Template.Labels = map[string]string{}
	}
	e.Spec.Template.Labels[edgeVariantLabel] = "true"
	spec := &e.Spec.Template.Spec
	if spec.NodeSelector == nil {
		spec.NodeSelector = map[string]string{}
	}
	spec.NodeSelector[contract.EdgeNodeLabelKey] = contract.EdgeNodeLabelValue
	if spec.Affinity != nil && spec.Affinity.NodeAffinity != nil {
		spec.Affinity.NodeAffinity = withoutEdgeExclusion(spec.Affinity.NodeAffinity)
	}
	file := corev1.HostPathFile
	spec.Volumes = append(spec.Volumes,
		corev1.Volume{Name: "edge-proxy-kubeconfig", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: edgeKubeconfigConfigMap}}}},
		corev1.Volume{Name: "edge-proxy-ca", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
			Path: contract.EdgeProxyCAFile, Type: &file}}},
	)
	if len(spec.Containers) > 0 {
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts,
			corev1.VolumeMount{Name: "edge-proxy-kubeconfig", MountPath: edgeKubeconfigMountDir, ReadOnly: true},
			corev1.VolumeMount{Name: "edge-proxy-ca", MountPath: edgeCAMountDir + "/ca.crt", ReadOnly: true},
		)
	}
	return e
}

var notOnEdge = corev1.NodeSelectorRequirement{Key: contract.EdgeNodeLabelKey, Operator: corev1.NodeSelectorOpNotIn, Values: []string{contract.EdgeNodeLabelValue}}

// withoutEdgeExclusion drops our NotIn-edge requirement (copied from an original already updated).
func withoutEdgeExclusion(na *corev1.NodeAffinity) *corev1.NodeAffinity {
	na = na.DeepCopy()
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return na
	}
	for i, term := range na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		var kept []corev1.NodeSelectorRequirement
		for _, r := range term.MatchExpressions {
			if r.Key != notOnEdge.Key || r.Operator != notOnEdge.Operator {
				kept = append(kept, r)
			}
		}
		na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[i].MatchExpressions = kept
	}
	return na
}

// keepOffEdgeNodes adds "not an edge node" to every required node selector
// term of the original DaemonSet (or makes one).
func keepOffEdgeNodes(ctx context.Context, c kubernetes.Interface, ns, name string) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ds, err := c.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		spec := &ds.Spec.Template.Spec
		if spec.Affinity == nil {
			spec.Affinity = &corev1.Affinity{}
		}
		if spec.Affinity.NodeAffinity == nil {
			spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
		}
		na := spec.Affinity.NodeAffinity
		if na.RequiredDuringSchedulingIgnoredDuringExecution == nil || len(na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms) == 0 {
			na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{}}}
		}
		changed := false
		terms := na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		for i := range terms {
			has := false
			for _, r := range terms[i].MatchExpressions {
				has = has || (r.Key == notOnEdge.Key && r.Operator == notOnEdge.Operator)
			}
			if !has {
				terms[i].MatchExpressions = append(terms[i].MatchExpressions, notOnEdge)
				changed = true
			}
		}
		if !changed {
			return nil
		}
		_, err = c.AppsV1().DaemonSets(ns).Update(ctx, ds, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("keep DaemonSet %s/%s off edge nodes: %w", ns, name, err)
	}
	return nil
}

func createOrUpdateDaemonSet(ctx context.Context, c kubernetes.Interface, want *appsv1.DaemonSet) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		have, err := c.AppsV1().DaemonSets(want.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = c.AppsV1().DaemonSets(want.Namespace).Create(ctx, want, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		have.Labels, have.Spec.Template = want.Labels, want.Spec.Template
		_, err = c.AppsV1().DaemonSets(want.Namespace).Update(ctx, have, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("apply DaemonSet %s/%s: %w", want.Namespace, want.Name, err)
	}
	return nil
}

// copyEdgeKubeconfig puts the edge kubeconfig ConfigMap (from the edge YAML,
// in kube-system) into ns.
func copyEdgeKubeconfig(ctx context.Context, c kubernetes.Interface, ns string) error {
	src, err := c.CoreV1().ConfigMaps("kube-system").Get(ctx, edgeKubeconfigConfigMap, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("ConfigMap kube-system/%s (the edge YAML's 10-edge-proxy-kubeconfig.yaml; an override must keep it): %w", edgeKubeconfigConfigMap, err)
	}
	if ns == "kube-system" {
		return nil
	}
	return upsertConfigMap(ctx, c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: edgeKubeconfigConfigMap, Namespace: ns, Labels: src.Labels}, Data: src.Data})
}

func upsertConfigMap(ctx context.Context, c kubernetes.Interface, want *corev1.ConfigMap) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		have, err := c.CoreV1().ConfigMaps(want.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = c.CoreV1().ConfigMaps(want.Namespace).Create(ctx, want, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		have.Labels, have.Data = want.Labels, want.Data
		_, err = c.CoreV1().ConfigMaps(want.Namespace).Update(ctx, have, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("apply ConfigMap %s/%s: %w", want.Namespace, want.Name, err)
	}
	return nil
}

// pointFlannel: flanneld takes a kubeconfig file.
func pointFlannel(_ context.Context, _ kubernetes.Interface, spec *corev1.PodSpec) error {
	if len(spec.Containers) == 0 {
		return fmt.Errorf("no container")
	}
	spec.Containers[0].Args = append(spec.Containers[0].Args, "--kubeconfig-file="+edgeKubeconfigPath)
	return nil
}

var kubeProxyKubeconfigLine = regexp.MustCompile(`(?m)^(\s*kubeconfig:\s*).*$`)

// pointKubeProxy: kube-proxy's config file names its kubeconfig; the copy
// reads kube-proxy-edge, kubeadm's kube-proxy ConfigMap with that line changed.
func pointKubeProxy(ctx context.Context, c kubernetes.Interface, spec *corev1.PodSpec) error {
	cm, err := c.CoreV1().ConfigMaps("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read ConfigMap kube-system/kube-proxy: %w", err)
	}
	conf, ok := cm.Data["config.conf"]
	if !ok || !kubeProxyKubeconfigLine.MatchString(conf) {
		return fmt.Errorf("ConfigMap kube-system/kube-proxy has no config.conf naming a kubeconfig")
	}
	data := map[string]string{"config.conf": kubeProxyKubeconfigLine.ReplaceAllString(conf, "${1}"+edgeKubeconfigPath)}
	if err := upsertConfigMap(ctx, c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy" + edgeVariantSuffix, Namespace: "kube-system",
		Labels: map[string]string{edgeVariantLabel: "true"}}, Data: data}); err != nil {
		return err
	}
	for i, v := range spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == "kube-proxy" {
			spec.Volumes[i].ConfigMap = v.ConfigMap.DeepCopy()
			spec.Volumes[i].ConfigMap.Name = "kube-proxy" + edgeVariantSuffix
			return nil
		}
	}
	return fmt.Errorf("the kube-proxy DaemonSet mounts no ConfigMap kube-proxy")
}
