package tunnel

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
)

// Kubelet client certificates name their node this way (the Node authorizer's convention).
const (
	nodeCNPrefix = "system:node:"
	nodesGroup   = "system:nodes"
)

// certNode returns the node a verified client certificate belongs to, or
// why it is refused: only kubelet client certificates
// (CN system:node:<name>, O system:nodes, usage client auth) may carry a
// node's traffic.
func certNode(c *x509.Certificate) (string, error) {
	// the chain check accepts a certificate without extended key usages
	// as good for anything; a node's must say client auth
	if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return "", fmt.Errorf("certificate %q is not for client authentication", c.Subject.CommonName)
	}
	name, ok := strings.CutPrefix(c.Subject.CommonName, nodeCNPrefix)
	if !ok || name == "" {
		return "", fmt.Errorf("certificate %q is not a node's (%s<name>)", c.Subject.CommonName, nodeCNPrefix)
	}
	if !slices.Contains(c.Subject.Organization, nodesGroup) {
		return "", fmt.Errorf("certificate %q is not in group %s", c.Subject.CommonName, nodesGroup)
	}
	return name, nil
}

// checkClaim applies the identity rule: an agent speaks for its own node only.
func checkClaim(certNodeName, claimed string) error {
	if certNodeName != claimed {
		return fmt.Errorf("certificate is for node %s, claims node %s", certNodeName, claimed)
	}
	return nil
}
