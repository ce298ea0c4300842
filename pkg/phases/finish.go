package phases

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/edgeops/edgeops/pkg/inventory"
)

// labelPhase applies the inventory's labels and taints to the nodes joined
// or initialised in this run (kubectl on the leader; --overwrite makes it
// idempotent).
type labelPhase struct{}

func (labelPhase) Title() string { return "labels" }
func (labelPhase) Hosts(s *State) []*Host {
	return withAction(s, func(h *Host, a action) bool {
		return a != actNone && (len(nodeLabels(h)) > 0 || len(h.Taints) > 0)
	})
}

// nodeLabels is what the labels phase sets on h's node: the inventory's
// labels, plus node-role.kubernetes.io/<role> on edge and worker nodes so
// `kubectl get nodes` shows their role (the kubelet may not set that label
// itself; kubeadm sets it on control-plane nodes), plus the site as
// topology.kubernetes.io/zone (Services' trafficDistribution: PreferClose
// keeps traffic in the zone).
func nodeLabels(h *Host) map[string]string {
	labels := make(map[string]string, len(h.Labels)+2)
	if h.Role != inventory.RoleMaster {
		labels["node-role.kubernetes.io/"+string(h.Role)] = ""
	}
	if h.Site != "" {
		labels[inventory.ZoneLabel] = h.Site
	}
	for k, v := range h.Labels {
		labels[k] = v
	}
	return labels
}

func (labelPhase) Run(ctx context.Context, s *State, h *Host) error {
	l := s.Leader()
	if l == nil || l.Failed() {
		return fmt.Errorf("the leader is not available")
	}
	if labels := nodeLabels(h); len(labels) > 0 {
		args := []string{"label", "node", h.NodeName(), "--overwrite"}
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			args = append(args, k+"="+labels[k])
		}
		if _, err := l.Remote.Run(ctx, kubectlCmd(args...), nil); err != nil {
			return fmt.Errorf("label node %s: %w", h.NodeName(), err)
		}
	}
	for _, t := range h.Taints {
		spec := t.Key
		if t.Value != "" {
			spec += "=" + t.Value
		}
		spec += ":" + t.Effect
		if _, err := l.Remote.Run(ctx, kubectlCmd("taint", "node", h.NodeName(), spec, "--overwrite"), nil); err != nil {
			return fmt.Errorf("taint node %s: %w", h.NodeName(), err)
		}
	}
	return nil
}

// kubeconfigPhase fetches the admin kubeconfig from the leader and writes it
// locally, owner-only. Writing it is not a change to any host.
type kubeconfigPhase struct{}

func (kubeconfigPhase) Title() string { return "kubeconfig" }
func (kubeconfigPhase) Hosts(s *State) []*Host {
	if l := s.Leader(); l != nil && !l.Failed() && s.Kubeconfig != "" {
		return []*Host{l}
	}
	return nil
}

func (kubeconfigPhase) Run(ctx context.Context, s *State, h *Host) error {
	data, err := h.Remote.Download(ctx, "/etc/kubernetes/admin.conf")
	if err != nil {
		return fmt.Errorf("read /etc/kubernetes/admin.conf: %w", err)
	}
	wrote, err := writePrivate(s.Kubeconfig, data)
	if err != nil {
		return err
	}
	if wrote {
		s.Report.Eventf(h.Addr(), "kubeconfig", "info", "admin kubeconfig written to %s", s.Kubeconfig)
	}
	if srv := kubeconfigServer(data); srv != "" {
		d := net.Dialer{Timeout: 3 * time.Second}
		if c, err := d.DialContext(ctx, "tcp", srv); err != nil {
			s.Report.Eventf(h.Addr(), "kubeconfig", "warning", "the API server %s is not reachable from here (%v); reach it through an SSH tunnel to %s", srv, err, h.Addr())
		} else {
			c.Close()
		}
	}
	return nil
}

var serverRE = regexp.MustCompile(`(?m)^\s*server:\s*(\S+)\s*$`)

// kubeconfigServer is host:port of the first cluster's server.
func kubeconfigServer(data []byte) string {
	m := serverRE.FindSubmatch(data)
	if m == nil {
		return ""
	}
	u, err := url.Parse(string(m[1]))
	if err != nil {
		return ""
	}
	return u.Host
}

// writePrivate writes data to path with mode 0600 atomically, leaving an
// identical file untouched (wrote is false then).
func writePrivate(path string, data []byte) (wrote bool, err error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, os.Chmod(path, 0o600)
	}
	return true, WriteFileAtomic(path, data)
}

// WriteFileAtomic writes data to path, owner-only, through a fresh 0600
// temporary file in the same directory (a unique name: no old mode or stale
// file is reused), synced, then renamed over path.
func WriteFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".edgeops-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readyPhase waits until the node of every healthy host is Ready; a host
// whose node is not Ready in time fails alone.
type readyPhase struct{}

func (readyPhase) Title() string          { return "ready" }
func (readyPhase) Hosts(s *State) []*Host { return s.Healthy() }

func (p readyPhase) Prepare(ctx context.Context, s *State) error {
	l := s.Leader()
	if l == nil || l.Failed() {
		return fmt.Errorf("the leader is not available to ask for the nodes")
	}
	deadline := s.Now().Add(s.ReadyTimeout)
	for {
		nodes, err := listNodes(ctx, l)
		s.mu.Lock()
		s.readyErr = err
		if err == nil {
			s.cluster.nodes = nodes
		}
		s.mu.Unlock()
		if err == nil && len(notReady(p.Hosts(s), nodes)) == 0 {
			return nil
		}
		if s.Now().After(deadline) {
			return nil // each host's Run reports its own node
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.after(3 * time.Second):
		}
	}
}

func (readyPhase) Run(ctx context.Context, s *State, h *Host) error {
	s.mu.Lock()
	n, ok := s.cluster.nodes[h.NodeName()]
	lastErr := s.readyErr
	s.mu.Unlock()
	why := ""
	if lastErr != nil {
		// The node list may be stale: say why it could not be refreshed.
		why = fmt.Sprintf(" (the last node list failed: %v)", lastErr)
	}
	switch {
	case !ok:
		return fmt.Errorf("node %s is not registered after %s%s", h.NodeName(), s.ReadyTimeout, why)
	case !n.Ready:
		return fmt.Errorf("node %s is not Ready after %s%s", h.NodeName(), s.ReadyTimeout, why)
	}
	return nil
}

func notReady(hosts []*Host, nodes map[string]nodeStatus) []string {
	var out []string
	for _, h := range hosts {
		if n, ok := nodes[h.NodeName()]; !ok || !n.Ready {
			out = append(out, h.NodeName())
		}
	}
	return out
}
