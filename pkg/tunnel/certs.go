package tunnel

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// reloadingKeyPair is a certificate and key on disk, reloaded when either
// file's modification time or size changes. A failed reload keeps the
// previous pair, so a half-written rotation does not break handshakes.
type reloadingKeyPair struct {
	certFile, keyFile string

	mu    sync.Mutex
	stamp [2]fileStamp
	cert  *tls.Certificate
}

type fileStamp struct {
	mtime time.Time
	size  int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mtime: fi.ModTime(), size: fi.Size()}, nil
}

func newReloadingKeyPair(certFile, keyFile string) *reloadingKeyPair {
	return &reloadingKeyPair{certFile: certFile, keyFile: keyFile}
}

// get returns the current pair, reloading it if the files changed.
func (k *reloadingKeyPair) get() (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	cs, err1 := stampOf(k.certFile)
	ks, err2 := stampOf(k.keyFile)
	if err := errors.Join(err1, err2); err != nil {
		return k.fallback(fmt.Errorf("serving certificate: %w", err))
	}
	now := [2]fileStamp{cs, ks}
	if k.cert != nil && now == k.stamp {
		return k.cert, nil
	}
	c, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		return k.fallback(fmt.Errorf("serving certificate %s: %w", k.certFile, err))
	}
	k.cert, k.stamp = &c, now
	return k.cert, nil
}

func (k *reloadingKeyPair) fallback(err error) (*tls.Certificate, error) {
	if k.cert != nil {
		return k.cert, nil
	}
	return nil, err
}

// reloadingCAPool is a CA bundle on disk, reloaded when it changes.
type reloadingCAPool struct {
	path string

	mu    sync.Mutex
	stamp fileStamp
	pool  *x509.CertPool
}

func newReloadingCAPool(path string) *reloadingCAPool { return &reloadingCAPool{path: path} }

func (r *reloadingCAPool) get() (*x509.CertPool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := stampOf(r.path)
	if err == nil && r.pool != nil && st == r.stamp {
		return r.pool, nil
	}
	p, err := loadCAPool(r.path)
	if err != nil {
		if r.pool != nil {
			return r.pool, nil
		}
		return nil, err
	}
	r.pool, r.stamp = p, st
	return p, nil
}

func loadCAPool(path string) (*x509.CertPool, error) {
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

// loadClientCert reads the node's client certificate: kubelet keeps the
// certificate and its key in one PEM file.
func loadClientCert(path string) (*tls.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read client certificate: %w", err)
	}
	c, err := tls.X509KeyPair(b, b)
	if err != nil {
		return nil, fmt.Errorf("client certificate %s: %w", path, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("client certificate %s: %w", path, err)
		}
	}
	return &c, nil
}
