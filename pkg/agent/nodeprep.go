package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Files node preparation writes, so the settings survive a reboot.
const (
	SysctlFile  = "/etc/sysctl.d/99-edgeops-k8s.conf"
	ModulesFile = "/etc/modules-load.d/edgeops-k8s.conf"
)

// KernelModules are what containerd and kube-proxy need.
var kernelModules = []string{"overlay", "br_netfilter"}

// sysctls are what pod networking needs.
var sysctls = []struct{ Key, Value string }{
	{"net.bridge.bridge-nf-call-iptables", "1"},
	{"net.bridge.bridge-nf-call-ip6tables", "1"},
	{"net.ipv4.ip_forward", "1"},
}

// PrepareNode turns swap off (and keeps it off), loads kernel modules, sets
// sysctls and checks the hostname and clock. A setting that is read-only
// here (a container) but already right only gives a warning.
func PrepareNode(ctx context.Context, r *Run, nodeName string) error {
	var errs []error
	if err := disableSwap(ctx, r.Host); err != nil {
		errs = append(errs, err)
	}
	if err := loadModules(ctx, r.Host); err != nil {
		errs = append(errs, err)
	}
	if err := setSysctls(r.Host); err != nil {
		errs = append(errs, err)
	}
	if err := checkHostname(nodeName); err != nil {
		errs = append(errs, err)
	}
	checkClock(ctx, r.Host)
	return errors.Join(errs...)
}

// activeSwaps lists the swap devices in /proc/swaps.
func activeSwaps(h *Host) []string {
	data, err := h.ReadFile("/proc/swaps")
	if err != nil {
		return nil
	}
	var devs []string
	for i, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); i > 0 && len(f) > 0 {
			devs = append(devs, f[0])
		}
	}
	return devs
}

// disableSwap comments swap out of /etc/fstab and turns active swap off.
func disableSwap(ctx context.Context, h *Host) error {
	if data, err := h.ReadFile("/etc/fstab"); err == nil {
		if out, changed := CommentSwap(string(data)); changed {
			if err := h.WriteFile("/etc/fstab", []byte(out), 0o644); err != nil {
				return fmt.Errorf("swap: keep it off across reboots: %w", err)
			}
			h.Logf("[prepare-node] commented swap out of /etc/fstab")
		}
	}
	devs := activeSwaps(h)
	if len(devs) == 0 {
		return nil
	}
	for _, d := range devs {
		if _, err := h.Cmd.Run(ctx, "swapoff", d); err != nil {
			return fmt.Errorf("swap: %s is on and 'swapoff' failed (turn it off, or run kubelet with failSwapOn=false): %w", d, err)
		}
	}
	h.Logf("[prepare-node] swap turned off (%s)", strings.Join(devs, ", "))
	return nil
}

// CommentSwap comments out the swap entries of an fstab.
func CommentSwap(fstab string) (string, bool) {
	lines := strings.Split(fstab, "\n")
	changed := false
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 3 && !strings.HasPrefix(f[0], "#") && f[2] == "swap" {
			lines[i] = "# disabled by edgeadm (kubelet needs swap off): " + l
			changed = true
		}
	}
	return strings.Join(lines, "\n"), changed
}

// loadModules loads the kernel modules and lists them for boot.
func loadModules(ctx context.Context, h *Host) error {
	if err := h.WriteFile(ModulesFile, []byte(strings.Join(kernelModules, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("kernel modules: %w", err)
	}
	var errs []error
	for _, m := range kernelModules {
		if h.Exists(path.Join("/sys/module", m)) {
			continue
		}
		if _, err := h.Cmd.Run(ctx, "modprobe", m); err != nil {
			if builtinModule(h, m) {
				continue
			}
			errs = append(errs, fmt.Errorf("kernel module %s is not loaded and modprobe failed (load it on the host: 'modprobe %s'): %w", m, m, err))
		}
	}
	return errors.Join(errs...)
}

// builtinModule reports a module compiled into the kernel; its sysctls or
// filesystem then show it is there.
func builtinModule(h *Host, m string) bool {
	switch m {
	case "br_netfilter":
		return h.Exists("/proc/sys/net/bridge/bridge-nf-call-iptables")
	case "overlay":
		data, err := h.ReadFile("/proc/filesystems")
		return err == nil && strings.Contains(string(data), "overlay")
	}
	return false
}

// minSysctls are raised to at least these values: the kubelet, containerd
// and every pod's tools take inotify instances from one per-user pool, and
// the kernel default (128) runs out on a busy node ("too many open files"
// when containerd's CRI plugin starts).
var minSysctls = []struct {
	Key string
	Min int
}{
	{"fs.inotify.max_user_instances", 1024},
	{"fs.inotify.max_user_watches", 524288},
}

// raiseSysctls raises the minimum sysctls; one that cannot be raised here
// only gives a warning.
func raiseSysctls(h *Host, b *strings.Builder) {
	for _, s := range minSysctls {
		p := "/proc/sys/" + strings.ReplaceAll(s.Key, ".", "/")
		cur, err := h.ReadFile(p)
		if err != nil {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(cur)))
		if err != nil || n >= s.Min {
			continue
		}
		fmt.Fprintf(b, "%s = %d\n", s.Key, s.Min)
		if werr := os.WriteFile(h.Path(p), []byte(strconv.Itoa(s.Min)), 0o644); werr != nil {
			h.Warnf("sysctl %s is %d and cannot be raised to %d here (%v): containerd may run out of inotify instances", s.Key, n, s.Min, werr)
		}
	}
}

// setSysctls writes the sysctl file and applies each value through /proc/sys.
func setSysctls(h *Host) error {
	var b strings.Builder
	for _, s := range sysctls {
		fmt.Fprintf(&b, "%s = %s\n", s.Key, s.Value)
	}
	raiseSysctls(h, &b)
	if err := h.WriteFile(SysctlFile, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("sysctl: %w", err)
	}
	var errs []error
	for _, s := range sysctls {
		p := "/proc/sys/" + strings.ReplaceAll(s.Key, ".", "/")
		cur, err := h.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("sysctl %s: %s missing (is br_netfilter loaded?)", s.Key, p))
			continue
		}
		if err == nil && strings.TrimSpace(string(cur)) == s.Value {
			continue
		}
		if werr := os.WriteFile(h.Path(p), []byte(s.Value), 0o644); werr != nil {
			errs = append(errs, fmt.Errorf("sysctl %s=%s: cannot set it here (set it on the host): %w", s.Key, s.Value, werr))
		}
	}
	return errors.Join(errs...)
}

// checkHostname checks the node name is a valid lowercase DNS subdomain,
// as the Node object's name must be.
func checkHostname(nodeName string) error {
	name := nodeName
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
		name = strings.ToLower(h)
		if name != h {
			return fmt.Errorf("hostname %q has upper-case letters; the node name would differ from it (set --node-name)", h)
		}
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("node name %q is not a valid DNS subdomain (%s); set --node-name", name, strings.Join(errs, "; "))
	}
	return nil
}

// checkClock warns when the kernel says the clock is not synchronised
// (adjtimex's STA_UNSYNC, what timedatectl's NTPSynchronized reads, without
// waking timedated): certificates and tokens need clocks that agree.
func checkClock(_ context.Context, h *Host) {
	if h.Root != "/" {
		return
	}
	var tx unix.Timex
	if _, err := unix.Adjtimex(&tx); err != nil {
		return
	}
	if tx.Status&unix.STA_UNSYNC != 0 {
		h.Warnf("the system clock is not NTP-synchronised; certificates and tokens need clocks that agree across hosts")
	}
}

// conntrackMax is the sysctl kube-proxy raises at start.
const conntrackMax = "/proc/sys/net/netfilter/nf_conntrack_max"

// ConntrackReadOnly reports whether nf_conntrack_max cannot be written
// here, as in a container (it is not namespaced): kube-proxy must then
// leave it alone or it exits with "permission denied".
func ConntrackReadOnly(h *Host) bool {
	f, err := os.OpenFile(h.Path(conntrackMax), os.O_WRONLY, 0)
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	f.Close()
	return false
}
