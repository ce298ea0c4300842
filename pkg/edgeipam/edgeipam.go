// Package edgeipam is a CNI IPAM plugin that gives a pod back the addresses
// it had before.
//
// Why: an edge node rebooted while cut off from the cloud restarts its pods
// offline, in new sandboxes. kube-proxy restarts too, from edge-proxy's
// cache, and programs the Services with the cached EndpointSlices: they name
// the pods' old addresses. With host-local alone every new sandbox gets the
// next free address, so the Services point nowhere until the cloud is back.
// With edgeipam the pods come back on their old addresses and the cached
// Services work offline.
//
// How: it delegates every allocation to host-local (the same ranges, routes
// and store). On ADD it looks up the pod (namespace, name, interface) in its
// own store and asks host-local for the previous addresses first
// (args.cni.ips); if host-local refuses (taken, out of range) it allocates
// as host-local would. A reservation that the pod's own previous sandbox
// still holds in host-local's store (its DEL never came: the node rebooted)
// is released first. Records survive DEL on purpose: a reboot tears the old
// sandbox down before or after the new one starts. A record whose address is
// given to another pod is dropped, so the store stays bounded by the range.
package edgeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"github.com/edgeops/edgeops/internal/atomicfile"
)

// Defaults, as host-local and the edgeops node layout have them.
const (
	DefaultStateDir       = "/var/lib/cni/edge-ipam"
	DefaultDelegate       = "host-local"
	hostLocalDefaultStore = "/var/lib/cni/networks"
)

// NetConf is the part of the network configuration edgeipam reads; the
// whole configuration goes to the delegate unchanged (but for the requested
// addresses).
type NetConf struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	IPAM       struct {
		Type     string `json:"type"`
		DataDir  string `json:"dataDir"`  // host-local's store
		StateDir string `json:"stateDir"` // edgeipam's records
		Delegate string `json:"delegate"` // the IPAM plugin that allocates
	} `json:"ipam"`
}

// Delegate runs the allocating IPAM plugin (host-local) with a network configuration.
type Delegate interface {
	Add(ctx context.Context, plugin string, netconf []byte) (types.Result, error)
	Del(ctx context.Context, plugin string, netconf []byte) error
	Check(ctx context.Context, plugin string, netconf []byte) error
}

// Plugin is the CNI plugin: skel calls Add, Del and Check.
type Plugin struct {
	Delegate Delegate
	// Out receives the result of ADD (stdout for the runtime).
	Out func(types.Result, string) error
}

// record is what edgeipam keeps per pod interface.
type record struct {
	IPs         []string `json:"ips"` // CIDR notation, as in the CNI result
	ContainerID string   `json:"containerID"`
}

// Add allocates through the delegate, the pod's previous addresses first.
func (p Plugin) Add(args *skel.CmdArgs) error {
	ctx := context.Background()
	conf, err := parseConf(args.StdinData)
	if err != nil {
		return err
	}
	key := podKey(args.Args, args.IfName)
	if key == "" { // not a Kubernetes pod: plain host-local
		res, err := p.Delegate.Add(ctx, conf.IPAM.Delegate, args.StdinData)
		if err != nil {
			return err
		}
		return p.Out(res, conf.CNIVersion)
	}
	st := store{dir: filepath.Join(conf.IPAM.StateDir, conf.Name)}
	unlock, err := st.lock()
	if err != nil {
		return err
	}
	defer unlock()

	var res types.Result
	if rec, ok := st.get(key); ok && len(rec.IPs) > 0 {
		releaseOwnStale(conf, rec, args.ContainerID)
		if req, err := withRequestedIPs(args.StdinData, rec.IPs); err == nil {
			// A refusal (taken by another pod, out of the node's range) falls back below.
			res, _ = p.Delegate.Add(ctx, conf.IPAM.Delegate, req)
		}
	}
	if res == nil {
		if res, err = p.Delegate.Add(ctx, conf.IPAM.Delegate, args.StdinData); err != nil {
			return err
		}
	}
	if ips, err := resultIPs(res); err == nil && len(ips) > 0 {
		// Best effort: the pod has its address either way; only a later
		// reboot would miss the record.
		_ = st.put(key, record{IPs: ips, ContainerID: args.ContainerID})
	}
	return p.Out(res, conf.CNIVersion)
}

// Del releases the addresses in the delegate and keeps the record.
func (p Plugin) Del(args *skel.CmdArgs) error {
	conf, err := parseConf(args.StdinData)
	if err != nil {
		return err
	}
	return p.Delegate.Del(context.Background(), conf.IPAM.Delegate, args.StdinData)
}

// Check is the delegate's.
func (p Plugin) Check(args *skel.CmdArgs) error {
	conf, err := parseConf(args.StdinData)
	if err != nil {
		return err
	}
	return p.Delegate.Check(context.Background(), conf.IPAM.Delegate, args.StdinData)
}

func parseConf(stdin []byte) (NetConf, error) {
	var c NetConf
	if err := json.Unmarshal(stdin, &c); err != nil {
		return c, fmt.Errorf("edge-ipam: parse network configuration: %w", err)
	}
	if c.Name == "" {
		return c, errors.New("edge-ipam: network configuration has no name")
	}
	if c.IPAM.StateDir == "" {
		c.IPAM.StateDir = DefaultStateDir
	}
	if c.IPAM.DataDir == "" {
		c.IPAM.DataDir = hostLocalDefaultStore
	}
	if c.IPAM.Delegate == "" {
		c.IPAM.Delegate = DefaultDelegate
	}
	if c.IPAM.Delegate == c.IPAM.Type {
		return c, fmt.Errorf("edge-ipam: ipam.delegate %q would call itself", c.IPAM.Delegate)
	}
	return c, nil
}

// podKey names a pod interface from the runtime's CNI_ARGS
// (K8S_POD_NAMESPACE, K8S_POD_NAME); "" when they are missing.
func podKey(cniArgs, ifName string) string {
	var ns, name string
	for _, kv := range strings.Split(cniArgs, ";") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "K8S_POD_NAMESPACE":
			ns = v
		case "K8S_POD_NAME":
			name = v
		}
	}
	// Kubernetes names never hold '_' or '/': the key is a safe file name.
	if ns == "" || name == "" || strings.ContainsAny(ns+name+ifName, "_/") || strings.HasPrefix(ns+name, ".") {
		return ""
	}
	return ns + "_" + name + "_" + ifName
}

// withRequestedIPs returns the network configuration asking the delegate
// for these addresses (host-local's args.cni.ips).
func withRequestedIPs(stdin []byte, cidrs []string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(stdin, &m); err != nil {
		return nil, err
	}
	var ips []string
	for _, c := range cidrs {
		ip, _, err := net.ParseCIDR(c)
		if err != nil {
			return nil, err
		}
		ips = append(ips, ip.String())
	}
	args, _ := m["args"].(map[string]any)
	if args == nil {
		args = map[string]any{}
	}
	cni, _ := args["cni"].(map[string]any)
	if cni == nil {
		cni = map[string]any{}
	}
	cni["ips"] = ips
	args["cni"] = cni
	m["args"] = args
	return json.Marshal(m)
}

func resultIPs(res types.Result) ([]string, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil, err
	}
	var ips []string
	for _, ip := range r.IPs {
		ips = append(ips, ip.Address.String())
	}
	return ips, nil
}

// releaseOwnStale removes host-local's reservation of the pod's previous
// address when the pod's previous sandbox still holds it: after a reboot
// its DEL may come late or never, and no other pod can own that file.
func releaseOwnStale(conf NetConf, rec record, containerID string) {
	if rec.ContainerID == "" || rec.ContainerID == containerID {
		return
	}
	for _, c := range rec.IPs {
		ip, _, err := net.ParseCIDR(c)
		if err != nil {
			continue
		}
		f := filepath.Join(conf.IPAM.DataDir, conf.Name, ip.String())
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// host-local's file: the container ID, "\r\n", the interface name.
		if owner, _, _ := strings.Cut(string(b), "\r\n"); strings.TrimSpace(owner) == rec.ContainerID {
			_ = os.Remove(f)
		}
	}
}

// store keeps one JSON file per pod interface.
type store struct{ dir string }

func (s store) lock() (func(), error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("edge-ipam: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("edge-ipam: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("edge-ipam: lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

func (s store) get(key string) (record, bool) {
	var r record
	b, err := os.ReadFile(filepath.Join(s.dir, key))
	if err != nil || json.Unmarshal(b, &r) != nil {
		return record{}, false
	}
	return r, true
}

// put writes the pod's record and drops every other record that names one
// of its addresses (that pod lost it).
func (s store) put(key string, r record) error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, ip := range r.IPs {
		mine[ip] = true
	}
	for _, e := range ents {
		if e.Name() == key || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if other, ok := s.get(e.Name()); ok {
			for _, ip := range other.IPs {
				if mine[ip] {
					_ = os.Remove(filepath.Join(s.dir, e.Name()))
					break
				}
			}
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.dir, key), b, 0o600)
}
