//go:build e2e

package agent

import (
	"context"
	"strings"
)

// snapshotScript lists what a host's state is made of: files (paths, and
// the content of /etc), the containerd volume, unit files, enabled and
// running services, iptables rules, network links and mounts. Volatile
// parts that change by themselves (journal, ssh sessions, apt/dpkg, the
// staged package) are left out.
const snapshotScript = `
echo '## files'
find /etc /usr /opt /var/lib /root /srv -xdev \( -path /var/lib/systemd -o -path /var/lib/apt -o -path /var/lib/dpkg \
  -o -path /var/lib/edgeops -o -path /root/.ssh -o -path /var/lib/private \) -prune -o -print 2>/dev/null | sort
echo '## /etc content'
find /etc -xdev -type f -exec md5sum {} + 2>/dev/null | sort -k2
echo '## containerd volume'
find /var/lib/containerd 2>/dev/null | sort
echo '## unit files'
systemctl list-unit-files --no-legend --no-pager | awk '{print $1, $2}' | sort
echo '## running services'
systemctl list-units --type=service --state=running --no-legend --no-pager --plain | awk '{print $1}' | grep -v '^user@' | sort
echo '## iptables'
for t in filter nat mangle raw; do echo "# $t"; iptables -t $t -S 2>/dev/null; done
for t in filter nat mangle raw; do echo "# ip6 $t"; ip6tables -t $t -S 2>/dev/null; done
echo '## links'
ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
echo '## mounts'
findmnt -rn -o TARGET | grep -v '^/run/user' | sort
`

func (l *lab) snapshot(ctx context.Context, host string) string {
	l.t.Helper()
	return l.must(ctx, host, snapshotScript)
}

// diffLines returns the lines only in a and only in b.
func diffLines(a, b string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		count[l]--
	}
	for _, l := range strings.Split(a, "\n") {
		if count[l] > 0 {
			onlyA = append(onlyA, l)
			count[l]--
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if count[l] < 0 {
			onlyB = append(onlyB, l)
			count[l]++
		}
	}
	return onlyA, onlyB
}

// assertClean compares a host's state after reset with the one before init.
func (l *lab) assertClean(ctx context.Context, host, before, when string) {
	l.t.Helper()
	after := l.snapshot(ctx, host)
	gone, extra := diffLines(before, after)
	if len(gone) > 0 || len(extra) > 0 {
		l.t.Errorf("host %s %s: state differs from before init\nmissing now:\n  %s\nleft behind:\n  %s",
			host, when, strings.Join(gone, "\n  "), strings.Join(extra, "\n  "))
	}
}
