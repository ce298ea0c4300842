package agent

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RenderContainerdConfig sets the runc runtime's BinaryName (when
// runtimeBinary is set) and points the sandbox (pause) image at the image
// repository (when one is set) in a containerd config.toml.
func RenderContainerdConfig(cfg []byte, runtimeBinary, imageRepository string) []byte {
	out := cfg
	if imageRepository != "" && imageRepository != DefaultImageRepository {
		out = bytes.ReplaceAll(out, []byte(DefaultImageRepository+"/pause"), []byte(imageRepository+"/pause"))
	}
	if runtimeBinary == "" {
		return out
	}
	lines := strings.Split(string(out), "\n")
	binLine := "BinaryName = " + strconv.Quote(runtimeBinary)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "runtimes.runc.options]") {
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))] + "  "
		for j := i + 1; j < len(lines); j++ {
			tj := strings.TrimSpace(lines[j])
			if strings.HasPrefix(tj, "[") {
				break
			}
			if strings.HasPrefix(tj, "BinaryName") {
				lines[j] = indent + binLine
				return []byte(strings.Join(lines, "\n"))
			}
		}
		lines = append(lines[:i+1], append([]string{indent + binLine}, lines[i+1:]...)...)
		return []byte(strings.Join(lines, "\n"))
	}
	section := `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]`
	if bytes.Contains(out, []byte("version = 3")) {
		section = `[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]`
	}
	return []byte(strings.TrimRight(string(out), "\n") + "\n\n" + section + "\n  " + binLine + "\n  SystemdCgroup = true\n")
}

// startContainerd (re)starts containerd through systemd and waits until it answers.
func startContainerd(ctx context.Context, h *Host, restart bool) error {
	if _, err := h.Cmd.Run(ctx, "systemctl", "daemon-reload"); err != nil {
		return fmt.Errorf("systemd daemon-reload: %w", err)
	}
	if _, err := h.Cmd.Run(ctx, "systemctl", "enable", "--now", "containerd.service"); err != nil {
		return fmt.Errorf("start containerd: %w", err)
	}
	if restart {
		if _, err := h.Cmd.Run(ctx, "systemctl", "restart", "containerd.service"); err != nil {
			return fmt.Errorf("restart containerd: %w", err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := h.Cmd.Run(ctx, "ctr", "--namespace", "k8s.io", "version")
		if err == nil {
			return checkCRI(ctx, h)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("containerd does not answer after 60s (see 'journalctl -u containerd'): %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// CgroupDriver is the cgroup driver containerd's runc runtime uses, which
// the kubelet must match: "systemd" with SystemdCgroup = true, else "cgroupfs".
// It is "" when containerd has no config (the kubelet keeps kubeadm's default).
func CgroupDriver(h *Host) string {
	data, err := h.ReadFile("/etc/containerd/config.toml")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.ReplaceAll(l, "=", " = "))
		if len(f) == 3 && f[0] == "SystemdCgroup" && f[1] == "=" && f[2] == "true" {
			return "systemd"
		}
	}
	return "cgroupfs"
}

// checkCRI fails when containerd runs without its CRI plugin, which the
// kubelet and kubeadm need; containerd only logs that.
func checkCRI(ctx context.Context, h *Host) error {
	out, err := h.Cmd.Run(ctx, "ctr", "plugins", "list")
	if err != nil {
		return fmt.Errorf("list containerd plugins: %w", err)
	}
	if st, ok := CRIStatus(out); ok && st != "ok" {
		return fmt.Errorf("containerd's CRI plugin did not load (status %s; see 'journalctl -u containerd': a common cause is fs.inotify.max_user_instances too low)", st)
	}
	return nil
}

// CRIStatus finds the CRI gRPC plugin's status in 'ctr plugins list' output.
func CRIStatus(list string) (string, bool) {
	for _, l := range strings.Split(list, "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && f[0] == "io.containerd.grpc.v1" && f[1] == "cri" {
			return f[len(f)-1], true
		}
	}
	return "", false
}
