package inventory

import (
	"net/netip"
	"regexp"
	"strings"
)

// Syntax checks for the values an inventory holds. Kept free of Kubernetes
// imports so that the edgeops binary stays light.

var (
	dnsLabelRE     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	versionRE      = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
	imageRepoRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$`)
	userRE         = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}$`)
	envNameRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	sha256RE       = regexp.MustCompile(`^[0-9a-f]{64}$`)
	labelNameRE    = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelValueRE   = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
	digitsAndDotRE = regexp.MustCompile(`^[0-9.]+$`)
)

// isDNSName reports an RFC 1123 subdomain (lower case, as Kubernetes wants).
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !dnsLabelRE.MatchString(l) {
			return false
		}
	}
	return true
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil && !strings.Contains(s, "%")
}

// isHostAddress accepts an IP or a DNS name. Something made of digits and dots
// is meant as an IPv4 address and must be a valid one (10.0.0.300 is not a name).
func isHostAddress(s string) bool {
	if isIP(s) {
		return true
	}
	if digitsAndDotRE.MatchString(s) || strings.Contains(s, ":") {
		return false
	}
	return isDNSName(strings.ToLower(s))
}

// isSAN accepts an IP or a DNS name, with an optional leading wildcard label.
func isSAN(s string) bool {
	if isIP(s) {
		return true
	}
	return isDNSName(strings.TrimPrefix(s, "*."))
}

// isQualifiedName is a Kubernetes label or taint key: [prefix/]name.
func isQualifiedName(s string) bool {
	prefix, name, found := strings.Cut(s, "/")
	if !found {
		name, prefix = prefix, ""
	} else if !isDNSName(prefix) {
		return false
	}
	return labelNameRE.MatchString(name)
}

func isLabelValue(s string) bool { return len(s) <= 63 && labelValueRE.MatchString(s) }

// addrOf parses an IP for overlap checks; ok is false for names.
func addrOf(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
