package agent

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
	"k8s.io/kubernetes/cmd/kubeadm/app/cmd/options"

	"github.com/edgeops/edgeops/pkg/contract"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

// Edge node identity: a label the kubelet may set on itself at registration
// (node-role.kubernetes.io/* is reserved by NodeRestriction) and a taint
// that keeps ordinary workloads off edge nodes unless they tolerate it.
const (
	EdgeNodeLabelKey   = contract.EdgeNodeLabelKey
	EdgeNodeLabelValue = contract.EdgeNodeLabelValue
	EdgeTaintKey       = contract.EdgeTaintKey
)

// secretJoinFlags carry what only the join information file may carry.
var secretJoinFlags = []string{
	options.TokenStr, options.TokenDiscovery, options.TokenDiscoveryCAHash, options.TLSBootstrapToken,
	options.CertificateKey, options.TokenDiscoverySkipCAHash, options.FileDiscovery,
}

// JoinSettings is what edgeadm adds to kubeadm's join configuration.
type JoinSettings struct {
	Info              joininfo.Info
	Role              string
	KubeletResolvConf string
	// Endpoint overrides Info.APIServerEndpoint (kubeadm's positional argument).
	Endpoint string
}

// JoinConfigFromFlags builds the JoinConfiguration: discovery from the join
// information, node settings from kubeadm's flags (or the user's --config),
// whose Changed marks it then clears so kubeadm accepts its --config.
func JoinConfigFromFlags(fs *pflag.FlagSet, s JoinSettings) (*KubeadmConfig, error) {
	for _, name := range secretJoinFlags {
		if f := fs.Lookup(name); f != nil && f.Changed {
			return nil, fmt.Errorf("--%s: edgeadm join takes the token, CA hashes and certificate key only from --%s", name, FlagJoinInfoFile)
		}
	}
	cfg := &KubeadmConfig{}
	if f := fs.Lookup(options.CfgPath); f != nil && f.Changed {
		data, err := os.ReadFile(f.Value.String())
		if err != nil {
			return nil, fmt.Errorf("read --config: %w", err)
		}
		if cfg, err = ParseKubeadmConfig(data); err != nil {
			return nil, fmt.Errorf("--config %s: %w", f.Value.String(), err)
		}
	}
	if cfg.Join == nil {
		cfg.Join = &kubeadmv1.JoinConfiguration{}
	}
	j := cfg.Join
	str := func(name string) (string, bool) {
		f := fs.Lookup(name)
		if f == nil || !f.Changed {
			return "", false
		}
		f.Changed = false
		return f.Value.String(), true
	}
	if v, ok := str(options.NodeName); ok {
		j.NodeRegistration.Name = v
	}
	if v, ok := str(options.NodeCRISocket); ok {
		j.NodeRegistration.CRISocket = v
	}
	if v, ok := str(options.Patches); ok {
		j.Patches = &kubeadmv1.Patches{Directory: v}
	}
	controlPlane := j.ControlPlane != nil
	if v, ok := str(options.ControlPlane); ok {
		controlPlane, _ = strconv.ParseBool(v)
	}
	if controlPlane && j.ControlPlane == nil {
		j.ControlPlane = &kubeadmv1.JoinControlPlane{}
	}
	if v, ok := str(options.APIServerAdvertiseAddress); ok && j.ControlPlane != nil {
		j.ControlPlane.LocalAPIEndpoint.AdvertiseAddress = v
	}
	if v, ok := str(options.APIServerBindPort); ok && j.ControlPlane != nil {
		p, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", options.APIServerBindPort, err)
		}
		j.ControlPlane.LocalAPIEndpoint.BindPort = int32(p)
	}
	endpoint := s.Info.APIServerEndpoint
	if s.Endpoint != "" {
		endpoint = s.Endpoint
	}
	j.Discovery = kubeadmv1.Discovery{
		BootstrapToken: &kubeadmv1.BootstrapTokenDiscovery{
			Token:             s.Info.Token,
			APIServerEndpoint: endpoint,
			CACertHashes:      s.Info.CACertHashes,
		},
		TLSBootstrapToken: s.Info.Token,
	}
	if j.ControlPlane != nil {
		if s.Info.CertificateKey == "" {
			return nil, fmt.Errorf("--control-plane: the join information has no certificate key (run 'edgeadm token create --upload-certs --join-info-file …' on a master)")
		}
		j.ControlPlane.CertificateKey = s.Info.CertificateKey
	}
	if s.KubeletResolvConf != "" {
		SetKubeletArg(&j.NodeRegistration, "resolv-conf", s.KubeletResolvConf)
	}
	if s.Role == RoleEdge && j.ControlPlane == nil {
		SetKubeletArg(&j.NodeRegistration, "node-labels", EdgeNodeLabelKey+"="+EdgeNodeLabelValue)
		if !hasTaint(j.NodeRegistration.Taints, EdgeTaintKey) {
			j.NodeRegistration.Taints = append(j.NodeRegistration.Taints,
				corev1.Taint{Key: EdgeTaintKey, Effect: corev1.TaintEffectNoSchedule})
		}
	}
	return cfg, nil
}

func hasTaint(ts []corev1.Taint, key string) bool {
	for _, t := range ts {
		if t.Key == key {
			return true
		}
	}
	return false
}
