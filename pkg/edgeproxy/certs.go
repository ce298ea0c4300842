package edgeproxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
)

// keyPairFile is a certificate and key on disk, reloaded when the files
// change (checked at most every recheck). The node's client certificate is
// one PEM holding both (certFile == keyFile).
type keyPairFile struct {
	certFile, keyFile string
	recheck           time.Duration

	mu      sync.Mutex
	checked time.Time
	stamp   string
	cert    *tls.Certificate
	leaf    *x509.Certificate
}

func newKeyPairFile(certFile, keyFile string, recheck time.Duration) *keyPairFile {
	return &keyPairFile{certFile: certFile, keyFile: keyFile, recheck: recheck}
}

// get returns the current key pair, reloading it if the files changed.
// A failed reload keeps the previous one.
func (k *keyPairFile) get() (*tls.Certificate, *x509.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cert != nil && time.Since(k.checked) < k.recheck {
		return k.cert, k.leaf, nil
	}
	k.checked = time.Now()
	certPEM, err := os.ReadFile(k.certFile)
	if err != nil {
		return k.fallback(fmt.Errorf("read %s: %w", k.certFile, err))
	}
	keyPEM := certPEM
	if k.keyFile != k.certFile {
		if keyPEM, err = os.ReadFile(k.keyFile); err != nil {
			return k.fallback(fmt.Errorf("read %s: %w", k.keyFile, err))
		}
	}
	// compare contents, not mtimes: a rotation within one timestamp tick
	// must not go unnoticed
	stamp := string(certPEM) + "\x00" + string(keyPEM)
	if stamp == k.stamp && k.cert != nil {
		return k.cert, k.leaf, nil
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return k.fallback(fmt.Errorf("load key pair %s: %w", k.certFile, err))
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return k.fallback(fmt.Errorf("parse %s: %w", k.certFile, err))
	}
	c.Leaf = leaf
	k.cert, k.leaf, k.stamp = &c, leaf, stamp
	return k.cert, k.leaf, nil
}

func (k *keyPairFile) fallback(err error) (*tls.Certificate, *x509.Certificate, error) {
	if k.cert != nil {
		return k.cert, k.leaf, nil
	}
	return nil, nil, err
}

func loadCertPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA %s: no certificate in it", path)
	}
	return p, nil
}
