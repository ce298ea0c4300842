package main

import (
	"io"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/pflag"

	"github.com/edgeops/edgeops/pkg/agent"
	"github.com/edgeops/edgeops/pkg/contract"
	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/phases"
)

// intended reads the flags of an argv as edgeops meant them: --name=value,
// --name value, or a lone --name (a bool).
func intended(argv []string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok {
			val = "true"
			if i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "--") {
				val = argv[i+1]
				i++
			}
		}
		m[name] = val
	}
	return m
}

// klogFlags: edgeadm's main adds -v and --vmodule process-wide; so does this test, once.
var klogFlags sync.Once

func flagValue(f *pflag.Flag) string {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return strings.Join(sv.GetSlice(), ",")
	}
	return f.Value.String()
}

// TestEdgeopsArgvParses: every command line edgeops gives edgeadm (pkg/phases'
// builders) parses with edgeadm's real cobra flag set, every flag is known,
// and each has the value edgeops meant; the shared paths are the contract's.
func TestEdgeopsArgvParses(t *testing.T) {
	klogFlags.Do(addKlogFlags)
	yes := true
	inv := &inventory.Inventory{Cluster: inventory.Cluster{
		KubernetesVersion: "v1.37.2", PodCIDR: "10.244.0.0/16", ServiceCIDR: "10.96.0.0/12",
		ImageRepository: "registry.local/k8s", ControlPlaneEndpoint: "10.0.0.100:6443", VIP: &inventory.VIP{Address: "10.0.0.100", Interface: "eth0"},
		APIServerCertExtraSANs: []string{"a.example", "10.0.0.100"}, EnableEdge: &yes,
		EdgeManifestsDir: "edge", CNIManifest: "cni.yaml",
		ContainerRuntime: inventory.ContainerRuntime{RuntimeBinary: "/usr/local/sbin/runc-lab"},
		Kubeadm:          inventory.Kubeadm{PatchesDir: "patches", InitArgs: []string{"--v=2"}, JoinArgs: []string{"--v=3"}},
	}}
	m := &inventory.Host{Address: "10.0.0.1", Role: inventory.RoleMaster, Hostname: "m1"}
	m2 := &inventory.Host{Address: "10.0.0.2", Role: inventory.RoleMaster, InternalAddress: "192.168.0.2", Hostname: "m2"}
	e := &inventory.Host{Address: "10.0.0.3", Role: inventory.RoleEdge, Hostname: "e1"}
	w := &inventory.Host{Address: "10.0.0.4", Role: inventory.RoleWorker, Hostname: "w1"}
	inv.Hosts = []*inventory.Host{m, m2, e, w}
	local := "/x/_output/edgeops-bundle-v1.37.2-linux-amd64.tar.gz"
	for _, pkg := range []string{local, "https://mirror.example/edgeops-bundle-v1.37.2-linux-amd64.tar.gz?X-Sig=abc"} {
		s := phases.NewState(phases.Config{Inventory: inv, Package: pkg, PackageSHA256: strings.Repeat("ab", 32)}, inv.Hosts)
		lines := map[string][]string{
			"init HA":     phases.InitArgs(s, s.Hosts[0], true),
			"init single": phases.InitArgs(s, s.Hosts[0], false),
			"join master": phases.JoinArgs(s, s.Hosts[1], true),
			"join edge":   phases.JoinArgs(s, s.Hosts[2], false),
			"join worker": phases.JoinArgs(s, s.Hosts[3], true),
		}
		for i, h := range s.Hosts[1:] {
			for _, a := range phases.InstallArgs(s, h) {
				lines["install "+a[3]+" "+string(rune('1'+i))] = a
			}
		}
		for i, a := range phases.FinishInitArgs(s, s.Hosts[0]) {
			lines["finish "+a[3]+" "+string(rune('0'+i))] = a
		}
		for name, argv := range lines {
			t.Run(path.Base(pkg)[:8]+" "+name, func(t *testing.T) {
				if argv[0] != contract.EdgeadmPath {
					t.Fatalf("runs %s, want %s", argv[0], contract.EdgeadmPath)
				}
				root, _ := newRoot(nil, io.Discard, io.Discard)
				c, rest, err := root.Find(argv[1:])
				if err != nil {
					t.Fatalf("%v: %v", argv, err)
				}
				if err := c.ParseFlags(rest); err != nil {
					t.Fatalf("edgeadm %s refuses edgeops' command line %v: %v", c.CommandPath(), argv, err)
				}
				if args := c.Flags().Args(); len(args) != 0 {
					t.Errorf("stray arguments %v in %v", args, argv)
				}
				want := intended(rest)
				for n, v := range want {
					f := c.Flags().Lookup(n)
					if f == nil {
						t.Errorf("--%s unknown to %s", n, c.CommandPath())
						continue
					}
					if !f.Changed || flagValue(f) != v {
						t.Errorf("--%s: edgeadm got %q (changed %v), edgeops meant %q", n, flagValue(f), f.Changed, v)
					}
				}
				// The shared paths and names, as edgeadm reads them.
				if strings.HasPrefix(name, "init") || strings.HasPrefix(name, "join") {
					if want[contract.FlagJoinInfoFile] != contract.JoinInfoFile {
						t.Errorf("--%s %q, want %s", contract.FlagJoinInfoFile, want[contract.FlagJoinInfoFile], contract.JoinInfoFile)
					}
					if strings.Contains(pkg, "?") {
						if want[contract.FlagInstallPkgPathFile] != contract.PackageURLFile || want[contract.FlagInstallPkgPath] != "" {
							t.Errorf("signed URL: %v", argv)
						}
					} else if want[contract.FlagInstallPkgPath] != contract.PackagesDir+"/"+path.Base(local) {
						t.Errorf("--%s %q", contract.FlagInstallPkgPath, want[contract.FlagInstallPkgPath])
					}
				}
				if strings.HasPrefix(name, "install") && want[contract.FlagProgressFD] == "" {
					t.Errorf("install phase without --%s: %v", contract.FlagProgressFD, argv)
				}
				switch name {
				case "join edge":
					if want[contract.FlagNodeRole] != contract.RoleEdge {
						t.Errorf("edge host joins with --%s %q", contract.FlagNodeRole, want[contract.FlagNodeRole])
					}
				case "join worker":
					if want[contract.FlagNodeRole] != contract.RoleWorker {
						t.Errorf("worker host joins with --%s %q", contract.FlagNodeRole, want[contract.FlagNodeRole])
					}
				}
			})
		}
	}
}

// TestPreinstallPhasesAreJoinPhases: the phases edgeops runs ahead of a join
// (and has the join skip) are edgeadm join phases that need no cluster:
// they run before kubeadm.
func TestPreinstallPhasesAreJoinPhases(t *testing.T) {
	pre := map[string]bool{}
	for _, p := range agent.PrePhases() {
		pre[p.Name] = true
	}
	for _, name := range phases.PreinstallPhases() {
		if !pre[name] {
			t.Errorf("edgeops installs ahead with phase %q, not one of edgeadm join's phases before kubeadm", name)
		}
	}
}
