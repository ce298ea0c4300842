package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/edgeops/edgeops/pkg/contract"
)

// The election's defaults: a dead or cut-off holder is replaced within
// about LeaseDuration + RetryPeriod.
const (
	DefaultLeaseDuration = 4 * time.Second
	DefaultRenewDeadline = 3 * time.Second
	DefaultRetryPeriod   = 1 * time.Second
)

// jitterFactor is client-go's leaderelection.JitterFactor: RenewDeadline
// must exceed RetryPeriod times it.
const jitterFactor = 1.2

// Config is a checked VIPConfig with its defaults filled.
type Config struct {
	Address    netip.Addr // IPv4
	Interface  string     // empty: chosen by subnet at start
	NodeName   string
	Kubeconfig string

	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration

	HealthListen string
}

// LoadConfig reads the YAML file at path (strictly: unknown fields are
// errors), fills the defaults and checks the result.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig is LoadConfig on the file's bytes.
func ParseConfig(b []byte) (Config, error) {
	var f contract.VIPConfig
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return Config{}, fmt.Errorf("parse: %w", err)
	}
	return FromContract(f)
}

// FromContract fills the defaults of f and checks it.
func FromContract(f contract.VIPConfig) (Config, error) {
	c := Config{
		Interface:     f.Interface,
		NodeName:      f.NodeName,
		Kubeconfig:    orDefault(f.Kubeconfig, contract.VIPKubeconfig),
		HealthListen:  orDefault(f.HealthListen, contract.VIPHealthAddress),
		LeaseDuration: DefaultLeaseDuration,
		RenewDeadline: DefaultRenewDeadline,
		RetryPeriod:   DefaultRetryPeriod,
	}
	var errs []error
	addr, err := ParseAddress(f.Address)
	if err != nil {
		errs = append(errs, fmt.Errorf("address: %w", err))
	}
	c.Address = addr
	if f.NodeName == "" {
		errs = append(errs, errors.New("nodeName: missing (this master's name, its identity in the Lease)"))
	}
	for _, d := range []struct {
		name, s string
		into    *time.Duration
	}{
		{"leaseDuration", f.LeaseDuration, &c.LeaseDuration},
		{"renewDeadline", f.RenewDeadline, &c.RenewDeadline},
		{"retryPeriod", f.RetryPeriod, &c.RetryPeriod},
	} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as \"4s\"", d.name, d.s))
			continue
		}
		*d.into = v
	}
	if len(errs) == 0 {
		errs = append(errs, checkTimings(c.LeaseDuration, c.RenewDeadline, c.RetryPeriod))
	}
	if _, _, err := net.SplitHostPort(c.HealthListen); err != nil {
		errs = append(errs, fmt.Errorf("healthListen: %q is not host:port", c.HealthListen))
	}
	return c, errors.Join(errs...)
}

// ParseAddress parses a virtual IP: a unicast IPv4 address.
func ParseAddress(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, errors.New("missing (the virtual IPv4 address)")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	a = a.Unmap()
	if !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%s is not IPv4 (only IPv4 is supported)", s)
	}
	if a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || a.IsLinkLocalUnicast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}, fmt.Errorf("%s cannot be a virtual IP (unspecified, loopback, link-local, multicast or broadcast)", s)
	}
	return a, nil
}

// checkTimings enforces what client-go requires, plus whole seconds for
// the lease: the Lease stores whole seconds, so 4.5s would be announced to
// the other masters as 4s.
func checkTimings(lease, renew, retry time.Duration) error {
	switch {
	case lease < time.Second || lease%time.Second != 0:
		return fmt.Errorf("leaseDuration %v: must be a whole number of seconds, at least 1s (the Lease stores seconds)", lease)
	case lease <= renew:
		return fmt.Errorf("leaseDuration %v must be greater than renewDeadline %v", lease, renew)
	case renew <= time.Duration(jitterFactor*float64(retry)):
		return fmt.Errorf("renewDeadline %v must be greater than retryPeriod %v × %.1f", renew, retry, jitterFactor)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
