package main

import (
	"bytes"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	kubeadmcmd "k8s.io/kubernetes/cmd/kubeadm/app/cmd"

	"github.com/edgeops/edgeops/pkg/agent"
)

// flagSig is what a user sees of a flag: its name, shorthand, type and default.
func flagSigs(fs *pflag.FlagSet) map[string]string {
	m := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) {
		m[f.Name] = f.Shorthand + "|" + f.Value.Type() + "|" + f.DefValue + "|" + f.Usage
	})
	return m
}

func find(t *testing.T, root *cobra.Command, path ...string) *cobra.Command {
	t.Helper()
	c, _, err := root.Find(path)
	if err != nil || c.Name() != path[len(path)-1] {
		t.Fatalf("command %v not found: %v", path, err)
	}
	return c
}

// TestFlagsPassThrough: every kubeadm flag of init, join, reset and token
// create is in edgeadm unchanged; edgeadm adds only its own flags.
func TestFlagsPassThrough(t *testing.T) {
	own := map[string]bool{}
	for _, n := range agent.OwnFlagNames() {
		own[n] = true
	}
	tests := []struct {
		path  []string
		added []string
	}{
		{[]string{"init"}, []string{"install-pkg-path", "install-pkg-path-file", "install-pkg-sha256", "enable-edge", "join-info-file", "runtime-binary", "edge-manifests-dir", "cni-manifest", "registry-ca-file", "insecure-registry", "edge-eviction-toleration-seconds", "vip", "vip-interface", "progress-fd"}},
		{[]string{"join"}, []string{"install-pkg-path", "install-pkg-path-file", "install-pkg-sha256", "enable-edge", "join-info-file", "runtime-binary", "edge-manifests-dir", "cni-manifest", "node-role", "registry-ca-file", "insecure-registry", "vip", "vip-interface", "progress-fd"}},
		{[]string{"reset"}, nil},
		{[]string{"token", "create"}, []string{"join-info-file", "upload-certs"}},
		{[]string{"token", "list"}, nil},
		{[]string{"version"}, nil},
		{[]string{"init", "phase", "preflight"}, nil},
		{[]string{"join", "phase", "kubelet-start"}, nil},
	}
	kroot := kubeadmcmd.NewKubeadmCommand(nil, io.Discard, io.Discard)
	eroot, _ := newRoot(nil, io.Discard, io.Discard)
	for _, tt := range tests {
		t.Run(strings.Join(tt.path, " "), func(t *testing.T) {
			k := flagSigs(find(t, kroot, tt.path...).Flags())
			e := flagSigs(find(t, eroot, tt.path...).Flags())
			for name, sig := range k {
				if e[name] != sig {
					t.Errorf("kubeadm flag --%s: kubeadm %q, edgeadm %q", name, sig, e[name])
				}
			}
			var added []string
			for name := range e {
				if _, ok := k[name]; !ok {
					added = append(added, name)
				}
			}
			sort.Strings(added)
			want := append([]string(nil), tt.added...)
			sort.Strings(want)
			if strings.Join(added, ",") != strings.Join(want, ",") {
				t.Errorf("added flags %v, want %v", added, want)
			}
		})
	}
}

// TestHelpFlags compares the flags the --help output lists.
func TestHelpFlags(t *testing.T) {
	for _, cmd := range []string{"init", "join"} {
		t.Run(cmd, func(t *testing.T) {
			kroot := kubeadmcmd.NewKubeadmCommand(nil, io.Discard, io.Discard)
			eroot, _ := newRoot(nil, io.Discard, io.Discard)
			k := helpFlags(t, kroot, cmd)
			e := helpFlags(t, eroot, cmd)
			for f := range k {
				if !e[f] {
					t.Errorf("edgeadm %s --help lacks %s", cmd, f)
				}
			}
			for f := range e {
				if !k[f] && !ownFlag(f) {
					t.Errorf("edgeadm %s --help has %s, which is neither kubeadm's nor edgeadm's", cmd, f)
				}
			}
		})
	}
}

func ownFlag(f string) bool {
	for _, n := range agent.OwnFlagNames() {
		if f == "--"+n {
			return true
		}
	}
	return false
}

func helpFlags(t *testing.T, root *cobra.Command, cmd string) map[string]bool {
	t.Helper()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{cmd, "--help"})
	if err := root.Execute(); err != nil {
		t.Fatalf("%s --help: %v", cmd, err)
	}
	m := map[string]bool{}
	for _, l := range strings.Split(out.String(), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "-") {
			for _, w := range strings.Fields(l) {
				w = strings.TrimSuffix(w, ",")
				if strings.HasPrefix(w, "--") {
					m[w] = true
					break
				}
			}
		}
	}
	if len(m) < 5 {
		t.Fatalf("%s --help lists only %v", cmd, m)
	}
	return m
}

// TestPhaseSubcommands: kubeadm's phase subcommands are all there, and
// edgeadm's phases are added next to them.
func TestPhaseSubcommands(t *testing.T) {
	tests := []struct {
		cmd  string
		mine []agent.Phase
	}{
		{"init", append(agent.PrePhases(), agent.InitPostPhases()...)},
		{"join", append(agent.PrePhases(), agent.JoinPostPhases()...)},
	}
	kroot := kubeadmcmd.NewKubeadmCommand(nil, io.Discard, io.Discard)
	eroot, _ := newRoot(nil, io.Discard, io.Discard)
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			ke := find(t, kroot, tt.cmd, "phase")
			ee := find(t, eroot, tt.cmd, "phase")
			names := map[string]bool{}
			for _, c := range ee.Commands() {
				names[c.Name()] = true
			}
			for _, c := range ke.Commands() {
				if !names[c.Name()] {
					t.Errorf("kubeadm's phase %s missing", c.Name())
				}
			}
			for _, p := range tt.mine {
				if !names[p.Name] {
					t.Errorf("edgeadm's phase %s missing", p.Name)
				}
				if sub := find(t, eroot, tt.cmd, "phase", p.Name); sub.Flags().Lookup(agent.FlagInstallPkgPath) == nil {
					t.Errorf("phase %s lacks --%s", p.Name, agent.FlagInstallPkgPath)
				}
			}
		})
	}
}

// TestSkipPhasesSplit: edgeadm's names leave --skip-phases, kubeadm's stay.
func TestSkipPhasesSplit(t *testing.T) {
	tests := []struct {
		in          []string
		mine        []string
		kubeadm     []string
		changedLeft bool
	}{
		{[]string{"prepare-node", "addon/kube-proxy"}, []string{"prepare-node"}, []string{"addon/kube-proxy"}, true},
		{[]string{"cni", "edge"}, []string{"cni", "edge"}, nil, false},
		{[]string{"preflight"}, nil, []string{"preflight"}, true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ","), func(t *testing.T) {
			eroot, _ := newRoot(nil, io.Discard, io.Discard)
			c := find(t, eroot, "init")
			if err := c.Flags().Set("skip-phases", strings.Join(tt.in, ",")); err != nil {
				t.Fatal(err)
			}
			mine, err := takeSkips(c.Flags(), append(agent.PrePhases(), agent.InitPostPhases()...))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for n := range mine {
				got = append(got, n)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tt.mine, ",") {
				t.Errorf("edgeadm skips %v, want %v", got, tt.mine)
			}
			left, _ := c.Flags().GetStringSlice("skip-phases")
			if strings.Join(left, ",") != strings.Join(tt.kubeadm, ",") {
				t.Errorf("kubeadm skips %v, want %v", left, tt.kubeadm)
			}
			if c.Flags().Changed("skip-phases") != tt.changedLeft {
				t.Errorf("skip-phases changed = %v, want %v", c.Flags().Changed("skip-phases"), tt.changedLeft)
			}
		})
	}
}

func TestRenameWriter(t *testing.T) {
	tests := []struct {
		writes []string
		want   string
	}{
		{[]string{"kubeadm join 10.0.0.1:6443 --token <value withheld> \\\n"}, "edgeadm join 10.0.0.1:6443 --token <value withheld> \\\n"},
		{[]string{"kubeadm jo", "in x\n", "tail"}, "edgeadm join x\ntail"},
		{[]string{"kubeadm reset\n"}, "kubeadm reset\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		w := &renameWriter{w: &out}
		for _, s := range tt.writes {
			if _, err := w.Write([]byte(s)); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		if out.String() != tt.want {
			t.Errorf("%q: got %q, want %q", tt.writes, out.String(), tt.want)
		}
	}
}
