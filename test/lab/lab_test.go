package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/inventory"
)

const (
	testLab    = "edgeops-labtest"
	testSubnet = "172.28.10.0/24"
	gateway    = "172.28.10.1"
)

var hostIPs = []string{"172.28.10.11", "172.28.10.12"}

// lab drives scripts/lab for one test lab.
type lab struct {
	t      *testing.T
	script string
	dir    string
}

func (l *lab) env() []string {
	return append(os.Environ(), "LAB_NAME="+testLab, "LAB_SUBNET="+testSubnet, "LAB_DIR="+l.dir,
		"EDGEOPS_BUNDLE="+filepath.Join(l.dir, "bundle.tar.gz"))
}

// run runs scripts/lab with args and returns its combined output.
func (l *lab) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, l.script, args...)
	cmd.Env = l.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("scripts/lab %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (l *lab) must(ctx context.Context, args ...string) string {
	l.t.Helper()
	out, err := l.run(ctx, args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// ssh runs cmd on ip with plain OpenSSH, the lab key and strict host keys.
func (l *lab) ssh(ctx context.Context, ip, cmd string) (string, error) {
	c := exec.CommandContext(ctx, "ssh", "-i", filepath.Join(l.dir, "key"),
		"-o", "UserKnownHostsFile="+filepath.Join(l.dir, "known_hosts"), "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "root@"+ip, cmd)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	if err != nil {
		return out.String(), fmt.Errorf("host %s: ssh %q: %w: %s", ip, cmd, err, out.String())
	}
	return strings.TrimSpace(out.String()), nil
}

func (l *lab) mustSSH(ctx context.Context, ip, cmd string) string {
	l.t.Helper()
	out, err := l.ssh(ctx, ip, cmd)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// sshVia runs cmd on ip as user through the jump hosts (in order), with the
// lab key and strict host keys on every hop (a config file, since -J does not
// pass -o options on to the jumps), stdin fed to the command.
func (l *lab) sshVia(ctx context.Context, user string, jumps []string, ip, cmd, stdin string) (string, error) {
	conf := filepath.Join(l.dir, "ssh_config")
	body := fmt.Sprintf("Host *\n  IdentityFile %s\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n  LogLevel ERROR\n",
		filepath.Join(l.dir, "key"), filepath.Join(l.dir, "known_hosts"))
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return "", err
	}
	args := []string{"-F", conf}
	if len(jumps) > 0 {
		hops := make([]string, len(jumps))
		for i, j := range jumps {
			hops[i] = user + "@" + j
		}
		args = append(args, "-J", strings.Join(hops, ","))
	}
	c := exec.CommandContext(ctx, "ssh", append(args, user+"@"+ip, cmd)...)
	c.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return out.String(), fmt.Errorf("host %s as %s via %v: ssh %q: %w: %s", ip, user, jumps, cmd, err, out.String())
	}
	return strings.TrimSpace(out.String()), nil
}

var rttRE = regexp.MustCompile(`rtt min/avg/max/mdev = ([0-9.]+)/([0-9.]+)/`)

// minRTT pings to from host from and returns the smallest RTT seen.
func (l *lab) minRTT(ctx context.Context, from, to string) (time.Duration, error) {
	out, err := l.ssh(ctx, from, "ping -n -q -c 10 -i 0.2 -W 2 "+to)
	m := rttRE.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("ping %s from %s: no reply: %v", to, from, err)
	}
	ms, perr := strconv.ParseFloat(m[1], 64)
	if perr != nil {
		return 0, perr
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

// checkInventory loads the lab's hosts.yaml with the real inventory loader:
// it must validate and describe the lab's hosts with the given roles.
func checkInventory(t *testing.T, dir string, roles []inventory.Role) {
	t.Helper()
	inv, err := inventory.Load(filepath.Join(dir, "hosts.yaml"))
	if err != nil {
		t.Fatalf("hosts.yaml does not validate: %v", err)
	}
	if len(inv.Hosts) != len(roles) {
		t.Fatalf("hosts.yaml has %d hosts, want %d", len(inv.Hosts), len(roles))
	}
	for i, h := range inv.Hosts {
		if h.Address != hostIPs[i] || h.Role != roles[i] {
			t.Errorf("hosts[%d] = %s %s, want %s %s", i, h.Address, h.Role, hostIPs[i], roles[i])
		}
	}
	want := []struct{ field, got, want string }{
		{"cluster.containerRuntime.runtimeBinary", inv.Cluster.ContainerRuntime.RuntimeBinary, "/usr/local/sbin/runc-lab"},
		{"cluster.installPackage.path", inv.Cluster.InstallPackage.Path, filepath.Join(dir, "bundle.tar.gz")},
		{"ssh.user", inv.SSH.User, "root"},
		{"ssh.identityFiles", strings.Join(inv.SSH.IdentityFiles, ","), filepath.Join(dir, "key")},
		{"ssh.knownHosts", inv.SSH.KnownHosts, filepath.Join(dir, "known_hosts")},
		{"ssh.hostKeyPolicy", string(inv.SSH.HostKeyPolicy), string(inventory.HostKeyStrict)},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("hosts.yaml %s = %q, want %q", w.field, w.got, w.want)
		}
	}
}

func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root (privileged containers, iptables); run the tests as root")
	}
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client (apt-get install openssh-client)")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	l := &lab{t: t, script: filepath.Join(root, "scripts", "lab"), dir: t.TempDir()}
	// hosts.yaml names an install package; the loader wants the file to exist.
	if err := os.WriteFile(filepath.Join(l.dir, "bundle.tar.gz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := l.run(ctx, "ensure-docker"); err != nil {
		t.Skipf("no Docker engine can run here, so no lab hosts: %v", strings.TrimSpace(out))
	}
	return l
}

func TestLab(t *testing.T) {
	l := newLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer ccancel()
		_, _ = l.run(cctx, "down")
	})
	// A leftover from an interrupted run must not decide anything.
	l.must(ctx, "down")
	l.must(ctx, "up", "2")

	t.Run("hosts are separate machines", func(t *testing.T) {
		seen := map[string]string{}
		marker := fmt.Sprintf("/root/lab-test-%d", time.Now().UnixNano())
		l.mustSSH(ctx, hostIPs[0], "touch "+marker)
		for i, ip := range hostIPs {
			checks := []struct{ name, cmd, want string }{
				{"systemd is PID 1 and running", "systemctl is-system-running", "running"},
				{"own address", "ip -4 -o addr show dev eth0 | awk '{print $4}'", ip + "/24"},
				{"nameserver inside the lab", "awk '/^nameserver/ {print $2}' /etc/resolv.conf", gateway},
				{"runc wrapper", "test -x /usr/local/sbin/runc-lab && echo ok", "ok"},
				{"containerd volume", "findmnt -n -o TARGET /var/lib/containerd", "/var/lib/containerd"},
				{"own filesystem", "test -e " + marker + " && echo present || echo absent", map[bool]string{true: "present", false: "absent"}[i == 0]},
			}
			for _, c := range checks {
				if got := l.mustSSH(ctx, ip, c.cmd); got != c.want {
					t.Errorf("host %s: %s: %q gave %q, want %q", ip, c.name, c.cmd, got, c.want)
				}
			}
			name := l.mustSSH(ctx, ip, "hostname")
			if other, dup := seen[name]; dup {
				t.Errorf("hosts %s and %s share the hostname %q", other, ip, name)
			}
			seen[name] = ip
			mid := l.mustSSH(ctx, ip, "cat /etc/machine-id")
			if other, dup := seen["machine-id "+mid]; dup || len(mid) != 32 {
				t.Errorf("host %s: machine-id %q is not unique (also %s) or malformed", ip, mid, other)
			}
			seen["machine-id "+mid] = ip
		}
		checkInventory(t, l.dir, []inventory.Role{inventory.RoleMaster, inventory.RoleEdge})
		if st, err := os.Stat(filepath.Join(l.dir, "key")); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("lab key: %v, mode %v, want 0600", err, st.Mode().Perm())
		}
	})

	t.Run("up is idempotent", func(t *testing.T) {
		before := l.mustSSH(ctx, hostIPs[1], "cat /proc/1/stat | cut -d' ' -f22") // PID 1's start time
		l.must(ctx, "up", "2", "--roles", "master,worker")
		checkInventory(t, l.dir, []inventory.Role{inventory.RoleMaster, inventory.RoleWorker})
		if after := l.mustSSH(ctx, hostIPs[1], "cat /proc/1/stat | cut -d' ' -f22"); after != before {
			t.Errorf("a second 'up 2' rebooted host %s (PID 1 start %s -> %s)", hostIPs[1], before, after)
		}
	})

	t.Run("traffic leaving the lab is dropped", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, "iptables", "-w", "-S", "DOCKER-USER").CombinedOutput()
		if err != nil {
			t.Fatalf("iptables -S DOCKER-USER: %v: %s", err, out)
		}
		re := regexp.MustCompile(`-A DOCKER-USER -i (br-\S+) ! -o (br-\S+) -m comment --comment "?edgeops-lab:` + testLab + `:isolate"? -j DROP`)
		if m := re.FindStringSubmatch(string(out)); m == nil || m[1] != m[2] {
			t.Errorf("no isolation rule for lab %s in DOCKER-USER:\n%s", testLab, out)
		}
		// This machine (the gateway) stays reachable.
		if _, err := l.minRTT(ctx, hostIPs[0], gateway); err != nil {
			t.Errorf("the lab gateway is not reachable: %v", err)
		}
	})

	t.Run("kill and start", func(t *testing.T) {
		l.must(ctx, "kill", "2")
		if out, err := l.ssh(ctx, hostIPs[1], "true"); err == nil {
			t.Fatalf("killed host %s still answers ssh: %s", hostIPs[1], out)
		}
		l.must(ctx, "start", hostIPs[1])
		if got := l.mustSSH(ctx, hostIPs[1], "systemctl is-system-running --wait"); got != "running" {
			t.Errorf("restarted host: systemd %q, want running", got)
		}
	})

	t.Run("cut and heal", func(t *testing.T) {
		if _, err := l.minRTT(ctx, hostIPs[0], hostIPs[1]); err != nil {
			t.Fatalf("before cut: %v", err)
		}
		l.must(ctx, "cut", testLab+"-2")
		if out, err := l.ssh(ctx, hostIPs[0], "timeout 3 bash -c '</dev/tcp/"+hostIPs[1]+"/22' && echo connected || echo timeout"); err != nil || out != "timeout" {
			t.Errorf("cut host %s: a TCP connect from %s gave %q (%v), want a timeout", hostIPs[1], hostIPs[0], out, err)
		}
		if out, err := l.ssh(ctx, hostIPs[1], "ping -n -c 2 -W 1 "+hostIPs[0]+" >/dev/null && echo reached || echo lost"); err != nil || out != "lost" {
			t.Errorf("cut host %s reached %s: %q (%v)", hostIPs[1], hostIPs[0], out, err)
		}
		if _, err := l.ssh(ctx, hostIPs[1], "true"); err != nil {
			t.Errorf("ssh from this machine to the cut host must still work: %v", err)
		}
		l.must(ctx, "heal", "2")
		if _, err := l.minRTT(ctx, hostIPs[0], hostIPs[1]); err != nil {
			t.Errorf("after heal: %v", err)
		}
	})

	t.Run("slow", func(t *testing.T) {
		base, err := l.minRTT(ctx, hostIPs[0], hostIPs[1])
		if err != nil {
			t.Fatal(err)
		}
		l.must(ctx, "slow", "2", "edge")
		slowed, err := l.minRTT(ctx, hostIPs[0], hostIPs[1])
		if err != nil {
			t.Fatal(err)
		}
		// edge adds 40 ms to every packet the host sends and 40 ms to every
		// packet it receives: a round trip from another host rises by 80 ms.
		// (Not pinged from the slowed host: ping stamps a reply when it reaches
		// eth0, before the inbound delay in the host's PREROUTING.)
		if rise := slowed - base; rise < 78*time.Millisecond || rise > 130*time.Millisecond {
			t.Errorf("slow edge: RTT %v -> %v (rise %v), want a rise of about 80ms", base, slowed, rise)
		}
		t.Logf("RTT %v -> %v with profile edge", base, slowed)
		l.must(ctx, "slow", "2", "clear")
		cleared, err := l.minRTT(ctx, hostIPs[0], hostIPs[1])
		if err != nil {
			t.Fatal(err)
		}
		if cleared > base+20*time.Millisecond {
			t.Errorf("slow clear: RTT %v, want back near %v", cleared, base)
		}

		// The rate holds both ways: 2 MiB take at least 2.1 s at 8 Mbit/s,
		// to the host (tbf on its veth peer here) and from it (tbf in the host).
		l.must(ctx, "slow", "2", "5ms/8mbit/0")
		for _, toHost := range []bool{true, false} {
			rate, err := l.transferRate(ctx, hostIPs[1], 2<<20, toHost)
			if err != nil {
				t.Fatal(err)
			}
			if rate > 8.8 {
				t.Errorf("slow 5ms/8mbit/0: %.1f Mbit/s (to the host: %v), want at most 8 Mbit/s and a margin", rate, toHost)
			}
			t.Logf("slow 5ms/8mbit/0: %.1f Mbit/s (to the host: %v)", rate, toHost)
		}
		l.must(ctx, "slow", "2", "clear")
	})

	t.Run("users and a bastion chain", func(t *testing.T) {
		l.must(ctx, "up", "3")
		third := "172.28.10.13"
		l.must(ctx, "users")
		pw, err := os.ReadFile(filepath.Join(l.dir, "ops.password"))
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(filepath.Join(l.dir, "ops.password")); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("ops.password: %v, mode %v, want 0600", err, st.Mode().Perm())
		}
		l.must(ctx, "bastion", "2", "3")
		chain := []string{hostIPs[1], third}
		direct := []struct {
			ip   string
			want bool
		}{{hostIPs[0], false}, {hostIPs[1], true}, {third, false}}
		for _, d := range direct {
			_, err := l.sshVia(ctx, "ops", nil, d.ip, "true", "")
			if (err == nil) != d.want {
				t.Errorf("direct ssh to %s: err %v, want reachable=%v", d.ip, err, d.want)
			}
		}
		if _, err := l.sshVia(ctx, "ops", chain[:1], hostIPs[0], "true", ""); err == nil {
			t.Errorf("host %s answered through the first bastion alone, around the second", hostIPs[0])
		}
		sudo := []struct {
			name, user, cmd, stdin, want string
			ok                           bool
		}{
			{"ops with its password", "ops", "sudo -S -k -p '' id -u", string(pw) + "\n", "0", true},
			{"ops without a password", "ops", "sudo -n id -u", "", "", false},
			{"ops with a wrong password", "ops", "sudo -S -k -p '' id -u", "wrong\n", "", false},
			{"opsnp without a password", "opsnp", "sudo -n id -u", "", "0", true},
		}
		for _, c := range sudo {
			out, err := l.sshVia(ctx, c.user, chain, hostIPs[0], c.cmd, c.stdin)
			if (err == nil) != c.ok || (c.ok && out != c.want) {
				t.Errorf("%s through %v: %q, %v; want ok=%v output %q", c.name, chain, out, err, c.ok, c.want)
			}
		}
		// A restarted host comes back fenced.
		l.must(ctx, "kill", "1")
		l.must(ctx, "start", "1")
		if _, err := l.sshVia(ctx, "ops", nil, hostIPs[0], "true", ""); err == nil {
			t.Errorf("restarted host %s answers ssh around the bastions", hostIPs[0])
		}
		l.must(ctx, "bastion", "clear")
		for _, ip := range []string{hostIPs[0], third} {
			if _, err := l.ssh(ctx, ip, "true"); err != nil {
				t.Errorf("after bastion clear: %v", err)
			}
		}
	})

	t.Run("down leaves nothing", func(t *testing.T) {
		l.must(ctx, "slow", "1", "edge") // down must also undo faults
		l.must(ctx, "cut", "1")
		delayers := l.delayerPIDs(t)
		if len(delayers) != 2 {
			t.Errorf("slow edge: %d delayers running (%v), want 2 (outbound here, inbound in the host)", len(delayers), delayers)
		}
		l.must(ctx, "down")
		for _, pid := range delayers {
			if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(cmdline, []byte("lab-netem")) {
				t.Errorf("after down, the delayer %d still runs", pid)
			}
		}
		for _, c := range [][]string{
			{"docker", "ps", "-aq", "--filter", "label=edgeops.lab=" + testLab},
			{"docker", "network", "ls", "-q", "--filter", "label=edgeops.lab=" + testLab},
			{"docker", "volume", "ls", "-q", "--filter", "label=edgeops.lab=" + testLab},
		} {
			out, err := exec.CommandContext(ctx, c[0], c[1:]...).CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) != 0 {
				t.Errorf("after down, %s: %q (%v), want nothing", strings.Join(c, " "), out, err)
			}
		}
		for _, table := range []string{"filter", "mangle"} {
			out, _ := exec.CommandContext(ctx, "iptables", "-w", "-t", table, "-S").CombinedOutput()
			if strings.Contains(string(out), "edgeops-lab:"+testLab+":") {
				t.Errorf("after down, iptables %s still has rules of lab %s:\n%s", table, testLab, out)
			}
		}
	})
}
