package agent

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/edgeops/edgeops/pkg/contract"
)

func daemonSet(ns, name string, args []string, volumes ...corev1.Volume) *appsv1.DaemonSet {
	labels := map[string]string{"k8s-app": name}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
					Containers:   []corev1.Container{{Name: name, Args: args}},
					Volumes:      volumes,
				},
			},
		},
	}
}

// TestApplyEdgeVariants: kube-proxy and flannel get copies for edge nodes
// that reach the API through edge-proxy, the originals keep off edge nodes,
// and a second run changes nothing.
func TestApplyEdgeVariants(t *testing.T) {
	ctx := context.Background()
	kubeProxyCM := corev1.Volume{Name: "kube-proxy", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-proxy"}}}}
	tests := []struct {
		name    string
		objects []*appsv1.DaemonSet
		want    []string
	}{
		{"kube-proxy and flannel", []*appsv1.DaemonSet{
			daemonSet("kube-system", "kube-proxy", nil, kubeProxyCM),
			daemonSet("kube-flannel", "kube-flannel-ds", []string{"--ip-masq", "--kube-subnet-mgr"}),
		}, []string{"kube-system/kube-proxy-edge", "kube-flannel/kube-flannel-ds-edge"}},
		{"another CNI: no flannel variant", []*appsv1.DaemonSet{daemonSet("kube-system", "kube-proxy", nil, kubeProxyCM)},
			[]string{"kube-system/kube-proxy-edge"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientset(
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: edgeKubeconfigConfigMap, Namespace: "kube-system"}, Data: map[string]string{"kubeconfig": "server: https://127.0.0.1:10268"}},
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy", Namespace: "kube-system"}, Data: map[string]string{
					"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nclientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\nmode: iptables\n"}},
			)
			for _, ds := range tt.objects {
				if _, err := c.AppsV1().DaemonSets(ds.Namespace).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			for run := 1; run <= 2; run++ {
				made, err := applyEdgeVariants(ctx, c)
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if strings.Join(made, ",") != strings.Join(tt.want, ",") {
					t.Errorf("run %d: made %v, want %v", run, made, tt.want)
				}
			}
			for _, orig := range tt.objects {
				ds, _ := c.AppsV1().DaemonSets(orig.Namespace).Get(ctx, orig.Name, metav1.GetOptions{})
				terms := ds.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
				if len(terms) != 1 || len(terms[0].MatchExpressions) != 1 || terms[0].MatchExpressions[0].Operator != corev1.NodeSelectorOpNotIn {
					t.Errorf("%s: want exactly one NotIn-edge requirement after two runs, got %+v", orig.Name, terms)
				}
				e, err := c.AppsV1().DaemonSets(orig.Namespace).Get(ctx, orig.Name+"-edge", metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				spec := e.Spec.Template.Spec
				if spec.NodeSelector[contract.EdgeNodeLabelKey] != contract.EdgeNodeLabelValue || spec.NodeSelector["kubernetes.io/os"] != "linux" {
					t.Errorf("%s-edge node selector %v", orig.Name, spec.NodeSelector)
				}
				if e.Spec.Selector.MatchLabels[edgeVariantLabel] != "true" || e.Spec.Template.Labels[edgeVariantLabel] != "true" {
					t.Errorf("%s-edge does not select its own pods: %v / %v", orig.Name, e.Spec.Selector.MatchLabels, e.Spec.Template.Labels)
				}
				if spec.Affinity != nil && spec.Affinity.NodeAffinity != nil {
					for _, term := range spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
						if len(term.MatchExpressions) != 0 {
							t.Errorf("%s-edge kept the original's NotIn-edge requirement: %+v", orig.Name, term)
						}
					}
				}
				mounts := map[string]string{}
				for _, m := range spec.Containers[0].VolumeMounts {
					mounts[m.Name] = m.MountPath
				}
				if mounts["edge-proxy-kubeconfig"] != edgeKubeconfigMountDir || mounts["edge-proxy-ca"] != edgeCAMountDir+"/ca.crt" {
					t.Errorf("%s-edge mounts %v", orig.Name, mounts)
				}
				if _, err := c.CoreV1().ConfigMaps(orig.Namespace).Get(ctx, edgeKubeconfigConfigMap, metav1.GetOptions{}); err != nil {
					t.Errorf("no edge kubeconfig in %s: %v", orig.Namespace, err)
				}
			}
			// kube-proxy's copy reads kube-proxy-edge, whose config names the edge kubeconfig.
			kp, _ := c.AppsV1().DaemonSets("kube-system").Get(ctx, "kube-proxy-edge", metav1.GetOptions{})
			if kp.Spec.Template.Spec.Volumes[0].ConfigMap.Name != "kube-proxy-edge" {
				t.Errorf("kube-proxy-edge mounts %v", kp.Spec.Template.Spec.Volumes[0].ConfigMap.Name)
			}
			cm, _ := c.CoreV1().ConfigMaps("kube-system").Get(ctx, "kube-proxy-edge", metav1.GetOptions{})
			if !strings.Contains(cm.Data["config.conf"], "  kubeconfig: "+edgeKubeconfigPath+"\n") || !strings.Contains(cm.Data["config.conf"], "mode: iptables") {
				t.Errorf("kube-proxy-edge config:\n%s", cm.Data["config.conf"])
			}
			if fl, err := c.AppsV1().DaemonSets("kube-flannel").Get(ctx, "kube-flannel-ds-edge", metav1.GetOptions{}); err == nil {
				if args := strings.Join(fl.Spec.Template.Spec.Containers[0].Args, " "); args != "--ip-masq --kube-subnet-mgr --kubeconfig-file="+edgeKubeconfigPath {
					t.Errorf("flannel edge args %q", args)
				}
			}
		})
	}
}
