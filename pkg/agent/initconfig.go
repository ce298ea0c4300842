package agent

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
	kubeadmcmd "k8s.io/kubernetes/cmd/kubeadm/app/cmd"
	"k8s.io/kubernetes/cmd/kubeadm/app/cmd/options"
	"k8s.io/kubernetes/cmd/kubeadm/app/features"
	"k8s.io/kubernetes/cmd/kubeadm/app/phases/copycerts"
)

// InitSettings is what edgeadm adds to kubeadm's init configuration.
type InitSettings struct {
	EnableEdge bool
	// EvictionTolerationSeconds: the API server's default not-ready and
	// unreachable toleration on an edge cluster.
	EvictionTolerationSeconds int
	// KubernetesVersion is used when the user set none (the package's version).
	KubernetesVersion string
	// KubeletResolvConf, when set, becomes the kubelet's --resolv-conf.
	KubeletResolvConf string
	// UploadCerts asks for a certificate key edgeadm knows, for the join information.
	UploadCerts bool
}

// InitConfigFromFlags builds the kubeadm init configuration from kubeadm's
// own flags (or from the user's --config file), then clears those flags'
// Changed mark so kubeadm accepts them next to the --config edgeadm passes.
// Flags are interpreted by kubeadm's own flag definitions, so their meaning
// is exactly kubeadm's.
func InitConfigFromFlags(fs *pflag.FlagSet, s InitSettings) (*KubeadmConfig, error) {
	var cfg *KubeadmConfig
	if f := fs.Lookup(options.CfgPath); f != nil && f.Changed {
		data, err := os.ReadFile(f.Value.String())
		if err != nil {
			return nil, fmt.Errorf("read --config: %w", err)
		}
		if cfg, err = ParseKubeadmConfig(data); err != nil {
			return nil, fmt.Errorf("--config %s: %w", f.Value.String(), err)
		}
		if cfg.Init == nil {
			cfg.Init = &kubeadmv1.InitConfiguration{}
		}
		if cfg.Cluster == nil {
			cfg.Cluster = &kubeadmv1.ClusterConfiguration{}
		}
	} else {
		var err error
		if cfg, err = initConfigFromFlagValues(fs); err != nil {
			return nil, err
		}
	}
	if err := completeInitConfig(cfg, s); err != nil {
		return nil, err
	}
	return cfg, nil
}

// initConfigFromFlagValues replays the changed config-bearing flags into a
// shadow flag set that kubeadm's exported flag builders bind to v1beta4 objects.
func initConfigFromFlagValues(fs *pflag.FlagSet) (*KubeadmConfig, error) {
	initCfg := &kubeadmv1.InitConfiguration{}
	clusterCfg := &kubeadmv1.ClusterConfiguration{}
	var featureGates, patches string
	bto := options.NewBootstrapTokenOptions()
	shadow := pflag.NewFlagSet("kubeadm-config-flags", pflag.ContinueOnError)
	kubeadmcmd.AddInitConfigFlags(shadow, initCfg)
	kubeadmcmd.AddClusterConfigFlags(shadow, clusterCfg, &featureGates)
	options.AddImageMetaFlags(shadow, &clusterCfg.ImageRepository)
	options.AddPatchesFlag(shadow, &patches)
	bto.AddTokenFlag(shadow)
	bto.AddTTLFlag(shadow)
	// Defining flags wrote their defaults into the objects; start from empty
	// so only what the user set is in the file and kubeadm defaults the rest.
	*initCfg = kubeadmv1.InitConfiguration{}
	*clusterCfg = kubeadmv1.ClusterConfiguration{}

	var err error
	shadow.VisitAll(func(sf *pflag.Flag) {
		f := fs.Lookup(sf.Name)
		if err != nil || f == nil || !f.Changed {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			if dst, ok := sf.Value.(pflag.SliceValue); ok {
				err = dst.Replace(sv.GetSlice())
			}
		} else {
			err = shadow.Set(sf.Name, f.Value.String())
		}
		if err != nil {
			err = fmt.Errorf("--%s: %w", sf.Name, err)
			return
		}
		f.Changed = false
	})
	if err != nil {
		return nil, err
	}
	if featureGates != "" {
		if clusterCfg.FeatureGates, err = features.NewFeatureGate(&features.InitFeatureGates, featureGates); err != nil {
			return nil, fmt.Errorf("--feature-gates: %w", err)
		}
	}
	if patches != "" {
		initCfg.Patches = &kubeadmv1.Patches{Directory: patches}
	}
	if bto.TokenStr == "" {
		if bto.TokenStr, err = bootstraputil.GenerateBootstrapToken(); err != nil {
			return nil, fmt.Errorf("generate bootstrap token: %w", err)
		}
	}
	if err := bto.ApplyTo(initCfg); err != nil {
		return nil, fmt.Errorf("bootstrap token: %w", err)
	}
	return &KubeadmConfig{Init: initCfg, Cluster: clusterCfg}, nil
}

// completeInitConfig fills what edgeadm needs known: a token and (with
// --upload-certs) a certificate key for the join information, a pod subnet
// for the CNI, the package's Kubernetes version, and the edge settings.
func completeInitConfig(cfg *KubeadmConfig, s InitSettings) error {
	if len(cfg.Init.BootstrapTokens) == 0 {
		bto := options.NewBootstrapTokenOptions()
		if err := bto.ApplyTo(cfg.Init); err != nil {
			return fmt.Errorf("bootstrap token: %w", err)
		}
	}
	if cfg.Init.BootstrapTokens[0].Token == nil {
		tok, err := bootstraputil.GenerateBootstrapToken()
		if err != nil {
			return fmt.Errorf("generate bootstrap token: %w", err)
		}
		bto := options.NewBootstrapTokenOptions()
		bto.TokenStr = tok
		first := &kubeadmv1.InitConfiguration{}
		if err := bto.ApplyTo(first); err != nil {
			return fmt.Errorf("bootstrap token: %w", err)
		}
		cfg.Init.BootstrapTokens[0].Token = first.BootstrapTokens[0].Token
	}
	if s.UploadCerts && cfg.Init.CertificateKey == "" {
		key, err := copycerts.CreateCertificateKey()
		if err != nil {
			return fmt.Errorf("create certificate key: %w", err)
		}
		cfg.Init.CertificateKey = key
	}
	if cfg.Cluster.Networking.PodSubnet == "" {
		cfg.Cluster.Networking.PodSubnet = DefaultPodSubnet
	}
	FinishInitConfig(cfg, NodeFacts{KubernetesVersion: s.KubernetesVersion, KubeletResolvConf: s.KubeletResolvConf})
	if s.EnableEdge {
		ApplyEdgeClusterSettings(cfg.Cluster, s.EvictionTolerationSeconds)
	}
	return nil
}

// NodeFacts are what the phases before kubeadm found out about the host.
type NodeFacts struct {
	// KubernetesVersion is the package's, used when the user set none.
	KubernetesVersion string
	// KubeletResolvConf, when set, becomes the kubelet's --resolv-conf.
	KubeletResolvConf string
	// CgroupDriver is containerd's; the kubelet must use the same.
	CgroupDriver string
	// ConntrackReadOnly: nf_conntrack_max cannot be written here (a container).
	ConntrackReadOnly bool
}

// FinishInitConfig adds the host's facts: the package's Kubernetes version
// (when the user set none), the kubelet's resolv.conf and cgroup driver
// (unless the user gave a KubeletConfiguration), and kube-proxy leaving
// nf_conntrack_max alone where it cannot set it (unless the user gave a
// KubeProxyConfiguration).
func FinishInitConfig(cfg *KubeadmConfig, f NodeFacts) {
	if f.CgroupDriver != "" && !cfg.hasKind("KubeletConfiguration") {
		cfg.Other = append(cfg.Other, []byte("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: "+f.CgroupDriver+"\n"))
	}
	if f.ConntrackReadOnly && !cfg.hasKind("KubeProxyConfiguration") {
		cfg.Other = append(cfg.Other, []byte("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nconntrack:\n  maxPerCore: 0\n"))
	}
	if v := cfg.Cluster.KubernetesVersion; (v == "" || v == "stable-1" || v == "stable") && f.KubernetesVersion != "" {
		cfg.Cluster.KubernetesVersion = f.KubernetesVersion
	}
	if f.KubeletResolvConf != "" {
		SetKubeletArg(&cfg.Init.NodeRegistration, "resolv-conf", f.KubeletResolvConf)
	}
}

// InitSecretsOf returns the token (and certificate key) a rendered init configuration carries.
func InitSecretsOf(cfg *KubeadmConfig, uploadCerts bool) InitSecrets {
	var s InitSecrets
	if len(cfg.Init.BootstrapTokens) > 0 && cfg.Init.BootstrapTokens[0].Token != nil {
		bt := cfg.Init.BootstrapTokens[0]
		s.Token = bt.Token.String()
		s.TokenTTL = DefaultTokenTTL
		if bt.TTL != nil {
			s.TokenTTL = bt.TTL.Duration
		}
	}
	if uploadCerts {
		s.CertificateKey = cfg.Init.CertificateKey
	}
	return s
}
