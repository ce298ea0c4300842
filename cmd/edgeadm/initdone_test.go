package main

import (
	"bytes"
	"encoding/pem"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"

	"github.com/edgeops/edgeops/pkg/agent"
	"github.com/edgeops/edgeops/pkg/joininfo"
)

const (
	testToken   = "abcdef.0123456789abcdef"
	testCertKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// adminKubeconfig writes a kubeconfig with a real CA certificate, as kubeadm's admin.conf.
func adminKubeconfig(t *testing.T) string {
	t.Helper()
	chain, _, err := certutil.GenerateSelfSignedCertKey("kubernetes", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The first block is the serving certificate; its issuer follows: keep one, as admin.conf has.
	block, _ := pem.Decode(chain)
	ca := pem.EncodeToMemory(block)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubernetes"] = &clientcmdapi.Cluster{Server: "https://10.1.2.3:6443", CertificateAuthorityData: ca}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: "x"}
	cfg.Contexts["admin@kubernetes"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "admin"}
	cfg.CurrentContext = "admin@kubernetes"
	path := filepath.Join(t.TempDir(), "admin.conf")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// argv splits a printed command (with its backslash-newline continuations)
// as a shell would: the lines hold no quotes.
func argv(t *testing.T, line string) []string {
	t.Helper()
	return strings.Fields(strings.ReplaceAll(line, "\\\n", " "))
}

// TestPrintedJoinWorks: the join lines init prints carry edgeadm's flags,
// parse with edgeadm join's own flag set, and give kubeadm the discovery
// the cluster has, without the join information file.
func TestPrintedJoinWorks(t *testing.T) {
	kc := adminKubeconfig(t)
	opts := func(mod func(*agent.Options)) *agent.Options {
		o := agent.NewOptions()
		mod(o)
		return o
	}
	tests := []struct {
		name          string
		opts          *agent.Options
		controlPlane  bool
		wantPkg       string
		wantEdge      bool
		wantNoInPrint []string
	}{
		{name: "worker, local package", opts: opts(func(o *agent.Options) { o.InstallPkgPath = "/root/pkg.tar.gz" }), wantPkg: "/root/pkg.tar.gz", wantEdge: true},
		{name: "control plane", controlPlane: true, opts: opts(func(o *agent.Options) { o.InstallPkgPath = "ftp://mirror/pkg.tar.gz" }), wantPkg: "ftp://mirror/pkg.tar.gz", wantEdge: true},
		{name: "plain cluster", opts: opts(func(o *agent.Options) { o.InstallPkgPath = "/p.tgz"; o.EnableEdge = false }), wantPkg: "/p.tgz"},
		{name: "package from a file", opts: opts(func(o *agent.Options) { o.InstallPkgPathFile = "/var/lib/edgeops/packages/url" }),
			wantPkg: pkgPlaceholder, wantEdge: true, wantNoInPrint: []string{"/var/lib/edgeops/packages/url"}},
		{name: "signed URL", opts: opts(func(o *agent.Options) { o.InstallPkgPath = "https://m/pkg.tgz?X-Sig=s3cr3t" }),
			wantPkg: pkgPlaceholder, wantEdge: true, wantNoInPrint: []string{"s3cr3t"}},
		{name: "ftp URL with a password", opts: opts(func(o *agent.Options) { o.InstallPkgPath = "ftp://bob:hunter2@mirror/pkg.tgz" }),
			wantPkg: pkgPlaceholder, wantEdge: true, wantNoInPrint: []string{"hunter2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			worker, cp, err := joinLines(joinSettings{Kubeconfig: kc, Token: testToken, CertificateKey: testCertKey, Opts: tt.opts})
			if err != nil {
				t.Fatal(err)
			}
			line := worker
			if tt.controlPlane {
				line = cp
			}
			for _, s := range tt.wantNoInPrint {
				if strings.Contains(line, s) {
					t.Errorf("printed %q:\n%s", s, line)
				}
			}
			a := argv(t, line)
			if a[0] != "edgeadm" || a[1] != "join" {
				t.Fatalf("printed %q", line)
			}
			root, _ := newRoot(nil, io.Discard, io.Discard)
			join := find(t, root, "join")
			if err := join.Flags().Parse(a[2:]); err != nil {
				t.Fatalf("edgeadm join refuses its own printed line %q: %v", line, err)
			}
			fs := join.Flags()
			if got := flagString(fs, "install-pkg-path"); got != tt.wantPkg {
				t.Errorf("--install-pkg-path %q, want %q", got, tt.wantPkg)
			}
			if flagBool(fs, "enable-edge") != tt.wantEdge {
				t.Errorf("--enable-edge %v, want %v", flagBool(fs, "enable-edge"), tt.wantEdge)
			}
			role := agent.RoleWorker
			if tt.wantEdge {
				role = agent.RoleEdge
			}
			if tt.controlPlane {
				role = agent.RoleControlPlane
			}
			cfg, err := agent.JoinConfigFromFlags(fs, agent.JoinSettings{Role: role, Endpoint: fs.Arg(0),
				LoadInfo: func() (joininfo.Info, error) { t.Error("join information file read"); return joininfo.Info{}, nil }})
			if err != nil {
				t.Fatal(err)
			}
			bt := cfg.Join.Discovery.BootstrapToken
			if bt == nil || bt.APIServerEndpoint != "10.1.2.3:6443" || bt.Token != testToken || len(bt.CACertHashes) != 1 || !strings.HasPrefix(bt.CACertHashes[0], "sha256:") {
				t.Errorf("discovery %+v", bt)
			}
			if tt.controlPlane && (cfg.Join.ControlPlane == nil || cfg.Join.ControlPlane.CertificateKey != testCertKey) {
				t.Errorf("control plane %+v", cfg.Join.ControlPlane)
			}
			if err := agent.CheckJoinConfig(cfg); err != nil {
				t.Errorf("kubeadm refuses the printed join: %v", err)
			}
		})
	}
}

// TestInitDoneMessage: the message follows kubeadm's, withholds the secrets
// with --skip-token-print, says what edgeadm installed instead of asking
// for a pod network, and prints the control-plane line only with an endpoint.
func TestInitDoneMessage(t *testing.T) {
	kc := adminKubeconfig(t)
	o := agent.NewOptions()
	o.InstallPkgPath = "/root/pkg.tgz"
	tests := []struct {
		name          string
		endpoint      string
		skipPrint     bool
		skips         map[string]bool
		opts          func(*agent.Options)
		want, wantNot []string
	}{
		{name: "single master", want: []string{"initialized successfully", "edgeadm join 10.1.2.3:6443 --token " + testToken, "--install-pkg-path /root/pkg.tgz",
			"flannel from the install package, pod CIDR 10.244.0.0/16", "edge components (edge-proxy on every edge node"},
			wantNot: []string{"kubeadm", "deploy a pod network", "--control-plane"}},
		{name: "HA with uploaded certs", endpoint: "vip:6443", want: []string{"--control-plane --certificate-key " + testCertKey, "edgeadm init phase upload-certs"}},
		{name: "skip token print", endpoint: "vip:6443", skipPrint: true, want: []string{"<value withheld>"}, wantNot: []string{testToken, testCertKey}},
		{name: "plain, own CNI", opts: func(o *agent.Options) { o.EnableEdge = false; o.CNIManifest = "/c.yaml" },
			want: []string{"--cni-manifest /c.yaml", "--enable-edge=false: no edge components", "--install-pkg-path /root/pkg.tgz --enable-edge=false"}},
		{name: "cni skipped", skips: map[string]bool{"cni": true}, want: []string{"deploy a pod network to the cluster yourself"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := *o
			if tt.opts != nil {
				tt.opts(&opts)
			}
			worker, cp, err := joinLines(joinSettings{Kubeconfig: kc, Token: testToken, CertificateKey: testCertKey,
				SkipTokenPrint: tt.skipPrint, SkipCertificateKeyPrint: tt.skipPrint, Opts: &opts})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := printInitDone(&b, initDone{KubeConfigPath: "/etc/kubernetes/admin.conf", ControlPlaneEndpoint: tt.endpoint, UploadCerts: true,
				Installed: installedSummary(&opts, "10.244.0.0/16", tt.skips), ControlPlaneJoin: cp, WorkerJoin: worker}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("message lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("message has %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestTakeShowJoin: kubeadm's show-join-command is always skipped (edgeadm
// prints the message), and a user's own skip of it is remembered.
func TestTakeShowJoin(t *testing.T) {
	tests := []struct {
		args     []string
		userSkip bool
		want     string
	}{
		{nil, false, "[show-join-command]"},
		{[]string{"--skip-phases=addon/kube-proxy"}, false, "[addon/kube-proxy,show-join-command]"},
		{[]string{"--skip-phases=show-join-command"}, true, "[show-join-command]"},
	}
	for _, tt := range tests {
		root, _ := newRoot(nil, io.Discard, io.Discard)
		c := find(t, root, "init")
		if err := c.Flags().Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		skipped, err := takeShowJoin(c.Flags())
		if err != nil || skipped != tt.userSkip {
			t.Errorf("%v: skipped %v err %v, want %v", tt.args, skipped, err, tt.userSkip)
		}
		f := c.Flags().Lookup("skip-phases")
		if f.Value.String() != tt.want || !f.Changed {
			t.Errorf("%v: --skip-phases %s (changed %v), want %s", tt.args, f.Value, f.Changed, tt.want)
		}
	}
}
