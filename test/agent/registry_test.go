//go:build e2e

package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/pkg/bundle"
)

// The registry test's own lab (docs/CONTRACTS.md reserves this subnet for it).
const (
	regLab     = "agent-reg"
	regSubnet  = "172.28.23.0/24"
	regGateway = "172.28.23.1" // this machine, on the lab's bridge
	regMaster  = "172.28.23.11"
	regWorker  = "172.28.23.12"
	regCAPath  = "/root/registry-ca.pem"
)

// accessLog records every request the registry answers: who, what, status.
type accessLog struct {
	mu    sync.Mutex
	lines []string
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func (a *accessLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		a.mu.Lock()
		a.lines = append(a.lines, fmt.Sprintf("%s %s %s %d", host, r.Method, r.URL.Path, sw.status))
		a.mu.Unlock()
	})
}

// pulled reports whether host resolved repoPath:tag (containerd asks
// HEAD manifests/<tag>, then GETs the manifest by digest) and fetched its
// blobs, all answered 200.
func (a *accessLog) pulled(host, repoPath, tag string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	resolved, blobs := false, false
	for _, l := range a.lines {
		for _, m := range []string{"HEAD", "GET"} {
			if l == fmt.Sprintf("%s %s /v2/%s/manifests/%s 200", host, m, repoPath, tag) {
				resolved = true
			}
		}
		if strings.HasPrefix(l, fmt.Sprintf("%s GET /v2/%s/blobs/sha256:", host, repoPath)) && strings.HasSuffix(l, " 200") {
			blobs = true
		}
	}
	return resolved && blobs
}

func (a *accessLog) from(host string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, l := range a.lines {
		if strings.HasPrefix(l, host+" ") {
			out = append(out, l)
		}
	}
	return out
}

// registryTLS makes a CA and a serving certificate for the gateway address.
func registryTLS(t *testing.T) (caPEM []byte, cert tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "agent-reg test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: regGateway},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(regGateway)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

// startRegistry serves go-containerregistry's registry (blobs on disk under
// a temporary folder) on the lab gateway, with an access log: over TLS with
// a CA of its own (returned), or over plain http (caPEM nil).
func startRegistry(t *testing.T, useTLS bool) (addr string, caPEM []byte, alog *accessLog) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(regGateway, "0"))
	if err != nil {
		t.Fatalf("listen on the lab gateway %s: %v", regGateway, err)
	}
	alog = &accessLog{}
	reg := registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(t.TempDir())),
		registry.Logger(log.New(io.Discard, "", 0)))
	srv := &http.Server{Handler: alog.wrap(reg), ReadHeaderTimeout: 30 * time.Second}
	if useTLS {
		var cert tls.Certificate
		caPEM, cert = registryTLS(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		go srv.ServeTLS(ln, "", "")
	} else {
		go srv.Serve(ln)
	}
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), caPEM, alog
}

// pushPackageImages pushes every image of the full package under repo, by
// the names edgeadm gives them there (<repo>/<last path element>:<tag>),
// and returns those names.
func pushPackageImages(ctx context.Context, t *testing.T, full, repo string, caPEM []byte) []string {
	t.Helper()
	dir := t.TempDir()
	if err := bundle.Extract(ctx, full, dir); err != nil {
		t.Fatalf("extract %s: %v", full, err)
	}
	b, err := bundle.Open(full)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	var opts []name.Option
	if caPEM == nil {
		opts = append(opts, name.Insecure) // plain http
	}
	seen := map[string]bool{}
	var pushed []string
	for _, img := range b.Manifest().Images {
		base := img.Name[strings.LastIndex(img.Name, "/")+1:]
		dst := repo + "/" + base
		if seen[dst] {
			continue
		}
		seen[dst] = true
		src, err := name.NewTag(img.Name)
		if err != nil {
			t.Fatal(err)
		}
		i, err := tarball.ImageFromPath(filepath.Join(dir, img.File), &src)
		if err != nil {
			t.Fatalf("load %s from %s: %v", img.Name, img.File, err)
		}
		ref, err := name.NewTag(dst, opts...)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := remote.Write(ref, i, remote.WithContext(ctx), remote.WithTransport(tr)); err != nil {
			t.Fatalf("push %s: %v", dst, err)
		}
		t.Logf("pushed %s as %s in %s", img.Name, dst, time.Since(start).Round(time.Millisecond))
		pushed = append(pushed, dst)
	}
	return pushed
}

// noImagesPackage is $EDGEOPS_NOIMAGES_BUNDLE, else the default
// image-less package, built (from the build cache) when missing.
func (l *lab) noImagesPackage() string {
	l.t.Helper()
	if p := os.Getenv("EDGEOPS_NOIMAGES_BUNDLE"); p != "" {
		return p
	}
	p := filepath.Join(l.root, "_output", bundle.NoImagesFileName(bundles.KubernetesVersion(), "amd64"))
	if _, err := os.Stat(p); err != nil {
		start := time.Now()
		l.local("scripts/build-bundle", "--no-images")
		l.t.Logf("built %s in %s", p, time.Since(start).Round(time.Second))
	}
	return p
}

// TestAgentRegistry: the online install, twice: a real registry on the lab
// gateway over TLS with its own CA (--registry-ca-file), then one over plain
// http (--insecure-registry), holds the full package's images; the image-less
// package is staged; init --image-repository <registry>/k8s on host 1 and a
// join on host 2 pull every image from it: nodes Ready, CoreDNS and flannel
// run, containerd's images on both hosts carry the registry's names, and the
// registry's access log shows each host's pulls. Reset both after.
func TestAgentRegistry(t *testing.T) {
	l := newLabOn(t, regLab, regSubnet)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	full := l.bundle
	l.bundle = l.noImagesPackage()
	nb, err := bundle.Open(l.bundle)
	if err != nil {
		t.Fatal(err)
	}
	if !nb.Manifest().NoImages() || len(nb.Manifest().Images) != 0 {
		t.Fatalf("%s is not an image-less package: %+v", l.bundle, nb.Manifest())
	}
	if err := bundle.Verify(ctx, l.bundle); err != nil {
		t.Fatalf("verify the image-less package: %v", err)
	}

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pkg := map[string]string{}
	for _, h := range []string{regMaster, regWorker} {
		pkg[h] = l.stage(ctx, h)
		l.must(ctx, h, remoteEdgeadm+" reset --force")
	}
	defer func() {
		for _, h := range []string{regWorker, regMaster} {
			l.must(context.Background(), h, remoteEdgeadm+" reset --force 2>&1")
		}
	}()
	for _, mode := range []struct {
		name   string
		tls    bool
		scheme string
	}{{"https with the registry's own CA (--registry-ca-file)", true, "https"}, {"plain http (--insecure-registry)", false, "http"}} {
		t.Logf("=== online install, registry over %s", mode.name)
		addr, caPEM, alog := startRegistry(t, mode.tls)
		repo := addr + "/k8s"
		pushed := pushPackageImages(ctx, t, full, repo, caPEM)
		regFlag := "--insecure-registry " + addr
		if mode.tls {
			if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{regMaster, regWorker} {
				l.upload(ctx, h, caFile, regCAPath, "0644")
			}
			regFlag = "--registry-ca-file " + regCAPath
		}
		l.onlineInstall(ctx, pkg, addr, mode.scheme, regFlag, pushed, alog)
		for _, h := range []string{regWorker, regMaster} {
			l.timed(ctx, h, "edgeadm reset --force", remoteEdgeadm+" reset --force 2>&1")
			if out := l.must(ctx, h, "ls /etc/containerd 2>&1 || true"); !strings.Contains(out, "No such file") {
				t.Errorf("host %s: reset left /etc/containerd: %s", h, out)
			}
		}
	}
}

// onlineInstall runs init (host 1) and join (host 2) with the image-less
// package against the registry at addr and checks that every image came from it.
func (l *lab) onlineInstall(ctx context.Context, pkg map[string]string, addr, scheme, regFlag string, pushed []string, alog *accessLog) {
	t := l.t
	t.Helper()
	repo := addr + "/k8s"
	l.timed(ctx, regMaster, "edgeadm init --image-repository "+repo, fmt.Sprintf(
		"%s init --enable-edge=false --image-repository %s %s --install-pkg-path %s --runtime-binary %s --skip-token-print --apiserver-advertise-address %s 2>&1",
		remoteEdgeadm, repo, regFlag, pkg[regMaster], runtimeBinary, regMaster))
	l.copyJoinInfoFrom(ctx, regMaster, regWorker)
	l.timed(ctx, regWorker, "edgeadm join", fmt.Sprintf(
		"%s join --join-info-file /etc/edgeadm/join-info.json --node-role worker --enable-edge=false %s --install-pkg-path %s --runtime-binary %s 2>&1",
		remoteEdgeadm, regFlag, pkg[regWorker], runtimeBinary))

	kubectl := func(args string) string { return kubectlCmd + " " + args }
	l.waitOn(ctx, regMaster, "2 nodes Ready", readyCmd, 5*time.Minute, allReady(2))
	l.waitOn(ctx, regMaster, "CoreDNS ready", kubectl("-n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}'"),
		5*time.Minute, func(s string) bool { return strings.TrimSpace(s) == "2" })
	l.waitOn(ctx, regMaster, "flannel on both nodes", kubectl("-n kube-flannel get ds kube-flannel-ds -o jsonpath='{.status.numberReady}'"),
		5*time.Minute, func(s string) bool { return strings.TrimSpace(s) == "2" })
	l.waitOn(ctx, regMaster, "kube-proxy on both nodes", kubectl("-n kube-system get ds kube-proxy -o jsonpath='{.status.numberReady}'"),
		3*time.Minute, func(s string) bool { return strings.TrimSpace(s) == "2" })

	// Every running container's image is the registry's.
	images := l.must(ctx, regMaster, kubectl(`get pods -A -o jsonpath='{range .items[*]}{range .spec.containers[*]}{.image}{"\n"}{end}{end}'`))
	for _, img := range strings.Fields(images) {
		if !strings.HasPrefix(img, repo+"/") {
			t.Errorf("pod image %s is not from the lab registry %s", img, repo)
		}
	}

	// containerd on each host: the images came from the lab registry and
	// no package image was imported (none carries registry.k8s.io's name but
	// the sandbox tag the worker made from the registry's pause).
	sandbox := ""
	for _, p := range pushed {
		if strings.Contains(p, "/pause:") {
			sandbox = p
		}
	}
	want := map[string][]string{regMaster: pushed, regWorker: {repo + "/kube-proxy:", repo + "/flannel:", sandbox}}
	for h, names := range want {
		list := l.must(ctx, h, "ctr --namespace k8s.io images list --quiet")
		t.Logf("host %s: containerd images:\n%s", h, list)
		for _, n := range names {
			if !strings.Contains(list, n) {
				t.Errorf("host %s: containerd has no %s", h, n)
			}
		}
		for _, n := range strings.Fields(list) {
			if strings.HasPrefix(n, "registry.k8s.io/") && !(h == regWorker && strings.HasPrefix(n, "registry.k8s.io/pause:")) {
				t.Errorf("host %s: image %s was not pulled from the lab registry", h, n)
			}
		}
		t.Logf("host %s: crictl images:\n%s", h, l.must(ctx, h, "crictl images"))
		if out := l.must(ctx, h, "cat /etc/containerd/certs.d/"+addr+"/hosts.toml"); !strings.Contains(out, `server = "`+scheme+`://`+addr+`"`) {
			t.Errorf("host %s: hosts.toml:\n%s", h, out)
		}
	}
	if out := l.must(ctx, regWorker, "ctr --namespace k8s.io images list | awk '$1 ~ /pause:/ {print $3}' | sort -u | wc -l"); strings.TrimSpace(out) != "1" {
		t.Errorf("worker: the sandbox tag is not the registry's pause image (%s digests)", strings.TrimSpace(out))
	}

	// Nothing was fetched from elsewhere: neither containerd nor the kubelet
	// on a host tried registry.k8s.io (the lab would drop it, but it must not be tried).
	for _, h := range []string{regMaster, regWorker} {
		out := l.must(ctx, h, "journalctl --no-pager -u containerd -u kubelet | grep -E 'registry\\.k8s\\.io' | grep -iE 'pull|resolve|fetch|dial' | tail -5 || true")
		if strings.TrimSpace(out) != "" {
			t.Errorf("host %s: tried to pull from registry.k8s.io:\n%s", h, out)
		}
	}

	// The registry's access log: each host pulled its images from it.
	for h, names := range want {
		for _, n := range names {
			if n == "" || strings.HasSuffix(n, ":") {
				continue
			}
			rest := strings.TrimPrefix(n, addr+"/")
			path, tag, _ := strings.Cut(rest, ":")
			if !alog.pulled(h, path, tag) {
				t.Errorf("registry access log: no pull of %s by %s; it logged:\n%s", n, h, strings.Join(alog.from(h), "\n"))
			}
		}
		t.Logf("registry access log for %s: %d requests", h, len(alog.from(h)))
	}
	for _, p := range []string{"kube-proxy", "flannel"} {
		if !strings.Contains(strings.Join(alog.from(regWorker), "\n"), "/v2/k8s/"+p+"/manifests/") {
			t.Errorf("registry access log: the worker did not pull %s", p)
		}
	}
}

// copyJoinInfoFrom moves the join information between two hosts of this
// lab, root-only at both ends, without printing it.
func (l *lab) copyJoinInfoFrom(ctx context.Context, from, to string) {
	l.t.Helper()
	local := filepath.Join(l.t.TempDir(), "join-info.json")
	args := append(l.sshArgs(), "-q", "root@"+from+":/etc/edgeadm/join-info.json", local)
	if out, err := execOut(ctx, "scp", args...); err != nil {
		l.t.Fatalf("fetch join information: %v\n%s", err, out)
	}
	if err := os.Chmod(local, 0o600); err != nil {
		l.t.Fatal(err)
	}
	l.upload(ctx, to, local, "/etc/edgeadm/join-info.json", "0600")
}

// waitOn polls a command on host until check accepts its output.
func (l *lab) waitOn(ctx context.Context, host, what, cmd string, timeout time.Duration, check func(string) bool) {
	l.t.Helper()
	start := time.Now()
	var out string
	for time.Since(start) < timeout {
		var err error
		if out, err = l.run(ctx, host, cmd); err == nil && check(out) {
			l.t.Logf("%s after %s", what, time.Since(start).Round(time.Second))
			return
		}
		time.Sleep(3 * time.Second)
	}
	l.t.Fatalf("%s: not within %s; last output:\n%s", what, timeout, out)
}
