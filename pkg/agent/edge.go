package agent

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/edgeops/edgeops/pkg/edgemanifests"
)

// clusterEdgeYAML joins the edge files, in name order, placeholders filled in.
func clusterEdgeYAML(m edgemanifests.Merged, v edgemanifests.Values) ([]byte, []string) {
	var all []byte
	var names []string
	for _, f := range m.Files {
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

// ApplyEdge applies the edge components to the cluster (init, on the first
// control-plane node): the package's edge YAML (edge-proxy's RBAC and the
// kubeconfig of the edge DaemonSets, overridable by --edge-manifests-dir),
// then edge variants of kube-proxy and flannel that reach the API through
// each edge node's edge-proxy.
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
	if repo == "" {
		repo = DefaultImageRepository
	}
	data, names := clusterEdgeYAML(m, edgemanifests.Values{ImageRepository: repo, APIServer: server})
	if len(names) == 0 {
		r.Host.Warnf("no edge component YAML left to apply (--%s %s removed every file)", FlagEdgeManifestsDir, r.Opts.EdgeManifestsDir)
	} else {
		if err := Apply(ctx, restCfg, data); err != nil {
			return fmt.Errorf("apply edge components: %w", err)
		}
		r.Host.Logf("[edge] applied %s", strings.Join(names, ", "))
	}
	made, err := applyEdgeVariants(ctx, c)
	if err != nil {
		return err
	}
	r.Host.Logf("[edge] on edge nodes, %s talk to the API through edge-proxy (%s)", listOrNone(made), EdgeProxyURL)
	return nil
}
