package edgeproxy

import (
	"fmt"
	"net/http"
	"slices"
)

type idKind int

const (
	idAnonymous idKind = iota
	idNode
	idToken
	idForbidden
)

// identity is who a local client is, hence what edge-proxy forwards
// upstream and which part of the cache it may see.
type identity struct {
	kind idKind
	// dir is the identity's cache directory name.
	dir string
	// reason explains a forbidden identity.
	reason string
	// authorization is a token identity's header (never logged).
	authorization string
}

// identify classifies a request. A verified client certificate is either
// the node's (forwarded with the node's own certificate) or refused; a
// bearer token is forwarded alone; otherwise the request is anonymous.
func identify(r *http.Request, nodeName string, tokens *tokenIdentities) identity {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.PeerCertificates) > 0 {
		c := r.TLS.PeerCertificates[0]
		if nodeName != "" && c.Subject.CommonName == "system:node:"+nodeName && slices.Contains(c.Subject.Organization, "system:nodes") {
			return identity{kind: idNode, dir: "node"}
		}
		return identity{kind: idForbidden, reason: fmt.Sprintf(
			"edge-proxy forwards only this node's certificate (system:node:%s), not %q; use a bearer token", nodeName, c.Subject.CommonName)}
	}
	if a := r.Header.Get("Authorization"); a != "" {
		return identity{kind: idToken, dir: tokens.dirFor(a), authorization: a}
	}
	return identity{kind: idAnonymous, dir: "anonymous"}
}
