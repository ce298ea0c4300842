package main

import (
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/spf13/pflag"
	cmdutil "k8s.io/kubernetes/cmd/kubeadm/app/cmd/util"

	"github.com/edgeops/edgeops/pkg/agent"
	"github.com/edgeops/edgeops/pkg/contract"
)

// showJoinPhase is kubeadm's last init phase. edgeadm skips it and prints
// the same message itself once its own phases are done, so the join lines
// it prints carry edgeadm's flags and the pod network paragraph says what
// edgeadm installed instead of asking for one.
const showJoinPhase = "show-join-command"

// pkgPlaceholder stands in for a package path edgeadm must not print
// (a URL whose query may be a signature) or does not know.
const pkgPlaceholder = "<your-install-package-path-or-URL>"

// initDoneTmpl follows kubeadm's init message (phases/init/showjoincommand.go).
var initDoneTmpl = template.Must(template.New("init").Parse(`
Your Kubernetes control-plane has initialized successfully!

To start using your cluster, you need to run the following as a regular user:

  mkdir -p $HOME/.kube
  sudo cp -i {{.KubeConfigPath}} $HOME/.kube/config
  sudo chown $(id -u):$(id -g) $HOME/.kube/config

Alternatively, if you are the root user, you can run:

  export KUBECONFIG={{.KubeConfigPath}}

{{.Installed}}

{{if .ControlPlaneEndpoint -}}
{{if .UploadCerts -}}
You can now join any number of control-plane nodes running the following command on each as root:

  {{.ControlPlaneJoin}}

Please note that the certificate-key gives access to cluster sensitive data, keep it secret!
As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use
"edgeadm init phase upload-certs --upload-certs" to reload certs afterward.

{{else -}}
You can now join any number of control-plane nodes by copying certificate authorities
and service account keys on each node and then running the following as root:

  {{.ControlPlaneJoin}}

{{end}}{{end}}Then you can join any number of worker nodes by running the following on each as root:

{{.WorkerJoin}}
`))

// initDone is what the message says.
type initDone struct {
	KubeConfigPath       string
	ControlPlaneEndpoint string
	UploadCerts          bool
	Installed            string
	ControlPlaneJoin     string
	WorkerJoin           string
}

// joinSettings is what init knows that the join lines need.
type joinSettings struct {
	Kubeconfig              string
	Token, CertificateKey   string
	SkipTokenPrint          bool
	SkipCertificateKeyPrint bool
	Opts                    *agent.Options
}

// joinLines builds the worker and control-plane join commands with
// kubeadm's own helpers, then adds edgeadm's flags.
func joinLines(s joinSettings) (worker, controlPlane string, err error) {
	extra := joinExtras(s.Opts)
	w, err := cmdutil.GetJoinWorkerCommand(s.Kubeconfig, s.Token, s.SkipTokenPrint)
	if err != nil {
		return "", "", fmt.Errorf("join command: %w", err)
	}
	cp, err := cmdutil.GetJoinControlPlaneCommand(s.Kubeconfig, s.Token, s.CertificateKey, s.SkipTokenPrint, s.SkipCertificateKeyPrint)
	if err != nil {
		return "", "", fmt.Errorf("join command: %w", err)
	}
	return asEdgeadmJoin(w, extra), asEdgeadmJoin(cp, extra), nil
}

// asEdgeadmJoin turns kubeadm's join command into edgeadm's.
func asEdgeadmJoin(kubeadmLine string, extra []string) string {
	line := strings.TrimRight(strings.Replace(kubeadmLine, "kubeadm join", "edgeadm join", 1), " ")
	if len(extra) == 0 {
		return line
	}
	return line + " \\\n\t" + strings.Join(extra, " ")
}

// joinExtras are the edgeadm flags a joining node needs from what init had:
// the package (never a URL that may carry a signature, nor what came from
// --install-pkg-path-file) and --enable-edge=false.
func joinExtras(o *agent.Options) []string {
	var a []string
	switch {
	case o.InstallPkgPathFile != "":
		a = append(a, "--"+contract.FlagInstallPkgPath, pkgPlaceholder)
	case o.InstallPkgPath != "" && hasSecret(o.InstallPkgPath):
		a = append(a, "--"+contract.FlagInstallPkgPath, pkgPlaceholder)
	case o.InstallPkgPath != "":
		a = append(a, "--"+contract.FlagInstallPkgPath, o.InstallPkgPath)
	}
	if !o.EnableEdge {
		a = append(a, "--"+contract.FlagEnableEdge+"=false")
	}
	return a
}

// hasSecret reports a package URL with a credential (a signed URL's query,
// an ftp password) that a printed command line must not show.
func hasSecret(s string) bool {
	src, err := contract.ParseSource(s)
	return err != nil || src.HasSecret()
}

// installedSummary replaces kubeadm's "You should now deploy a pod network" paragraph.
func installedSummary(o *agent.Options, podSubnet string, skips map[string]bool) string {
	var b strings.Builder
	switch {
	case skips["cni"]:
		b.WriteString("edgeadm's cni phase was skipped: deploy a pod network to the cluster yourself.\n" +
			"Run \"kubectl apply -f [podnetwork].yaml\" with one of the options listed at:\n" +
			"  https://kubernetes.io/docs/concepts/cluster-administration/addons/")
	case o.CNIManifest != "":
		fmt.Fprintf(&b, "edgeadm applied your pod network (--%s %s).", contract.FlagCNIManifest, o.CNIManifest)
	default:
		fmt.Fprintf(&b, "edgeadm installed the pod network: flannel from the install package, pod CIDR %s.", podSubnet)
	}
	b.WriteString("\n")
	switch {
	case !o.EnableEdge:
		fmt.Fprintf(&b, "--%s=false: no edge components, a plain Kubernetes cluster.", contract.FlagEnableEdge)
	case skips["edge"]:
		b.WriteString("edgeadm's edge phase was skipped: no edge components were applied.")
	case o.EdgeManifestsDir != "":
		fmt.Fprintf(&b, "edgeadm applied the edge components from --%s %s; nodes join as edge nodes (label %s=%s, taint %s:NoSchedule) unless --%s %s.",
			contract.FlagEdgeManifestsDir, o.EdgeManifestsDir, contract.EdgeNodeLabelKey, contract.EdgeNodeLabelValue, contract.EdgeTaintKey, contract.FlagNodeRole, contract.RoleWorker)
	default:
		fmt.Fprintf(&b, "edgeadm applied the edge components (edge-proxy on every edge node, kube-proxy and flannel through it); nodes join as edge nodes (label %s=%s, taint %s:NoSchedule) unless --%s %s.",
			contract.EdgeNodeLabelKey, contract.EdgeNodeLabelValue, contract.EdgeTaintKey, contract.FlagNodeRole, contract.RoleWorker)
	}
	return b.String()
}

func printInitDone(w io.Writer, d initDone) error {
	if err := initDoneTmpl.Execute(w, d); err != nil {
		return fmt.Errorf("init: print the join commands: %w", err)
	}
	return nil
}

// takeShowJoin keeps kubeadm from printing its init message (edgeadm prints
// its own after its phases) and reports whether the user skipped it.
func takeShowJoin(fs *pflag.FlagSet) (userSkipped bool, err error) {
	f := fs.Lookup("skip-phases")
	if f == nil {
		return false, nil
	}
	sv, ok := f.Value.(pflag.SliceValue)
	if !ok {
		return false, fmt.Errorf("--skip-phases is not a list")
	}
	list := sv.GetSlice()
	for _, p := range list {
		if p == showJoinPhase {
			return true, nil
		}
	}
	if err := sv.Replace(append(list, showJoinPhase)); err != nil {
		return false, fmt.Errorf("--skip-phases: %w", err)
	}
	f.Changed = true
	return false, nil
}

// showInitDone prints the init message with edgeadm's join commands.
func showInitDone(host *agent.Host, fs *pflag.FlagSet, cfg *agent.KubeadmConfig, r *agent.Run, skips map[string]bool) error {
	worker, cp, err := joinLines(joinSettings{
		Kubeconfig: host.Path(agent.AdminKubeconfig), Token: r.Secrets.Token, CertificateKey: r.Secrets.CertificateKey,
		SkipTokenPrint: flagBool(fs, "skip-token-print"), SkipCertificateKeyPrint: flagBool(fs, "skip-certificate-key-print"),
		Opts: r.Opts,
	})
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	return printInitDone(host.Log, initDone{
		KubeConfigPath:       agent.AdminKubeconfig,
		ControlPlaneEndpoint: cfg.Cluster.ControlPlaneEndpoint,
		UploadCerts:          r.Secrets.CertificateKey != "",
		Installed:            installedSummary(r.Opts, cfg.Cluster.Networking.PodSubnet, skips),
		ControlPlaneJoin:     cp,
		WorkerJoin:           worker,
	})
}
