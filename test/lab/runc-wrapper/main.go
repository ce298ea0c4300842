// Command runc-lab sits in front of the real runc on machines where no process
// may hold CAP_SYS_RESOURCE (the lab's build machines). It rewrites the OCI
// spec runc is about to use so that
//   - CAP_SYS_RESOURCE is removed from every capability set, and
//   - a negative oomScoreAdj (containerd asks for -998 for pod sandboxes) is
//     raised to 0, since lowering it needs CAP_SYS_RESOURCE,
//
// then execs the real runc with the unchanged arguments. dockerd on the lab
// machine and containerd inside every lab host use it. It belongs to the lab,
// never to the install package.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

func main() {
	if err := run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "runc-lab: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if file, isProcess := specFile(args[1:]); file != "" {
		if err := patchFile(file, isProcess); err != nil {
			return fmt.Errorf("patch %s: %w", file, err)
		}
	}
	self, _ := os.Executable()
	real, err := findRunc(self, os.Getenv("RUNC_LAB_REAL"), os.Getenv("PATH"), defaultRuncs())
	if err != nil {
		return err
	}
	return syscall.Exec(real, append([]string{real}, args[1:]...), os.Environ())
}

// defaultRuncs are tried in order after $RUNC_LAB_REAL; $PATH entries come
// after them so that the bundle's runc (in /usr/local) wins inside lab hosts.
func defaultRuncs() []string {
	return []string{"/usr/local/bin/runc", "/usr/local/sbin/runc", "/usr/sbin/runc", "/usr/bin/runc"}
}

// findRunc returns the first executable runc that is not this wrapper.
func findRunc(self, override, path string, candidates []string) (string, error) {
	list := []string{}
	if override != "" {
		list = append(list, override)
	}
	list = append(list, candidates...)
	for _, dir := range filepath.SplitList(path) {
		if dir != "" {
			list = append(list, filepath.Join(dir, "runc"))
		}
	}
	selfInfo, _ := os.Stat(self)
	for _, p := range list {
		info, err := os.Stat(p)
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			continue
		}
		if selfInfo != nil && os.SameFile(info, selfInfo) {
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("no real runc found (tried $RUNC_LAB_REAL, %v and $PATH)", candidates)
}
