package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/edgeops/edgeops/pkg/contract"
)

// resetPaths are removed whole: state edgeadm, containerd, the kubelet and
// the CNI leave behind.
var resetPaths = []string{
	ConfigDir, StateDir, "/etc/containerd", "/run/containerd", "/etc/kubernetes", "/var/lib/kubelet",
	"/var/lib/etcd", "/var/lib/cni", "/run/flannel", "/etc/crictl.yaml", "/var/log/pods", "/var/log/containers",
	"/etc/systemd/system/kubelet.service.d", SysctlFile, ModulesFile, CNIConflist,
	"/etc/cni/net.d/10-flannel.conflist", "/etc/default/kubelet",
	contract.EdgeProxyConfigDir, contract.EdgeProxyDataDir, contract.EdgeProxyUnitPath,
	contract.EdgeTunnelConfigDir, contract.EdgeTunnelSocketDir, contract.EdgeTunnelServerUnitPath, contract.EdgeTunnelAgentUnitPath,
	contract.VIPConfigDir, contract.VIPUnitPath,
	// Made by the kubelet (volume plugin folder) and containerd (its opt plugin).
	"/usr/libexec/kubernetes", "/opt/containerd",
}

// emptyDirs are removed if nothing else is left in them.
// /lib/modules is made by kube-proxy's hostPath where it was missing (a container).
var emptyDirs = []string{"/etc/cni/net.d", "/etc/cni", "/opt/cni/bin", "/opt/cni", "/lib/modules"}

// cniInterfaces are the links the bridge plugin and flannel create.
var cniInterfaces = []string{"cni0", "flannel.1", "flannel-v6.1", "kube-ipvs0"}

// containerdState is emptied but kept: it may be a mount point (a volume).
const containerdState = "/var/lib/containerd"

// NeedsKubeadmReset reports whether kubeadm left anything to reset.
func NeedsKubeadmReset(h *Host) bool {
	for _, p := range []string{"/etc/kubernetes/kubelet.conf", "/etc/kubernetes/manifests", "/var/lib/kubelet/config.yaml", "/var/lib/etcd/member"} {
		if h.Exists(p) {
			return true
		}
	}
	return false
}

// Reset removes everything edgeadm installed, after kubeadm's reset: units,
// binaries, containerd state, CNI interfaces and config, iptables chains and
// the package files. Running it again changes nothing.
func Reset(ctx context.Context, h *Host) error {
	in, err := h.LoadInstalled()
	if err != nil {
		h.Warnf("%v: removing the known paths only", err)
	}
	var errs []error
	units := []string{contract.VIPUnit, contract.EdgeProxyUnit, contract.EdgeTunnelAgentUnit, contract.EdgeTunnelServerUnit, "kubelet.service", "containerd.service"}
	if in != nil {
		for _, u := range in.Units {
			units = appendUnique(units, u)
		}
	}
	for _, u := range units {
		if h.Exists("/etc/systemd/system/"+u) || h.Exists("/lib/systemd/system/"+u) {
			_, _ = h.Cmd.Run(ctx, "systemctl", "disable", "--now", u)
		}
	}
	releaseVIP(ctx, h)
	killShims(h)
	if err := unmountUnder(h, "/run/containerd", containerdState, "/var/lib/kubelet", "/run/netns"); err != nil {
		errs = append(errs, err)
	}
	// Pod network namespaces containerd pinned (normally gone with their pods).
	if netns, _ := filepath.Glob(h.Path("/run/netns/cni-*")); len(netns) > 0 {
		for _, n := range netns {
			_ = os.Remove(n)
		}
	}
	if in != nil {
		for _, f := range in.Files {
			if err := h.Remove(f.Path); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, u := range units {
		if err := h.Remove("/etc/systemd/system/" + u); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range resetPaths {
		if err := h.Remove(p); err != nil {
			errs = append(errs, err)
		}
	}
	if err := emptyDir(h, containerdState); err != nil {
		errs = append(errs, err)
	}
	_ = os.Remove(h.Path(containerdState)) // fails, as it should, on a mount point
	for _, d := range emptyDirs {
		_ = os.Remove(h.Path(d)) // only succeeds when empty
	}
	_, _ = h.Cmd.Run(ctx, "systemctl", "daemon-reload")
	_, _ = h.Cmd.Run(ctx, "systemctl", "reset-failed")
	for _, l := range cniInterfaces {
		if h.Exists("/sys/class/net/" + l) {
			if _, err := h.Cmd.Run(ctx, "ip", "link", "delete", l); err != nil {
				errs = append(errs, fmt.Errorf("delete interface %s: %w", l, err))
			}
		}
	}
	if err := CleanIptables(ctx, h); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// killShims ends containerd shims left running after containerd stopped
// (containerd's unit uses KillMode=process so shims outlive it).
func killShims(h *Host) {
	if h.Root != "/" {
		return
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, p := range procs {
		exe, err := os.Readlink(p)
		if err != nil || !strings.HasPrefix(filepath.Base(exe), "containerd-shim") {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			h.Logf("[reset] stopped leftover %s (pid %d)", filepath.Base(exe), pid)
		}
	}
}

// unmountUnder unmounts every mount below the given folders, deepest first,
// and a folder itself when it is bound onto itself (the kubelet does that to
// /var/lib/kubelet in a container, to make it a shared mount). A folder that
// is a mount of something else (a volume) is kept.
func unmountUnder(h *Host, dirs ...string) error {
	if h.Root != "/" {
		return nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := fields[4]
		for _, d := range dirs {
			below := strings.HasPrefix(mp, d+"/") && (d != "/run/netns" || strings.HasPrefix(mp, "/run/netns/cni-"))
			selfBind := mp == d && fields[3] == d
			if below || selfBind {
				mounts = append(mounts, mp)
			}
		}
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	var errs []error
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

// emptyDir removes what is inside a folder, keeping the folder.
func emptyDir(h *Host, d string) error {
	entries, err := os.ReadDir(h.Path(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("empty %s: %w", d, err)
	}
	var errs []error
	for _, e := range entries {
		if err := h.Remove(filepath.Join(d, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
