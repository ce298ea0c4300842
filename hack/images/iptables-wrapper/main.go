// Command iptables-wrapper picks the iptables backend (nft or legacy) that
// the host already uses, points the image's iptables commands at it, and
// runs the requested command. kube-proxy and flanneld images install it as
// iptables, iptables-save, iptables-restore and their ip6tables twins, the
// way upstream images do with kubernetes-sigs/iptables-wrappers.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const sbin = "/usr/sbin"

var commands = []string{
	"iptables", "iptables-save", "iptables-restore",
	"ip6tables", "ip6tables-save", "ip6tables-restore",
}

func main() {
	mode := detectMode()
	if err := install(mode); err != nil {
		fmt.Fprintf(os.Stderr, "iptables-wrapper: point iptables at %s: %v\n", mode, err)
		os.Exit(1)
	}
	// Run what was asked for through the freshly installed link.
	target := filepath.Join(sbin, filepath.Base(os.Args[0]))
	if err := syscall.Exec(target, os.Args, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "iptables-wrapper: exec %s: %v\n", target, err)
		os.Exit(1)
	}
}

// detectMode follows the upstream rule: the kubelet's hint chains decide;
// otherwise the backend holding more rules wins; nft when there are none.
func detectMode() string {
	for _, mode := range []string{"nft", "legacy"} {
		out := save(mode, "iptables", "-t", "mangle")
		if bytes.Contains(out, []byte("KUBE-IPTABLES-HINT")) || bytes.Contains(out, []byte("KUBE-KUBELET-CANARY")) {
			return mode
		}
	}
	nft := countRules(save("nft", "iptables")) + countRules(save("nft", "ip6tables"))
	legacy := countRules(save("legacy", "iptables")) + countRules(save("legacy", "ip6tables"))
	if legacy > nft {
		return "legacy"
	}
	return "nft"
}

func save(mode, family string, args ...string) []byte {
	out, _ := exec.Command(filepath.Join(sbin, family+"-"+mode+"-save"), args...).Output()
	return out
}

func countRules(out []byte) int {
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "-") {
			n++
		}
	}
	return n
}

// install replaces the wrapper links with links to the chosen backend.
func install(mode string) error {
	multi := "xtables-" + mode + "-multi"
	for _, c := range commands {
		link := filepath.Join(sbin, c)
		tmp := link + ".wrapper-tmp"
		os.Remove(tmp)
		if err := os.Symlink(multi, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, link); err != nil {
			return err
		}
	}
	return nil
}
