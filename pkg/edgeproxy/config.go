package edgeproxy

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/edgeops/edgeops/pkg/contract"
)

// DefaultCacheMaxBytes bounds the on-disk cache when the config leaves it empty.
const DefaultCacheMaxBytes int64 = 256 << 20

// LoadConfig reads the YAML config file and fills the defaults.
func LoadConfig(path string) (contract.EdgeProxyConfig, error) {
	var c contract.EdgeProxyConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return c, fmt.Errorf("parse config %s: %w", path, err)
	}
	ApplyDefaults(&c)
	return c, nil
}

// ApplyDefaults fills the empty fields with the contract's defaults.
func ApplyDefaults(c *contract.EdgeProxyConfig) {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.ClusterCAFile, contract.ClusterCAFile)
	def(&c.ClientCertFile, contract.KubeletClientCert)
	def(&c.ServingCertFile, contract.EdgeProxyServingCert)
	def(&c.ServingKeyFile, contract.EdgeProxyServingKey)
	def(&c.DataDir, contract.EdgeProxyDataDir)
	def(&c.Listen, contract.EdgeProxyAddress)
	def(&c.HealthListen, contract.EdgeProxyHealthAddress)
	if c.CacheMaxBytes <= 0 {
		c.CacheMaxBytes = DefaultCacheMaxBytes
	}
}
