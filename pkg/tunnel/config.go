package tunnel

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"sigs.k8s.io/yaml"

	"github.com/edgeops/edgeops/pkg/contract"
)

// LoadServerConfig reads the server's YAML config file and fills the defaults.
func LoadServerConfig(path string) (contract.EdgeTunnelServerConfig, error) {
	var c contract.EdgeTunnelServerConfig
	if err := readYAML(path, &c); err != nil {
		return c, err
	}
	ApplyServerDefaults(&c)
	return c, nil
}

// LoadAgentConfig reads the agent's YAML config file, fills the defaults
// and checks the server addresses.
func LoadAgentConfig(path string) (contract.EdgeTunnelAgentConfig, error) {
	var c contract.EdgeTunnelAgentConfig
	if err := readYAML(path, &c); err != nil {
		return c, err
	}
	ApplyAgentDefaults(&c)
	if err := validateAgentConfig(c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, into); err != nil {
		return fmt.Errorf("parse config %s: %w", path, err)
	}
	return nil
}

// defaultListen is the agents' TLS address when the config names none.
func defaultListen() string { return ":" + strconv.Itoa(contract.EdgeTunnelPort) }

// ApplyServerDefaults fills the empty fields with the contract's defaults.
func ApplyServerDefaults(c *contract.EdgeTunnelServerConfig) {
	def(&c.Listen, defaultListen())
	def(&c.SocketPath, contract.EdgeTunnelSocket)
	def(&c.HealthListen, contract.EdgeTunnelServerHealthAddress)
	def(&c.ServingCertFile, contract.EdgeTunnelServingCert)
	def(&c.ServingKeyFile, contract.EdgeTunnelServingKey)
	def(&c.ClusterCAFile, contract.ClusterCAFile)
	def(&c.Kubeconfig, contract.EdgeTunnelKubeconfig)
}

// ApplyAgentDefaults fills the empty fields with the contract's defaults.
func ApplyAgentDefaults(c *contract.EdgeTunnelAgentConfig) {
	def(&c.ServersFile, contract.EdgeProxyServersFile)
	def(&c.ClusterCAFile, contract.ClusterCAFile)
	def(&c.ClientCertFile, contract.KubeletClientCert)
	def(&c.HealthListen, contract.EdgeTunnelAgentHealthAddress)
}

func def(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func validateAgentConfig(c contract.EdgeTunnelAgentConfig) error {
	var errs []error
	for _, s := range c.Servers {
		if _, _, err := splitTarget(s); err != nil {
			errs = append(errs, fmt.Errorf("servers: %w", err))
		}
	}
	return errors.Join(errs...)
}
