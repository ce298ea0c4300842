package edgeproxy

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"
)

// newUpstreamTransport is a transport to the API servers verified with the
// cluster CA; getCert (nil: none) gives the client certificate.
func newUpstreamTransport(ca *x509.CertPool, getCert func(*tls.CertificateRequestInfo) (*tls.Certificate, error)) *http.Transport {
	d := &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 15 * time.Second}
	return &http.Transport{
		Proxy:       nil,
		DialContext: d.DialContext,
		TLSClientConfig: &tls.Config{
			MinVersion:           tls.VersionTLS12,
			RootCAs:              ca,
			GetClientCertificate: getCert,
		},
		TLSHandshakeTimeout:   3 * time.Second,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: 10 * time.Second,
			PingTimeout:     5 * time.Second,
		},
	}
}

func (p *Proxy) transportFor(id identity) http.RoundTripper {
	if id.kind == idNode {
		return p.nodeTr
	}
	return p.plainTr
}
