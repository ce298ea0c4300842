package tunnel

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: c, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf is what a certificate the CA signs says.
type leaf struct {
	cn   string
	orgs []string
	eku  []x509.ExtKeyUsage
	ips  []net.IP
}

// sign returns a certificate and its key as PEM.
func (ca *testCA) sign(t testing.TB, l leaf) (certPEM, keyPEM []byte) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: l.cn, Organization: l.orgs},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  l.eku,
		IPAddresses:  l.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// nodeLeaf is a kubelet client certificate's subject.
func nodeLeaf(node string) leaf {
	return leaf{cn: "system:node:" + node, orgs: []string{"system:nodes"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
}

// writeClientPEM writes a certificate and key in one file, as kubelet does.
func (ca *testCA) writeClientPEM(t testing.TB, dir, name string, l leaf) string {
	t.Helper()
	c, k := ca.sign(t, l)
	return writeFile(t, filepath.Join(dir, name+".pem"), append(c, k...))
}

// testPKI is a cluster CA, its files, and a server certificate for the
// loopback addresses the tests listen on.
type testPKI struct {
	dir            string
	ca, other      *testCA
	caFile         string
	serverCertFile string
	serverKeyFile  string
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), ca: newTestCA(t, "cluster-ca"), other: newTestCA(t, "other-ca")}
	p.caFile = writeFile(t, filepath.Join(p.dir, "ca.crt"), p.ca.pem)
	c, k := p.ca.sign(t, leaf{cn: "edge-tunnel-server", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		ips: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("127.0.0.2")}})
	p.serverCertFile = writeFile(t, filepath.Join(p.dir, "server.crt"), c)
	p.serverKeyFile = writeFile(t, filepath.Join(p.dir, "server.key"), k)
	return p
}

// nodeCert writes a valid client certificate for node.
func (p *testPKI) nodeCert(t testing.TB, node string) string {
	return p.ca.writeClientPEM(t, p.dir, node, nodeLeaf(node))
}

func writeFile(t testing.TB, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
