package agent

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// chainPrefixes are the iptables chains kube-proxy, the CNI plugins and
// flannel create.
var chainPrefixes = []string{"KUBE-", "CNI-", "FLANNEL-"}

func ownChain(name string) bool {
	for _, p := range chainPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// StripChains removes from iptables-save output the chains kube-proxy and the
// CNI made and every rule in or jumping to them. It reports whether anything changed.
func StripChains(save string) (string, bool) {
	var out []string
	changed := false
	for _, l := range strings.Split(save, "\n") {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, ":") && len(f) > 0 && ownChain(strings.TrimPrefix(f[0], ":")):
			changed = true
			continue
		case strings.HasPrefix(l, "-A ") && len(f) > 1 && (ownChain(f[1]) || jumpsToOwn(f)):
			changed = true
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n"), changed
}

func jumpsToOwn(f []string) bool {
	for i := 0; i+1 < len(f); i++ {
		if (f[i] == "-j" || f[i] == "-g" || f[i] == "--jump" || f[i] == "--goto") && ownChain(f[i+1]) {
			return true
		}
	}
	return false
}

// iptablesVariants lists the iptables front ends on the host: legacy and nft
// rules are separate, and kube-proxy may have used either.
func iptablesVariants() []string {
	var v []string
	for _, fam := range []string{"iptables", "ip6tables"} {
		found := false
		for _, suffix := range []string{"-legacy", "-nft"} {
			if _, err := exec.LookPath(fam + suffix + "-save"); err == nil {
				v = append(v, fam+suffix)
				found = true
			}
		}
		if !found {
			if _, err := exec.LookPath(fam + "-save"); err == nil {
				v = append(v, fam)
			}
		}
	}
	return v
}

// CleanIptables removes kube-proxy's and the CNI's chains and rules.
func CleanIptables(ctx context.Context, h *Host) error {
	for _, v := range iptablesVariants() {
		save, err := h.Cmd.Run(ctx, v+"-save")
		if err != nil {
			h.Warnf("%s-save: %v", v, err)
			continue
		}
		stripped, changed := StripChains(save)
		if !changed {
			continue
		}
		if err := restore(ctx, v+"-restore", stripped); err != nil {
			return fmt.Errorf("remove kube-proxy/CNI chains with %s-restore: %w", v, err)
		}
		h.Logf("[reset] removed kube-proxy and CNI chains (%s)", v)
	}
	return nil
}

func restore(ctx context.Context, cmd, rules string) error {
	c := exec.CommandContext(ctx, cmd)
	c.Stdin = strings.NewReader(rules)
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
