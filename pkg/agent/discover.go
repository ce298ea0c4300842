package agent

import (
	"context"
	"fmt"

	"k8s.io/kubernetes/cmd/kubeadm/app/discovery"
	configutil "k8s.io/kubernetes/cmd/kubeadm/app/util/config"
	kubeconfigutil "k8s.io/kubernetes/cmd/kubeadm/app/util/kubeconfig"
)

// ClusterImageRepository asks the cluster which image repository it runs,
// through kubeadm's own discovery with the join configuration (its token
// may read kubeadm-config). A joining control-plane node must have the
// package's images under that name before kubeadm's preflight pulls them:
// kubeadm join has no --image-repository, and the cluster's may be one no
// host can pull from (the seed used superedge.tencentcloudcr.com/superedge).
func ClusterImageRepository(ctx context.Context, cfg *KubeadmConfig) (string, error) {
	data, err := cfg.Marshal()
	if err != nil {
		return "", err
	}
	internal, err := configutil.BytesToJoinConfiguration(data, configutil.LoadOrDefaultConfigurationOptions{SkipCRIDetect: true})
	if err != nil {
		return "", fmt.Errorf("kubeadm refuses the join configuration: %w", err)
	}
	kc, err := discovery.For(nil, internal)
	if err != nil {
		return "", fmt.Errorf("discover the cluster: %w", err)
	}
	c, err := kubeconfigutil.ToClientSet(kc)
	if err != nil {
		return "", fmt.Errorf("discover the cluster: %w", err)
	}
	_, repo, err := clusterSettings(ctx, c)
	if err != nil {
		return "", err
	}
	return repo, nil
}
