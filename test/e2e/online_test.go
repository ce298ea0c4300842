//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/pkg/bundle"
)

// TestOnlinePackage proves the online install path: the inventory names the
// package by URL and sha256, edgeops stages no package, and every host
// fetches it itself from an HTTP server run here on the lab bridge. A master
// comes up with its first download cut mid-body (it must resume with a Range
// request), an add-node with a wrong sha256 fails naming the host and both
// checksums without touching the cluster, and the same add-node with the
// right sha256 joins. Two hosts; everything is reset at the end.
func TestOnlinePackage(t *testing.T) {
	s := newSuite(t)
	if !t.Run("snapshot pre-install state", func(t *testing.T) { snapshotPreInstall(t, s) }) {
		t.FailNow()
	}
	pkg := envOr("EDGEOPS_BUNDLE", filepath.Join(s.root, "_output", bundles.PackageFileName("amd64")))
	srv := startPackageServer(t, pkg, labGateway(t))
	master, node := s.hosts[0], s.hosts[1]
	good := s.onlineInventory(t, "e2e-online.yaml", srv.url, srv.sum, master, node)
	wrong := flipHex(srv.sum)
	bad := s.onlineInventory(t, "e2e-online-bad.yaml", srv.url, wrong, master, node)
	masterOnly := s.onlineInventory(t, "e2e-online-1.yaml", srv.url, srv.sum, master)
	// A signed URL (as object stores hand out): its query is a credential.
	const signature = "X-Amz-Signature=e2e0signature0deadbeef0cafe"
	signed := s.onlineInventory(t, "e2e-online-signed.yaml", srv.url+"?"+signature, srv.sum, master, node)
	s.secrets[signature] = struct{}{}
	t.Cleanup(func() {
		if t.Failed() {
			s.run(t, "reset", "--all", "-i", good)
		}
	})

	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"up a master from a URL, first download cut and resumed", func(t *testing.T) {
			srv.cutNext(srv.size / 3)
			r := s.run(t, "up", "-i", masterOnly, "--output", "json")
			if r.code != 0 {
				t.Fatalf("up: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
			}
			s.collectSecrets(t)
			s.waitReady(t, 1)
			reqs := srv.requestsFrom(master)
			if len(reqs) != 2 {
				t.Fatalf("want 2 requests from %s (cut, then resumed), got %v", master, reqs)
			}
			if reqs[0].rng != "" || !reqs[0].cut || reqs[0].sent != srv.size/3 {
				t.Errorf("first request: want a whole-file GET cut after %d bytes, got %+v", srv.size/3, reqs[0])
			}
			wantRange := fmt.Sprintf("bytes=%d-", srv.size/3)
			if reqs[1].rng != wantRange || reqs[1].status != http.StatusPartialContent || reqs[1].sent != srv.size-srv.size/3 {
				t.Errorf("second request: want %q answered 206 with the %d remaining bytes, got %+v", wantRange, srv.size-srv.size/3, reqs[1])
			}
			s.assertFetched(t, master, srv)
			t.Logf("%s fetched %d bytes: cut at %d, resumed with %q", master, srv.size, reqs[0].sent, reqs[1].rng)
		}},
		{"add-node with a wrong sha256 fails and changes nothing else", func(t *testing.T) {
			before := s.mustSSH(t, master, hostStateScript)
			r := s.run(t, "add-node", "-i", bad, "--host", node, "--output", "json")
			if r.code == 0 {
				t.Fatalf("add-node with a wrong sha256 succeeded:\n%s", tail(r.stdout, 20))
			}
			// The only host add-node acts on failed: a failure (1), not a partial one (3).
			if r.code != 1 {
				t.Errorf("add-node exit %d, want 1", r.code)
			}
			// --output json: the final error is the last JSON line on stdout.
			last := tail(r.stdout, 1)
			for _, want := range []string{"host " + node, wrong, srv.sum} {
				if !strings.Contains(last, want) {
					t.Errorf("the final error does not name %q:\n%s\nstderr: %s", want, last, r.stderr)
				}
			}
			if reqs := srv.requestsFrom(node); len(reqs) == 0 {
				t.Errorf("%s never asked the server for the package", node)
			}
			for _, h := range changedHosts(events(t, r.stdout)) {
				if h != node {
					t.Errorf("a failed add-node changed %s", h)
				}
			}
			if ns := s.waitReady(t, 1); len(ns) != 1 {
				t.Errorf("the cluster changed: %v", ns)
			}
			if added, removed := diffLiveHost(before, s.mustSSH(t, master, hostStateScript)); len(added)+len(removed) > 0 {
				t.Errorf("the master changed: added %v, removed %v", added, removed)
			}
			// Nothing of the package landed on the node: no download, no binary, no kubelet config.
			left := s.mustSSH(t, node, `find /var/lib/edgeadm -type f 2>/dev/null; ls /usr/local/bin/kubelet /usr/local/bin/containerd /etc/kubernetes/kubelet.conf 2>/dev/null; true`)
			if strings.TrimSpace(left) != "" {
				t.Errorf("the failed install left files on %s:\n%s", node, left)
			}
			// What the failed join did to the node itself: edgeops staged edgeadm
			// and took its lock, prepare-node ran; nothing from the package.
			added, _ := diffLines(s.preInstall[node], s.mustSSH(t, node, hostStateScript))
			for _, l := range added {
				if strings.HasPrefix(l, "/opt/cni") || strings.HasPrefix(l, "/etc/containerd") || strings.HasPrefix(l, "/etc/kubernetes") ||
					strings.HasPrefix(l, "/var/lib/edgeadm/") || strings.Contains(l, "kubelet") || strings.Contains(l, "containerd") {
					t.Errorf("the failed install left %s on %s", l, node)
				}
			}
			t.Logf("refused: %s\n%s changed only: %v", last, node, added)
		}},
		{"add-node from a signed URL joins the host, the signature in no process argv", func(t *testing.T) {
			n := len(srv.requestsFrom(node))
			stop := s.watchArgv(node, "X-Amz-Signature")
			r := s.run(t, "add-node", "-i", signed, "--host", node, "--output", "json")
			if seen, reads := stop(); reads == 0 {
				t.Errorf("the process list of %s was never read: the check would prove nothing", node)
			} else if seen != "" {
				t.Errorf("the signature was in a process's argv on %s: %s", node, seen)
			}
			if r.code != 0 {
				t.Fatalf("add-node: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
			}
			s.collectSecrets(t)
			if ch := changedHosts(events(t, r.stdout)); len(ch) != 1 || ch[0] != node {
				t.Errorf("add-node changed %v, want only %s", ch, node)
			}
			ns := s.waitReady(t, 2)
			reqs := srv.requestsFrom(node)[n:]
			if len(reqs) != 1 || reqs[0].status != http.StatusOK || reqs[0].sent != srv.size {
				t.Errorf("want one whole-file GET from %s, got %v", node, reqs)
			}
			s.assertFetched(t, node, srv)
			t.Logf("nodes: %v", ns)
		}},
		{"reset back to pre-install state", func(t *testing.T) {
			r := s.run(t, "reset", "--all", "-i", good, "--output", "json")
			if r.code != 0 {
				t.Fatalf("reset --all: exit %d\n%s\n%s", r.code, tail(r.stdout, 40), r.stderr)
			}
			for _, h := range []string{master, node} {
				added, removed := diffLines(s.preInstall[h], s.mustSSH(t, h, hostStateScript))
				if len(added)+len(removed) > 0 {
					t.Errorf("host %s is not back to its pre-install state:\n  left behind: %v\n  missing: %v", h, added, removed)
				}
			}
		}},
		{"no secret in any output", func(t *testing.T) { stepNoSecrets(t, s) }},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			t.Fatalf("step %q failed; later steps need it", st.name)
		}
	}
}

// assertFetched checks that the host holds the package it downloaded, with
// the right sha256, and that the install recorded that checksum.
// watchArgv reads every process's argv on host until stopped; it returns
// the first command line that contained needle and how many reads it made.
func (s *suite) watchArgv(host, needle string) (stop func() (seen string, reads int)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var seen string
	reads := 0
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			out, err := s.ssh(ctx, host, `for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' < "$f" 2>/dev/null; echo; done`)
			if err == nil {
				reads++
				for _, l := range strings.Split(out, "\n") {
					if strings.Contains(l, needle) && seen == "" {
						seen = l
					}
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return func() (string, int) { cancel(); <-done; return seen, reads }
}

func (s *suite) assertFetched(t *testing.T, host string, srv *packageServer) {
	t.Helper()
	cached := path.Join("/var/lib/edgeadm/packages", srv.name)
	out := s.mustSSH(t, host, "sha256sum "+cached+"; ls "+cached+".part 2>/dev/null; grep -o '\"packageSHA256\": *\"[0-9a-f]*\"' /var/lib/edgeadm/installed.json")
	if !strings.HasPrefix(out, srv.sum+" ") {
		t.Errorf("%s: %s is not the package (sha256sum: %q)", host, cached, out)
	}
	if strings.Contains(out, ".part") {
		t.Errorf("%s: a partial download was left: %q", host, out)
	}
	if !strings.Contains(out, `"`+srv.sum+`"`) {
		t.Errorf("%s: installed.json does not record sha256 %s: %q", host, srv.sum, out)
	}
}

// onlineInventory writes an inventory beside the lab's with the package as
// url + sha256 and the given hosts (the first is the master, the rest edge).
func (s *suite) onlineInventory(t *testing.T, name, url, sum string, hosts ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: edgeops.io/v1
kind: Inventory
cluster:
  name: e2e
  installPackage:
    url: %s
    sha256: %s
  containerRuntime:
    runtimeBinary: /usr/local/sbin/runc-lab
ssh:
  user: root
  identityFiles: [key]
  knownHosts: known_hosts
  hostKeyPolicy: strict
hosts:
`, url, sum)
	for i, h := range hosts {
		role := "edge"
		if i == 0 {
			role = "master"
		}
		fmt.Fprintf(&b, "  - {address: %s, role: %s}\n", h, role)
	}
	p := filepath.Join(s.labDir, name)
	writeFile(t, p, b.String())
	return p
}

// labGateway is this machine's address on the lab bridge: the only address
// besides the lab hosts' own that they can reach.
func labGateway(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("docker", "network", "inspect", envOr("LAB_NAME", "e2e"), "-f", "{{(index .IPAM.Config 0).Gateway}}").Output()
	if err != nil {
		t.Fatalf("lab network %s: %v", envOr("LAB_NAME", "e2e"), err)
	}
	gw := strings.TrimSpace(string(out))
	if net.ParseIP(gw) == nil {
		t.Fatalf("lab network gateway %q is not an address", gw)
	}
	return gw
}

// flipHex changes the first hex digit: a well-formed but wrong checksum.
func flipHex(sum string) string {
	c := "0"
	if sum[0] == '0' {
		c = "1"
	}
	return c + sum[1:]
}

// packageServer serves one package file over HTTP (Range included, through
// http.ServeContent) and records every request. cutNext arms a cut: the next
// whole-file request gets its headers and n bytes, then the connection drops.
type packageServer struct {
	file, name, sum, url string
	size                 int64

	mu    sync.Mutex
	cutAt int64
	reqs  []pkgRequest
}

type pkgRequest struct {
	from   string // the client's address, without port
	rng    string // its Range header
	status int
	sent   int64 // body bytes written
	cut    bool
}

func startPackageServer(t *testing.T, file, addr string) *packageServer {
	t.Helper()
	sum, size, err := bundle.FileSHA256(file)
	if err != nil {
		t.Fatalf("hash the package: %v", err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatalf("listen on the lab bridge: %v", err)
	}
	ps := &packageServer{file: file, name: filepath.Base(file), sum: sum, size: size}
	ps.url = "http://" + l.Addr().String() + "/packages/" + ps.name
	hs := &http.Server{Handler: ps, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
	})
	t.Logf("serving %s (%d bytes, sha256 %s) at %s", ps.name, size, sum, ps.url)
	return ps
}

func (ps *packageServer) cutNext(n int64) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.cutAt = n
}

func (ps *packageServer) requestsFrom(host string) []pkgRequest {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []pkgRequest
	for _, r := range ps.reqs {
		if r.from == host {
			out = append(out, r)
		}
	}
	return out
}

func (ps *packageServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	from, _, _ := net.SplitHostPort(r.RemoteAddr)
	rec := pkgRequest{from: from, rng: r.Header.Get("Range")}
	defer func() {
		ps.mu.Lock()
		ps.reqs = append(ps.reqs, rec)
		ps.mu.Unlock()
	}()
	if r.URL.Path != "/packages/"+ps.name {
		rec.status = http.StatusNotFound
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(ps.file)
	if err != nil {
		rec.status = http.StatusInternalServerError
		http.Error(w, err.Error(), rec.status)
		return
	}
	defer f.Close()
	ps.mu.Lock()
	cut := ps.cutAt
	if rec.rng == "" {
		ps.cutAt = 0
	} else {
		cut = 0
	}
	ps.mu.Unlock()
	if cut > 0 {
		// Promise the whole file, send part of it, then drop the connection.
		w.Header().Set("Content-Length", fmt.Sprint(ps.size))
		w.Header().Set("Accept-Ranges", "bytes")
		w.WriteHeader(http.StatusOK)
		rec.status, rec.cut = http.StatusOK, true
		rec.sent, _ = io.CopyN(w, f, cut)
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
	st, _ := f.Stat()
	http.ServeContent(cw, r, ps.name, st.ModTime(), f)
	rec.status, rec.sent = cw.status, cw.n
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
