package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
	kubeadmv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
)

// Kubelet ≥ 1.35 refuses to start on cgroup v1 (failCgroupV1 defaults to
// true) and kubeadm's SystemVerification preflight fails there for the same
// reason. edgeadm relaxes both only on a cgroup v1 host, and only for its
// own node: the kubelet setting goes in through a kubeadm patch, not the
// cluster's KubeletConfiguration, so other nodes keep the upstream default.
const (
	// PatchesDir holds the kubeadm patches edgeadm hands kubeadm: the user's
	// (--patches or the configuration's patches.directory), copied, and its own.
	PatchesDir = "/etc/edgeadm/patches"
	// cgroupV1PatchFile sorts after the user's kubeletconfiguration patches,
	// so kubeadm applies it last.
	cgroupV1PatchFile         = "kubeletconfiguration99-edgeadm-cgroupv1+merge.yaml"
	cgroupV1Patch             = "failCgroupV1: false\n"
	systemVerificationCheck   = "SystemVerification"
	cgroupV1DeprecationAdvice = "cgroup v1 is deprecated upstream (KEP-5573) and a future kubelet will not run on it: " +
		"boot this host with cgroup v2 (systemd.unified_cgroup_hierarchy=1 on the kernel command line, or a distribution release that defaults to it)"
)

// CgroupVersion tells the host's cgroup hierarchy: 2 when /sys/fs/cgroup is
// the unified cgroup2 filesystem, 1 otherwise (legacy or hybrid).
func CgroupVersion(h *Host) (int, error) {
	var st unix.Statfs_t
	p := h.Path("/sys/fs/cgroup")
	if err := unix.Statfs(p, &st); err != nil {
		return 0, fmt.Errorf("cgroup version: statfs %s: %w", p, err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return 2, nil
	}
	return 1, nil
}

// CgroupSettings is what edgeadm changed in a kubeadm configuration for the
// host's cgroup version: nothing on cgroup v2.
type CgroupSettings struct {
	// PatchesDir is set when kubeadm must read edgeadm's patches folder.
	PatchesDir string
	// Patches are the files to write into PatchesDir (name → content).
	Patches map[string][]byte
}

// AdaptToCgroupVersion adjusts a node's kubeadm settings for its cgroup
// version: on cgroup v1 it skips SystemVerification (kubeadm's only check
// that cannot pass there; CheckSystemWithoutCgroups runs the rest) and
// patches this node's kubelet with failCgroupV1: false. userPatches is the
// user's patches folder ("" for none): its files are carried over.
func AdaptToCgroupVersion(version int, nr *kubeadmv1.NodeRegistrationOptions, patches **kubeadmv1.Patches, userPatches map[string][]byte) CgroupSettings {
	if version != 1 {
		return CgroupSettings{}
	}
	if !slices.ContainsFunc(nr.IgnorePreflightErrors, func(s string) bool {
		return strings.EqualFold(s, systemVerificationCheck) || strings.EqualFold(s, "all")
	}) {
		nr.IgnorePreflightErrors = append(nr.IgnorePreflightErrors, systemVerificationCheck)
	}
	files := map[string][]byte{}
	for name, data := range userPatches {
		files[name] = data
	}
	files[cgroupV1PatchFile] = []byte(cgroupV1Patch)
	*patches = &kubeadmv1.Patches{Directory: PatchesDir}
	return CgroupSettings{PatchesDir: PatchesDir, Patches: files}
}

// readPatchesDir reads the user's kubeadm patches folder (flat, as kubeadm reads it).
func readPatchesDir(dir string) (map[string][]byte, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("kubeadm patches folder: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("kubeadm patches folder: %w", err)
		}
		files[e.Name()] = data
	}
	return files, nil
}

// PrepareCgroups is AdaptToCgroupVersion for a run on this host: it detects
// the cgroup version, runs the system checks kubeadm would (but the cgroup
// one) when it skips SystemVerification, writes the patches folder and warns.
func PrepareCgroups(h *Host, nr *kubeadmv1.NodeRegistrationOptions, patches **kubeadmv1.Patches) error {
	version, err := CgroupVersion(h)
	if err != nil {
		return err
	}
	if version != 1 {
		return nil
	}
	userDir := ""
	if *patches != nil {
		userDir = (*patches).Directory
	}
	if userDir != "" && filepath.Clean(userDir) == h.Path(PatchesDir) {
		userDir = "" // a re-run handed our own folder back: nothing to carry over
	}
	if userDir != "" {
		userDir = h.Path(userDir)
	}
	user, err := readPatchesDir(userDir)
	if err != nil {
		return err
	}
	if err := CheckSystemWithoutCgroups(h); err != nil {
		return err
	}
	s := AdaptToCgroupVersion(version, nr, patches, user)
	(*patches).Directory = h.Path(s.PatchesDir)
	if err := os.RemoveAll(h.Path(s.PatchesDir)); err != nil {
		return fmt.Errorf("cgroup v1: %w", err)
	}
	for name, data := range s.Patches {
		if err := h.WriteFile(filepath.Join(s.PatchesDir, name), data, 0o600); err != nil {
			return fmt.Errorf("cgroup v1: %w", err)
		}
	}
	h.Warnf("this host runs cgroup v1, which kubelet %s refuses by default: edgeadm sets failCgroupV1: false for this node's kubelet (a kubeadm patch in %s) and skips kubeadm's %s preflight check (edgeadm ran its kernel and OS checks). %s",
		"v1.35+", PatchesDir, systemVerificationCheck, cgroupV1DeprecationAdvice)
	return nil
}
