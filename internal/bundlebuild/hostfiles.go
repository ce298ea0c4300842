package bundlebuild

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// copyHostPath adds a host path to the layer at the same place, keeping
// symlinks as symlinks and following them to their targets, so that e.g.
// /lib/x86_64-linux-gnu/libm.so.6 arrives as the usr-merge /lib link, the
// libm.so.6 link and the real file.
func (l *layerFS) copyHostPath(p string, seen map[string]bool) error {
	p = filepath.Clean(p)
	if seen[p] {
		return nil
	}
	seen[p] = true
	// Walk the directories first: any of them may be a symlink (/lib -> usr/lib).
	dir := filepath.Dir(p)
	if dir != "/" {
		if err := l.copyHostPath(dir, seen); err != nil {
			return err
		}
		// Store the entry under its real directory, never through a link.
		realDir, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return fmt.Errorf("host file %s: %w", p, err)
		}
		if realDir != dir {
			return l.copyHostPath(filepath.Join(realDir, filepath.Base(p)), seen)
		}
	}
	st, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("host file %s: %w", p, err)
	}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		l.symlink(p, target)
		abs := target
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(filepath.Dir(p), target)
		}
		return l.copyHostPath(abs, seen)
	case st.IsDir():
		l.dir(p, int64(st.Mode().Perm()))
	case st.Mode().IsRegular():
		l.file(p, p, int64(st.Mode().Perm()))
	default:
		return fmt.Errorf("host file %s: not a file, directory or symlink", p)
	}
	return nil
}

var lddLine = regexp.MustCompile(`(?:=>\s*)?(/\S+)\s+\(0x`)

// sharedLibraries lists the shared libraries (and the loader) an ELF file
// needs, as ldd resolves them on this machine.
func sharedLibraries(ctx context.Context, elf string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ldd", elf).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %w: %s", elf, err, out)
	}
	var libs []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("ldd %s: %s", elf, strings.TrimSpace(line))
		}
		if m := lddLine.FindStringSubmatch(line); m != nil {
			libs = append(libs, m[1])
		}
	}
	return libs, sc.Err()
}

// iptablesHostFiles are the iptables programs (nft and legacy), every
// xtables extension and nft, from Debian's iptables and nftables packages on
// the build machine.
func iptablesHostFiles() ([]string, error) {
	files := []string{"/usr/sbin/xtables-nft-multi", "/usr/sbin/xtables-legacy-multi"}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("iptables is not installed on the build machine (apt-get install iptables): %w", err)
		}
	}
	// kube-proxy's nftables mode runs the nft program (through knftables).
	if _, err := os.Stat("/usr/sbin/nft"); err != nil {
		return nil, fmt.Errorf("nft is not installed on the build machine (apt-get install nftables): %w", err)
	}
	files = append(files, "/usr/sbin/nft")
	exts, err := filepath.Glob("/usr/lib/*-linux-gnu/xtables/*.so")
	if err != nil || len(exts) == 0 {
		return nil, fmt.Errorf("no xtables extensions under /usr/lib/*-linux-gnu/xtables (is iptables installed?)")
	}
	sort.Strings(exts)
	return append(files, exts...), nil
}

// addIptables puts iptables with its extensions and the closure of their
// shared libraries into the layer, plus the backend-choosing wrapper
// installed as iptables, iptables-save, iptables-restore and ip6tables*.
func (l *layerFS) addIptables(ctx context.Context, wrapper string) error {
	files, err := iptablesHostFiles()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	libs := map[string]bool{}
	for _, f := range files {
		if err := l.copyHostPath(f, seen); err != nil {
			return err
		}
		deps, err := sharedLibraries(ctx, f)
		if err != nil {
			return err
		}
		for _, d := range deps {
			libs[d] = true
		}
	}
	var sorted []string
	for d := range libs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	for _, d := range sorted {
		if err := l.copyHostPath(d, seen); err != nil {
			return err
		}
	}
	// Files iptables reads for protocol and service names.
	for _, f := range []string{"/etc/protocols", "/etc/services", "/etc/ethertypes"} {
		if _, err := os.Stat(f); err == nil {
			if err := l.copyHostPath(f, seen); err != nil {
				return err
			}
		}
	}
	for _, mode := range []string{"nft", "legacy"} {
		for _, fam := range []string{"iptables", "ip6tables"} {
			for _, suffix := range []string{"", "-save", "-restore"} {
				l.symlink("/usr/sbin/"+fam+"-"+mode+suffix, "xtables-"+mode+"-multi")
			}
		}
	}
	l.file("/usr/sbin/iptables-wrapper", wrapper, 0o755)
	for _, fam := range []string{"iptables", "ip6tables"} {
		for _, suffix := range []string{"", "-save", "-restore"} {
			l.symlink("/usr/sbin/"+fam+suffix, "iptables-wrapper")
		}
	}
	return nil
}
