package agent

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
	"k8s.io/kubernetes/cmd/kubeadm/app/cmd/options"
	configutil "k8s.io/kubernetes/cmd/kubeadm/app/util/config"

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

// discoveryFlags are kubeadm join's flags that carry discovery and its
// secrets. A person joining by hand gives them as with kubeadm; edgeops
// never does (it writes the join information file instead).
var discoveryFlags = []string{
	options.TokenStr, options.TokenDiscovery, options.TokenDiscoveryCAHash, options.TLSBootstrapToken,
	options.CertificateKey, options.TokenDiscoverySkipCAHash, options.FileDiscovery,
}

// JoinSettings is what edgeadm adds to kubeadm's join configuration.
type JoinSettings struct {
	// LoadInfo reads the join information file; called only when neither
	// the flags nor the user's --config carry discovery.
	LoadInfo func() (joininfo.Info, error)
	// InfoFileGiven: --join-info-file was on the command line.
	InfoFileGiven     bool
	Role              string
	KubeletResolvConf string
	// Endpoint is kubeadm's positional argument (overrides the join information's).
	Endpoint string
}

// JoinConfigFromFlags builds the JoinConfiguration. Discovery comes, as in
// kubeadm, from the discovery flags or the user's --config; when neither
// has any, from the join information file. Node settings come from
// kubeadm's flags (or the user's --config), whose Changed marks it then
// clears so kubeadm accepts its --config.
func JoinConfigFromFlags(fs *pflag.FlagSet, s JoinSettings) (*KubeadmConfig, error) {
	given := changedFlags(fs, discoveryFlags)
	cfg := &KubeadmConfig{}
	if f := fs.Lookup(options.CfgPath); f != nil && f.Changed {
		if len(given) > 0 {
			// kubeadm's own rule, in kubeadm's words.
			return nil, fmt.Errorf("can not mix '--%s' with arguments %v: put the discovery in the JoinConfiguration of %s", options.CfgPath, given, f.Value.String())
		}
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
	fromConfig := j.Discovery.BootstrapToken != nil || j.Discovery.File != nil
	byHand := len(given) > 0 || fromConfig
	if byHand && s.InfoFileGiven {
		what := "--config's JoinConfiguration.discovery"
		if len(given) > 0 {
			what = "--" + strings.Join(given, ", --")
		}
		return nil, fmt.Errorf("%s and --%s both give the join discovery: use kubeadm's discovery flags (or --config) or the join information file, not both", what, FlagJoinInfoFile)
	}
	if err := nodeSettingsFromFlags(fs, j); err != nil {
		return nil, err
	}
	if byHand {
		if err := discoveryFromFlags(fs, j, s.Endpoint); err != nil {
			return nil, err
		}
	} else {
		if s.LoadInfo == nil {
			return nil, fmt.Errorf("no join discovery: give kubeadm's --token and --discovery-token-ca-cert-hash, or --%s", FlagJoinInfoFile)
		}
		info, err := s.LoadInfo()
		if err != nil {
			return nil, err
		}
		if err := discoveryFromInfo(j, info, s.Endpoint); err != nil {
			return nil, err
		}
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

// JoinEndpoint is where a configuration's discovery points, for messages.
func JoinEndpoint(j *kubeadmv1.JoinConfiguration) string {
	switch {
	case j.Discovery.BootstrapToken != nil:
		return j.Discovery.BootstrapToken.APIServerEndpoint
	case j.Discovery.File != nil:
		return "the cluster in " + j.Discovery.File.KubeConfigPath
	}
	return ""
}

// changedFlags lists the names in names set on the command line.
func changedFlags(fs *pflag.FlagSet, names []string) []string {
	var out []string
	for _, n := range names {
		if f := fs.Lookup(n); f != nil && f.Changed {
			out = append(out, n)
		}
	}
	return out
}

// takeFlag returns a changed flag's value and clears its mark.
func takeFlag(fs *pflag.FlagSet, name string) (string, bool) {
	f := fs.Lookup(name)
	if f == nil || !f.Changed {
		return "", false
	}
	f.Changed = false
	return f.Value.String(), true
}

// nodeSettingsFromFlags carries kubeadm's node flags into the configuration.
func nodeSettingsFromFlags(fs *pflag.FlagSet, j *kubeadmv1.JoinConfiguration) error {
	if v, ok := takeFlag(fs, options.NodeName); ok {
		j.NodeRegistration.Name = v
	}
	if v, ok := takeFlag(fs, options.NodeCRISocket); ok {
		j.NodeRegistration.CRISocket = v
	}
	if v, ok := takeFlag(fs, options.Patches); ok {
		j.Patches = &kubeadmv1.Patches{Directory: v}
	}
	controlPlane := j.ControlPlane != nil
	if v, ok := takeFlag(fs, options.ControlPlane); ok {
		controlPlane, _ = strconv.ParseBool(v)
	}
	if controlPlane && j.ControlPlane == nil {
		j.ControlPlane = &kubeadmv1.JoinControlPlane{}
	}
	if v, ok := takeFlag(fs, options.APIServerAdvertiseAddress); ok && j.ControlPlane != nil {
		j.ControlPlane.LocalAPIEndpoint.AdvertiseAddress = v
	}
	if v, ok := takeFlag(fs, options.APIServerBindPort); ok && j.ControlPlane != nil {
		p, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return fmt.Errorf("--%s: %w", options.APIServerBindPort, err)
		}
		j.ControlPlane.LocalAPIEndpoint.BindPort = int32(p)
	}
	return nil
}

// discoveryFromFlags fills discovery from kubeadm's flags the way kubeadm
// join does (cmd/kubeadm/app/cmd/join.go newJoinData): --token stands for
// both tokens unless they are given; --discovery-file wins over token
// discovery; the endpoint is the first argument. A user's --config keeps
// its own discovery (no discovery flag may be next to it).
func discoveryFromFlags(fs *pflag.FlagSet, j *kubeadmv1.JoinConfiguration, endpoint string) error {
	token, _ := takeFlag(fs, options.TokenStr)
	d := &j.Discovery
	if file, ok := takeFlag(fs, options.FileDiscovery); ok && file != "" {
		d.File = &kubeadmv1.FileDiscovery{KubeConfigPath: file}
		d.BootstrapToken = nil
	}
	if v, ok := takeFlag(fs, options.TLSBootstrapToken); ok {
		d.TLSBootstrapToken = v
	}
	if d.TLSBootstrapToken == "" {
		d.TLSBootstrapToken = token
	}
	bt := &kubeadmv1.BootstrapTokenDiscovery{}
	if d.BootstrapToken != nil {
		bt = d.BootstrapToken
	}
	if v, ok := takeFlag(fs, options.TokenDiscovery); ok {
		bt.Token = v
	}
	if bt.Token == "" {
		bt.Token = token
	}
	if f := fs.Lookup(options.TokenDiscoveryCAHash); f != nil && f.Changed {
		f.Changed = false
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			bt.CACertHashes = sv.GetSlice()
		}
	}
	if v, ok := takeFlag(fs, options.TokenDiscoverySkipCAHash); ok {
		bt.UnsafeSkipCAVerification, _ = strconv.ParseBool(v)
	}
	if endpoint != "" {
		bt.APIServerEndpoint = endpoint
	}
	if d.File == nil && (bt.Token != "" || bt.APIServerEndpoint != "" || len(bt.CACertHashes) > 0 || bt.UnsafeSkipCAVerification) {
		d.BootstrapToken = bt
	}
	if key, ok := takeFlag(fs, options.CertificateKey); ok {
		if j.ControlPlane == nil {
			// kubeadm ignores it without --control-plane, with this warning.
			klog.Warningf("[preflight] WARNING: --%s is also required when passing control-plane related flags such as [%s]", options.ControlPlane, options.CertificateKey)
		} else {
			j.ControlPlane.CertificateKey = key
		}
	}
	return nil
}

// discoveryFromInfo fills discovery from the join information file.
func discoveryFromInfo(j *kubeadmv1.JoinConfiguration, info joininfo.Info, endpoint string) error {
	if endpoint == "" {
		endpoint = info.APIServerEndpoint
	}
	j.Discovery = kubeadmv1.Discovery{
		BootstrapToken: &kubeadmv1.BootstrapTokenDiscovery{
			Token:             info.Token,
			APIServerEndpoint: endpoint,
			CACertHashes:      info.CACertHashes,
		},
		TLSBootstrapToken: info.Token,
	}
	if j.ControlPlane != nil {
		if info.CertificateKey == "" {
			return fmt.Errorf("--control-plane: the join information has no certificate key (run 'edgeadm token create --upload-certs --join-info-file …' on a master)")
		}
		j.ControlPlane.CertificateKey = info.CertificateKey
	}
	return nil
}

func hasTaint(ts []corev1.Taint, key string) bool {
	for _, t := range ts {
		if t.Key == key {
			return true
		}
	}
	return false
}

// CheckJoinConfig runs kubeadm's own defaulting and validation of the
// JoinConfiguration, so a bad token or missing discovery is reported
// before anything on the host is changed (kubeadm would only say so after
// the package is installed).
func CheckJoinConfig(cfg *KubeadmConfig) error {
	data, err := cfg.Marshal()
	if err != nil {
		return err
	}
	if _, err := configutil.BytesToJoinConfiguration(data, configutil.LoadOrDefaultConfigurationOptions{SkipCRIDetect: true}); err != nil {
		return fmt.Errorf("kubeadm refuses the join configuration: %w", err)
	}
	return nil
}
