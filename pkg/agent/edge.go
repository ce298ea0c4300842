package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/edgeops/edgeops/pkg/edgemanifests"
)

// SuperEdgeRepository is where SuperEdge publishes its images; the edge
// components come from there unless --image-repository names another.
const SuperEdgeRepository = "superedge.tencentcloudcr.com/superedge"

// Lite-apiserver: a node-local static pod, not applied to the cluster.
const (
	liteAPIServerFile     = "lite-apiserver.yaml"
	liteAPIServerManifest = "/etc/kubernetes/manifests/lite-apiserver.yaml"
	liteAPIServerURL      = "https://127.0.0.1:51003"
	liteAPIServerCert     = "/etc/kubernetes/edge/lite-apiserver.crt"
	liteAPIServerKey      = "/etc/kubernetes/edge/lite-apiserver.key"
	// LiteAPIServerWait bounds the wait for its health check.
	LiteAPIServerWait = 60 * time.Second
)

// edgeRepository is the repository edge images come from.
func edgeRepository(clusterRepo string) string {
	if clusterRepo == "" || clusterRepo == DefaultImageRepository {
		return SuperEdgeRepository
	}
	return clusterRepo
}

// clusterEdgeYAML joins the cluster-wide edge files (all but the node-local
// lite-apiserver), in name order, placeholders filled in.
func clusterEdgeYAML(m edgemanifests.Merged, v edgemanifests.Values) ([]byte, []string) {
	var all []byte
	var names []string
	for _, f := range m.Files {
		if edgemanifests.Stem(f.Name) == edgemanifests.Stem(liteAPIServerFile) {
			continue
		}
		all = append(all, []byte("\n---\n")...)
		all = append(all, edgemanifests.Substitute(f.Data, v)...)
		names = append(names, f.Name)
	}
	return all, names
}

// serverHostPort is the host:port of an API server URL.
func serverHostPort(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("API server %q: not a URL with a host", server)
	}
	return u.Host, nil
}

// ApplyEdge applies the edge components' YAML to the cluster (init, on the
// first control-plane node).
func ApplyEdge(ctx context.Context, r *Run) error {
	if !r.Opts.EnableEdge {
		r.Host.Logf("[edge] --%s=false: plain Kubernetes, no edge components", FlagEnableEdge)
		return nil
	}
	c, restCfg, err := clients(r.Host.Path(AdminKubeconfig))
	if err != nil {
		return err
	}
	_, repo, err := clusterSettings(ctx, c)
	if err != nil {
		return err
	}
	m, err := EdgeFiles(r.Host, r.Opts.EdgeManifestsDir, true)
	if err != nil {
		return err
	}
	server, err := serverHostPort(restCfg.Host)
	if err != nil {
		return fmt.Errorf("%s: %w", AdminKubeconfig, err)
	}
	data, names := clusterEdgeYAML(m, edgemanifests.Values{ImageRepository: edgeRepository(repo), APIServer: server})
	if len(names) == 0 {
		r.Host.Warnf("no edge component YAML left to apply (--%s %s removed every file)", FlagEdgeManifestsDir, r.Opts.EdgeManifestsDir)
		return nil
	}
	if err := Apply(ctx, restCfg, data); err != nil {
		return fmt.Errorf("apply edge components: %w", err)
	}
	r.Host.Logf("[edge] applied %s (images from %s)", strings.Join(names, ", "), edgeRepository(repo))
	return nil
}

var imageLine = regexp.MustCompile(`(?m)^\s*image:\s*"?([^"\s]+)"?`)

// EdgeNode sets up an edge node after join: lite-apiserver, switched in only
// once it answers its health check.
func EdgeNode(ctx context.Context, r *Run) error {
	if !r.Opts.EnableEdge || r.Role != RoleEdge {
		r.Host.Logf("[edge] not an edge node (role %s): nothing to do", r.Role)
		return nil
	}
	m, err := EdgeFiles(r.Host, r.Opts.EdgeManifestsDir, true)
	if errors.Is(err, fs.ErrNotExist) {
		r.Host.Warnf("%v: the kubelet talks to the API server directly", err)
		return nil
	}
	if err != nil {
		return err
	}
	f, ok := m.Find(liteAPIServerFile)
	if !ok {
		r.Host.Logf("[edge] no %s in the edge YAML (removed: %s): the kubelet talks to the API server directly", liteAPIServerFile, listOrNone(m.Removed))
		return nil
	}
	kc, err := clientcmd.LoadFromFile(r.Host.Path(KubeletKubeconfig))
	if err != nil {
		return fmt.Errorf("read %s: %w", KubeletKubeconfig, err)
	}
	var server string
	for _, cl := range kc.Clusters {
		server = cl.Server
	}
	apiServer, err := serverHostPort(server)
	if err != nil {
		return fmt.Errorf("%s: %w", KubeletKubeconfig, err)
	}
	_, repo, _ := readClusterRepo(ctx, r)
	data := edgemanifests.Substitute(f.Data, edgemanifests.Values{ImageRepository: edgeRepository(repo), APIServer: apiServer})
	img := ""
	if m := imageLine.FindSubmatch(data); m != nil {
		img = string(m[1])
	}
	have, err := listImages(ctx, r.Host)
	if err != nil {
		return err
	}
	if !have[img] {
		r.Host.Warnf("lite-apiserver image %s is not on this node: lite-apiserver not started; the kubelet talks to the API server %s directly", img, apiServer)
		return nil
	}
	if !r.Host.Exists(liteAPIServerCert) || !r.Host.Exists(liteAPIServerKey) {
		r.Host.Warnf("no lite-apiserver serving certificate (%s): lite-apiserver not started; the kubelet talks to the API server %s directly", liteAPIServerCert, apiServer)
		return nil
	}
	if err := r.Host.WriteFile(liteAPIServerManifest, data, 0o600); err != nil {
		return err
	}
	if err := waitHealthy(ctx, r.Host, liteAPIServerURL+"/healthz", LiteAPIServerWait); err != nil {
		r.Host.Warnf("lite-apiserver did not answer %s/healthz within %s (%v): removed it; the kubelet talks to the API server %s directly", liteAPIServerURL, LiteAPIServerWait, err, apiServer)
		return r.Host.Remove(liteAPIServerManifest)
	}
	for _, cl := range kc.Clusters {
		cl.Server = liteAPIServerURL
	}
	if err := clientcmd.WriteToFile(*kc, r.Host.Path(KubeletKubeconfig)); err != nil {
		return fmt.Errorf("switch the kubelet to lite-apiserver: %w", err)
	}
	if _, err := r.Host.Cmd.Run(ctx, "systemctl", "restart", "kubelet.service"); err != nil {
		return fmt.Errorf("restart kubelet: %w", err)
	}
	r.Host.Logf("[edge] the kubelet now talks to lite-apiserver at %s", liteAPIServerURL)
	return nil
}

// readClusterRepo reads the cluster's image repository with the node's credentials.
func readClusterRepo(ctx context.Context, r *Run) (string, string, error) {
	c, _, err := clients(r.Kubeconfig())
	if err != nil {
		return "", "", err
	}
	return clusterSettings(ctx, c)
}

// waitHealthy polls a health URL, trusting the cluster CA.
func waitHealthy(ctx context.Context, h *Host, healthURL string, timeout time.Duration) error {
	pool := x509.NewCertPool()
	if ca, err := h.ReadFile("/etc/kubernetes/pki/ca.crt"); err == nil {
		pool.AppendCertsFromPEM(ca)
	}
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 2*time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, healthURL, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil && last != nil {
		return last
	}
	return err
}
