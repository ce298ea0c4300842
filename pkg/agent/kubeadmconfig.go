package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
	"sigs.k8s.io/yaml"

	"github.com/edgeops/edgeops/pkg/contract"
)

const kubeadmAPIVersion = "kubeadm.k8s.io/v1beta4"

// KubeadmConfig is a kubeadm configuration file: kubeadm's own documents,
// typed so edgeadm can add its settings, and any other documents
// (KubeletConfiguration, KubeProxyConfiguration) passed through unchanged.
type KubeadmConfig struct {
	Init    *kubeadmv1.InitConfiguration
	Cluster *kubeadmv1.ClusterConfiguration
	Join    *kubeadmv1.JoinConfiguration
	Other   [][]byte
}

// ParseKubeadmConfig reads a (multi-document) kubeadm configuration file.
func ParseKubeadmConfig(data []byte) (*KubeadmConfig, error) {
	c := &KubeadmConfig{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 0; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return nil, fmt.Errorf("kubeadm config document %d: %w", n, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("kubeadm config document %d: %w", n, err)
		}
		isKubeadm := tm.Kind == "InitConfiguration" || tm.Kind == "ClusterConfiguration" || tm.Kind == "JoinConfiguration"
		if isKubeadm && tm.APIVersion != kubeadmAPIVersion {
			return nil, fmt.Errorf("kubeadm config document %d: %s %s: edgeadm reads %s (migrate with 'edgeadm config migrate')",
				n, tm.APIVersion, tm.Kind, kubeadmAPIVersion)
		}
		var target any
		switch tm.Kind {
		case "InitConfiguration":
			c.Init = &kubeadmv1.InitConfiguration{}
			target = c.Init
		case "ClusterConfiguration":
			c.Cluster = &kubeadmv1.ClusterConfiguration{}
			target = c.Cluster
		case "JoinConfiguration":
			c.Join = &kubeadmv1.JoinConfiguration{}
			target = c.Join
		default:
			c.Other = append(c.Other, doc)
			continue
		}
		if err := yaml.UnmarshalStrict(doc, target); err != nil {
			return nil, fmt.Errorf("kubeadm config document %d (%s): %w", n, tm.Kind, err)
		}
	}
}

// Marshal writes the configuration as one multi-document YAML file.
func (c *KubeadmConfig) Marshal() ([]byte, error) {
	var docs [][]byte
	add := func(kind string, obj any, setTM func()) error {
		setTM()
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("render %s: %w", kind, err)
		}
		docs = append(docs, b)
		return nil
	}
	if c.Init != nil {
		if err := add("InitConfiguration", c.Init, func() {
			c.Init.APIVersion, c.Init.Kind = kubeadmAPIVersion, "InitConfiguration"
		}); err != nil {
			return nil, err
		}
	}
	if c.Cluster != nil {
		if err := add("ClusterConfiguration", c.Cluster, func() {
			c.Cluster.APIVersion, c.Cluster.Kind = kubeadmAPIVersion, "ClusterConfiguration"
		}); err != nil {
			return nil, err
		}
	}
	if c.Join != nil {
		if err := add("JoinConfiguration", c.Join, func() {
			c.Join.APIVersion, c.Join.Kind = kubeadmAPIVersion, "JoinConfiguration"
		}); err != nil {
			return nil, err
		}
	}
	docs = append(docs, c.Other...)
	return bytes.Join(docs, []byte("---\n")), nil
}

// setArg sets name=value unless the user already set name.
func setArg(args []kubeadmv1.Arg, name, value string) []kubeadmv1.Arg {
	for _, a := range args {
		if a.Name == name {
			return args
		}
	}
	return append(args, kubeadmv1.Arg{Name: name, Value: value})
}

// Edge disconnection settings. An edge node may lose its link for a long
// time; its pods must not be evicted meanwhile. The controller manager waits
// longer before marking a silent node unhealthy, and pods tolerate an
// unreachable or not-ready node for tolerationSeconds (default a day).
const edgeNodeMonitorGracePeriod = "5m0s"

// ApplyEdgeClusterSettings adds the disconnection settings to the
// ClusterConfiguration, leaving any value the user set (0: the default).
func ApplyEdgeClusterSettings(cc *kubeadmv1.ClusterConfiguration, tolerationSeconds int) {
	if tolerationSeconds <= 0 {
		tolerationSeconds = contract.DefaultEdgeEvictionTolerationSeconds
	}
	secs := strconv.Itoa(tolerationSeconds)
	cc.ControllerManager.ExtraArgs = setArg(cc.ControllerManager.ExtraArgs, "node-monitor-grace-period", edgeNodeMonitorGracePeriod)
	cc.APIServer.ExtraArgs = setArg(cc.APIServer.ExtraArgs, "default-not-ready-toleration-seconds", secs)
	cc.APIServer.ExtraArgs = setArg(cc.APIServer.ExtraArgs, "default-unreachable-toleration-seconds", secs)
}

// SetKubeletArg sets a kubelet flag on a node registration unless already set.
func SetKubeletArg(nr *kubeadmv1.NodeRegistrationOptions, name, value string) {
	nr.KubeletExtraArgs = setArg(nr.KubeletExtraArgs, name, value)
}

// hasKind reports whether a passed-through document is of kind.
func (c *KubeadmConfig) hasKind(kind string) bool {
	for _, d := range c.Other {
		var tm struct {
			Kind string `json:"kind"`
		}
		if yaml.Unmarshal(d, &tm) == nil && tm.Kind == kind {
			return true
		}
	}
	return false
}
