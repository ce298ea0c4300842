package phases

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Facts is what the run learned about a host before changing anything.
type Facts struct {
	OS, OSVersion string // ID and VERSION_ID from /etc/os-release
	Arch          string // GOARCH spelling (amd64, arm64)
	Hostname      string
	Edgeadm       bool // /usr/local/bin/edgeadm is installed
	Kubelet       bool // a kubelet binary is installed
	KubeletConf   bool // /etc/kubernetes/kubelet.conf: the node joined (or was init)
	AdminConf     bool // /etc/kubernetes/admin.conf: a control plane was initialised here
	KubeadmFiles  bool // any trace kubeadm leaves (manifests, pki, kubelet config)
	EtcdMember    bool // /var/lib/etcd/member: this host holds etcd data
	Done          bool // edgeops finished init or join here (DoneMarker)
	Joining       bool // edgeops started a join here and never saw it finish (JoiningMarker)
	// CAHash is the sha256 of /etc/kubernetes/pki/ca.crt; KubeletCAHash that
	// of the CA kubelet.conf trusts, KubeletServer the API server it talks
	// to. They tell this cluster's hosts from another cluster's.
	CAHash         string
	KubeletCAHash  string
	KubeletServer  string
	SwapOn         bool
	Clock          time.Time // the host's clock when the facts were read
	ClockSkew      time.Duration
	ListeningPorts map[int]bool
}

// InCluster reports whether the host looks joined (or initialised).
func (f Facts) InCluster() bool { return f.KubeletConf }

// ControlPlane reports whether a control plane was initialised or joined
// here: its data must never be wiped by `up`.
func (f Facts) ControlPlane() bool { return f.AdminConf || f.EtcdMember }

// ClusterCA is the hash of the CA the host belongs to: the kubelet's, else
// the one kubeadm left in pki ("" when the host has neither).
func (f Facts) ClusterCA() string {
	if f.KubeletCAHash != "" {
		return f.KubeletCAHash
	}
	return f.CAHash
}

// HalfJoined reports a host kubeadm touched but that did not finish joining.
func (f Facts) HalfJoined() bool { return f.KubeadmFiles && !f.KubeletConf }

// factsScript prints key=value lines; it changes nothing on the host.
const factsScript = `set -u
. /etc/os-release 2>/dev/null
echo "os=${ID:-unknown}"
echo "osversion=${VERSION_ID:-}"
echo "arch=$(uname -m)"
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
[ -x /usr/local/bin/edgeadm ] && echo edgeadm=1
{ [ -x /usr/bin/kubelet ] || [ -x /usr/local/bin/kubelet ]; } && echo kubelet=1
[ -f /etc/kubernetes/kubelet.conf ] && echo kubeletconf=1
[ -f /etc/kubernetes/admin.conf ] && echo adminconf=1
for f in /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/pki/ca.crt /etc/kubernetes/bootstrap-kubelet.conf /var/lib/kubelet/config.yaml /etc/kubernetes/kubelet.conf; do
  [ -e "$f" ] && { echo kubeadmfiles=1; break; }
done
[ -d /var/lib/etcd/member ] && echo etcdmember=1
[ -f /var/lib/edgeops/done ] && echo done=1
[ -f /var/lib/edgeops/joining ] && echo joining=1
[ -f /etc/kubernetes/pki/ca.crt ] && echo "cahash=$(sha256sum < /etc/kubernetes/pki/ca.crt | cut -c1-64)"
if [ -f /etc/kubernetes/kubelet.conf ] && [ "$(awk '$1=="server:" {print $2; exit}' /etc/kubernetes/kubelet.conf)" = "https://127.0.0.1:10268" ] && [ -f /etc/edge-proxy/config.yaml ]; then
  # An edge node: its kubelet reaches the cluster through edge-proxy (a
  # node-local CA), which forwards to the config's servers and trusts the cluster CA.
  echo "kubeletserver=$(awk '$1=="-" && $2 ~ /^https:/ {print $2; exit}' /etc/edge-proxy/config.yaml)"
  [ -f /etc/kubernetes/pki/ca.crt ] && echo "kubeletcahash=$(sha256sum < /etc/kubernetes/pki/ca.crt | cut -c1-64)"
elif [ -f /etc/kubernetes/kubelet.conf ]; then
  k=/etc/kubernetes/kubelet.conf
  echo "kubeletserver=$(awk '$1=="server:" {print $2; exit}' "$k")"
  cad=$(awk '$1=="certificate-authority-data:" {print $2; exit}' "$k")
  caf=$(awk '$1=="certificate-authority:" {print $2; exit}' "$k")
  if [ -n "$cad" ]; then echo "kubeletcahash=$(printf '%s' "$cad" | base64 -d 2>/dev/null | sha256sum | cut -c1-64)"
  elif [ -n "$caf" ] && [ -f "$caf" ]; then echo "kubeletcahash=$(sha256sum < "$caf" | cut -c1-64)"; fi
fi
[ "$(tail -n +2 /proc/swaps 2>/dev/null | wc -l)" -gt 0 ] && echo swap=1
echo "clock=$(date +%s.%N)"
for t in /proc/net/tcp /proc/net/tcp6; do
  [ -r "$t" ] && awk 'NR>1 && $4=="0A" {split($2,a,":"); print "listen=" a[2]}' "$t"
done
exit 0
`

// parseFacts reads factsScript's output; sent and received bound the moment
// the host read its clock, for the skew estimate.
func parseFacts(out string, sent, received time.Time) (Facts, error) {
	f := Facts{ListeningPorts: map[int]bool{}}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		switch k {
		case "os":
			f.OS = v
		case "osversion":
			f.OSVersion = v
		case "arch":
			f.Arch = goArch(v)
		case "hostname":
			f.Hostname = strings.TrimSpace(v)
		case "edgeadm":
			f.Edgeadm = true
		case "kubelet":
			f.Kubelet = true
		case "kubeletconf":
			f.KubeletConf = true
		case "adminconf":
			f.AdminConf = true
		case "kubeadmfiles":
			f.KubeadmFiles = true
		case "done":
			f.Done = true
		case "joining":
			f.Joining = true
		case "etcdmember":
			f.EtcdMember = true
		case "cahash":
			f.CAHash = v
		case "kubeletcahash":
			f.KubeletCAHash = v
		case "kubeletserver":
			f.KubeletServer = v
		case "swap":
			f.SwapOn = true
		case "clock":
			secs, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return f, fmt.Errorf("facts: clock %q: %w", v, err)
			}
			f.Clock = time.Unix(0, int64(secs*1e9))
			mid := sent.Add(received.Sub(sent) / 2)
			f.ClockSkew = f.Clock.Sub(mid)
		case "listen":
			p, err := strconv.ParseUint(v, 16, 16)
			if err == nil {
				f.ListeningPorts[int(p)] = true
			}
		}
	}
	if f.Hostname == "" {
		return f, fmt.Errorf("facts: no hostname in the output")
	}
	if f.Clock.IsZero() {
		return f, fmt.Errorf("facts: no clock in the output")
	}
	return f, nil
}

// goArch maps `uname -m` to Go's architecture names, as the package uses.
func goArch(m string) string {
	switch m {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "armv7l", "armv7":
		return "arm"
	}
	return m
}

// gatherFacts runs the facts script on h.
func gatherFacts(ctx context.Context, h *Host) (Facts, error) {
	sent := time.Now()
	out, err := h.Remote.Run(ctx, factsScript, nil)
	received := time.Now()
	if err != nil {
		return Facts{}, err
	}
	return parseFacts(string(out), sent, received)
}
