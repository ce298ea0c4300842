package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"

	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
	"k8s.io/kubernetes/cmd/kubeadm/app/util/pkiutil"
	"sigs.k8s.io/yaml"

	"github.com/edgeops/edgeops/pkg/contract"
)

// vipRBAC lets edge-vip (user edgeops:edge-vip, a certificate edgeadm signs
// on each master) take the one Lease whose holder holds the VIP, and nothing
// else. (Create cannot be limited to a name; get and update are.)
var vipRBAC = []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: edgeops:edge-vip
  namespace: ` + contract.VIPLeaseNamespace + `
  labels: {app.kubernetes.io/part-of: edgeops, app.kubernetes.io/component: edge-vip}
rules:
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [` + contract.VIPLeaseName + `]
  verbs: [get, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: edgeops:edge-vip
  namespace: ` + contract.VIPLeaseNamespace + `
  labels: {app.kubernetes.io/part-of: edgeops, app.kubernetes.io/component: edge-vip}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: "edgeops:edge-vip"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "` + contract.VIPUser + `"}
`)

// CheckVIP refuses a --vip that edge-vip cannot announce.
func CheckVIP(vip string) error {
	if vip == "" {
		return nil
	}
	a, err := netip.ParseAddr(vip)
	if err != nil || !a.Is4() || a.IsLoopback() || a.IsUnspecified() {
		return fmt.Errorf("--%s %q: want an IPv4 address on the masters' network that no host has", contract.FlagVIP, vip)
	}
	return nil
}

// VIPEndpoint makes init's control-plane endpoint the VIP: set when the
// user gave none, refused when it names another host.
func VIPEndpoint(cc *kubeadmv1.ClusterConfiguration, vip string) error {
	if vip == "" {
		return nil
	}
	if cc.ControlPlaneEndpoint == "" {
		cc.ControlPlaneEndpoint = vip
		return nil
	}
	host := cc.ControlPlaneEndpoint
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host != vip {
		return fmt.Errorf("--control-plane-endpoint %s is not --%s %s: the endpoint must be the VIP (or leave it out)", cc.ControlPlaneEndpoint, contract.FlagVIP, vip)
	}
	return nil
}

// AnnounceVIP puts the VIP on this (first) master before kubeadm init: the
// control-plane endpoint must answer before any API server exists to elect
// a holder. edge-vip, started after init, keeps it (it wins the Lease: it
// is the only master).
func AnnounceVIP(ctx context.Context, r *Run) error {
	if r.Opts.VIP == "" {
		return nil
	}
	h := r.Host
	if !h.Exists(contract.VIPBinary) {
		return fmt.Errorf("--%s %s: the install package has no edge-vip (%s): install a package of this edgeadm's version", contract.FlagVIP, r.Opts.VIP, contract.VIPBinary)
	}
	if _, err := h.Cmd.Run(ctx, contract.VIPBinary, vipArgs("announce", r.Opts)...); err != nil {
		return fmt.Errorf("announce the VIP %s: %w", r.Opts.VIP, err)
	}
	h.Logf("[vip] %s is on this master until edge-vip takes over after init", r.Opts.VIP)
	return nil
}

func vipArgs(verb string, o *Options) []string {
	a := []string{verb, "--address", o.VIP}
	if o.VIPInterface != "" {
		a = append(a, "--interface", o.VIPInterface)
	}
	return a
}

// VIPPhase starts edge-vip on a master: RBAC for its Lease, its kubeconfig
// (this master's own API server), its config and unit; it waits until the
// VIP has a holder (on init: this master). Running it again changes nothing.
func VIPPhase(ctx context.Context, r *Run) error {
	h := r.Host
	if !r.ControlPlane {
		return nil
	}
	if r.Opts.VIP == "" {
		h.Logf("[vip] no --%s: the control-plane endpoint is the user's (a load balancer, DNS or a master)", contract.FlagVIP)
		return nil
	}
	if err := CheckVIP(r.Opts.VIP); err != nil {
		return err
	}
	if !h.Exists(contract.VIPBinary) || !h.Exists(contract.VIPUnitPath) {
		return fmt.Errorf("--%s %s: the install package has no edge-vip (%s, %s)", contract.FlagVIP, r.Opts.VIP, contract.VIPBinary, contract.VIPUnitPath)
	}
	_, restCfg, err := clients(h.Path(AdminKubeconfig))
	if err != nil {
		return err
	}
	if err := Apply(ctx, restCfg, vipRBAC); err != nil {
		return fmt.Errorf("apply edge-vip's RBAC: %w", err)
	}
	ca, caKey, err := pkiutil.TryLoadCertAndKeyFromDisk(h.Path(clusterPKIDir), "ca")
	if err != nil {
		return fmt.Errorf("the cluster CA (%s/ca.crt, ca.key) is needed to sign edge-vip's certificate: %w", clusterPKIDir, err)
	}
	kcChanged, err := localAPIKubeconfig(h, contract.VIPKubeconfig, contract.VIPUser, ca, caKey)
	if err != nil {
		return err
	}
	name := r.NodeName
	if name == "" {
		name = hostnameOr(h, "master")
	}
	cfgChanged, err := writeRootOnlyYAML(h, contract.VIPConfigFile, contract.VIPConfig{Address: r.Opts.VIP, Interface: r.Opts.VIPInterface, NodeName: name})
	if err != nil {
		return err
	}
	if err := startUnit(ctx, h, contract.VIPUnit, kcChanged || cfgChanged); err != nil {
		return err
	}
	wantLeader := r.Workflow == "init"
	var st struct {
		Leader bool   `json:"leader"`
		Holder string `json:"holder"`
	}
	held := func(b []byte) bool {
		if json.Unmarshal(b, &st) != nil {
			return false
		}
		return st.Holder != "" && (!wantLeader || st.Leader)
	}
	if err := waitHTTP(ctx, "http://"+contract.VIPHealthAddress+"/status", TunnelWait, held); err != nil {
		return fmt.Errorf("edge-vip: the VIP %s has no holder after %s (%v); see journalctl -u %s", r.Opts.VIP, TunnelWait, err, contract.VIPUnit)
	}
	h.Logf("[vip] edge-vip runs; the VIP %s is held by %s (Lease %s/%s)", r.Opts.VIP, st.Holder, contract.VIPLeaseNamespace, contract.VIPLeaseName)
	return nil
}

// releaseVIP, on reset, drops the VIP from this host if it holds it (edge-vip
// releases it when stopped; this covers a crashed or removed one).
func releaseVIP(ctx context.Context, h *Host) {
	b, err := h.ReadFile(contract.VIPConfigFile)
	if err != nil {
		return
	}
	var c contract.VIPConfig
	if yaml.Unmarshal(b, &c) != nil || c.Address == "" || !h.Exists(contract.VIPBinary) {
		return
	}
	if _, err := h.Cmd.Run(ctx, contract.VIPBinary, vipArgs("release", &Options{VIP: c.Address, VIPInterface: c.Interface})...); err != nil {
		h.Warnf("release the VIP %s: %v (check with: ip -4 addr | grep %s)", c.Address, err, c.Address)
	}
}
