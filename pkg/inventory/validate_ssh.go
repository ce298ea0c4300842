package inventory

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// ssh checks one ssh block: the file's defaults or a host's overrides.
func (v *validator) ssh(field string, s *SSH) {
	if s.User != "" && !userRE.MatchString(s.User) {
		v.fail(field+".user", s.User, "invalid", "a user name such as root or ubuntu")
	}
	v.port(field+".port", s.Port)
	v.identityFiles(field+".identityFiles", s.IdentityFiles)
	v.secretRef(field, s.PasswordEnv, s.PasswordFile)
	if s.HostKeyPolicy != "" && s.HostKeyPolicy != HostKeyStrict && s.HostKeyPolicy != HostKeyAcceptNew {
		v.fail(field+".hostKeyPolicy", string(s.HostKeyPolicy), "unknown policy", "strict (the default) or accept-new")
	}
	if s.KnownHosts != "" {
		v.knownHosts(field, s)
	}
	if s.Sudo != nil {
		v.secretRef(field+".sudo", s.Sudo.PasswordEnv, s.Sudo.PasswordFile)
	}
	b, path := s.Bastion, field+".bastion"
	for depth := 0; b != nil; b, path, depth = b.Bastion, path+".bastion", depth+1 {
		if depth == maxBastionDepth {
			v.fail(path, "", "bastion chain too long", fmt.Sprintf("at most %d jump hosts", maxBastionDepth))
			break
		}
		v.bastion(path, b)
	}
}

func (v *validator) knownHosts(field string, s *SSH) {
	st, err := os.Stat(s.KnownHosts)
	policy := s.HostKeyPolicy
	if policy == "" {
		policy = v.inv.SSH.HostKeyPolicy
	}
	switch {
	case err == nil && !st.Mode().IsRegular():
		v.fail(field+".knownHosts", s.KnownHosts, "not a regular file", "a known_hosts file")
	case err != nil && policy != HostKeyAcceptNew:
		v.fail(field+".knownHosts", s.KnownHosts, "file not found",
			"an existing known_hosts file with the hosts' keys (ssh-keyscan), or hostKeyPolicy: accept-new to record new keys")
	}
}

func (v *validator) bastion(field string, b *Bastion) {
	switch {
	case b.Address == "":
		v.fail(field+".address", "", "missing", "the jump host's IP address or DNS name")
	case !isHostAddress(b.Address):
		v.fail(field+".address", b.Address, "invalid", "an IP address or DNS name")
	}
	v.port(field+".port", b.Port)
	if b.User != "" && !userRE.MatchString(b.User) {
		v.fail(field+".user", b.User, "invalid", "a user name such as root or ubuntu")
	}
	v.identityFiles(field+".identityFiles", b.IdentityFiles)
	v.secretRef(field, b.PasswordEnv, b.PasswordFile)
}

func (v *validator) identityFiles(field string, files []string) {
	for i, f := range files {
		fi := fmt.Sprintf("%s[%d]", field, i)
		if strings.Contains(f, "PRIVATE KEY") {
			v.fail(fi, "", "a private key written in plain text is not allowed", "the path of a key file of mode 0600")
			continue
		}
		v.privateFile(fi, f)
	}
}

// secretRef checks passwordEnv/passwordFile under field: one of them, well formed, available now.
func (v *validator) secretRef(field, env, file string) {
	if env != "" && file != "" {
		v.fail(field+".passwordEnv", env, "both passwordEnv and passwordFile set", "one of them")
		return
	}
	if env != "" {
		if !envNameRE.MatchString(env) {
			v.fail(field+".passwordEnv", env, "invalid", "the name of an environment variable, such as EDGEOPS_SSH_PASSWORD")
		} else if val, ok := os.LookupEnv(env); !ok || val == "" {
			v.fail(field+".passwordEnv", env, "environment variable not set", "export "+env+" before running edgeops")
		}
	}
	if file != "" {
		v.privateFile(field+".passwordFile", file)
	}
}

func (v *validator) hosts() {
	inv := v.inv
	if len(inv.Hosts) == 0 {
		v.fail("hosts", "", "missing", "a list of hosts, at least one with role master")
		return
	}
	pod, _ := netip.ParsePrefix(inv.Cluster.PodCIDR)
	svc, _ := netip.ParsePrefix(inv.Cluster.ServiceCIDR)
	seenAddr := map[string]string{}
	seenName := map[string]string{}
	seenSudo := map[string]bool{} // field and user of a "root is needed" already reported
	masters := 0
	var noAuth []string
	for i, h := range inv.Hosts {
		f := fmt.Sprintf("hosts[%d]", i)
		if h == nil {
			v.fail(f, "", "empty host", "a mapping with at least address and role")
			continue
		}
		v.host(f, h, pod, svc)
		if h.Role == RoleMaster {
			masters++
		}
		for _, a := range []struct{ field, value string }{{".address", h.Address}, {".internalAddress", h.InternalAddress}} {
			if a.value == "" {
				continue
			}
			key := strings.ToLower(strings.TrimSuffix(a.value, "."))
			if ip, ok := addrOf(a.value); ok {
				key = ip.String()
			}
			if prev, dup := seenAddr[key]; dup && prev != f+".address" {
				v.fail(f+a.field, a.value, "duplicate address", fmt.Sprintf("each host once (already used at %s, line %d)", prev, v.c.lineOf(prev)))
				continue
			}
			seenAddr[key] = f + a.field
		}
		if h.Hostname != "" {
			key := strings.ToLower(h.Hostname)
			if prev, dup := seenName[key]; dup {
				v.fail(f+".hostname", h.Hostname, "duplicate hostname", fmt.Sprintf("a unique node name (already used at %s, line %d)", prev, v.c.lineOf(prev)))
			} else {
				seenName[key] = f + ".hostname"
			}
		}
		sc := inv.SSHConfig(h)
		if !sc.HasAuth() {
			noAuth = append(noAuth, f)
		}
		if !sc.Sudo && sc.User != "root" {
			field := "ssh.sudo.enabled"
			if h.SSH != nil && h.SSH.Sudo != nil && h.SSH.Sudo.Enabled != nil {
				field = f + ".ssh.sudo.enabled"
			}
			// The file's default is reported once, not once per host.
			if key := field + " " + sc.User; !seenSudo[key] {
				seenSudo[key] = true
				v.fail(field, "false", "root is needed",
					fmt.Sprintf("sudo enabled for user %s (edgeops installs Kubernetes: every step runs as root), or user: root", sc.User))
			}
		}
	}
	if masters == 0 {
		v.fail("hosts", "", "no host with role master", "at least one host with role: master")
	}
	v.authMissing(noAuth)
}

// authMissing reports hosts with no way to log in: once for the file when no host has one.
func (v *validator) authMissing(hosts []string) {
	const expected = "identityFiles: [PATH], useAgent: true, passwordEnv: VAR or passwordFile: PATH"
	if len(hosts) == 0 {
		return
	}
	if len(hosts) == len(v.inv.Hosts) && len(hosts) > 1 {
		v.fail("ssh", "", "no SSH authentication method for any host", expected+" (under ssh:)")
		return
	}
	for _, f := range hosts {
		v.fail(f+".ssh", "", "no SSH authentication method", expected+" (under ssh: or "+f+".ssh:)")
	}
}

func (v *validator) host(f string, h *Host, pod, svc netip.Prefix) {
	switch {
	case h.Address == "":
		v.fail(f+".address", "", "missing", "the IP address or DNS name edgeops connects to")
	case !isHostAddress(h.Address):
		v.fail(f+".address", h.Address, "invalid", "an IP address (such as 192.168.1.10) or DNS name")
	default:
		v.outsideClusterNets(f+".address", h.Address, pod, svc)
	}
	if h.InternalAddress != "" {
		if !isIP(h.InternalAddress) {
			v.fail(f+".internalAddress", h.InternalAddress, "invalid", "an IP address")
		} else {
			v.outsideClusterNets(f+".internalAddress", h.InternalAddress, pod, svc)
		}
	}
	switch {
	case h.Role == "":
		v.fail(f+".role", "", "missing", "one of master, edge, worker")
	case h.Role != RoleMaster && h.Role != RoleEdge && h.Role != RoleWorker:
		v.fail(f+".role", string(h.Role), "unknown role", "one of master, edge, worker")
	case h.Role == RoleEdge && !v.inv.Cluster.EdgeEnabled():
		v.fail(f+".role", string(h.Role), "edge host with cluster.enableEdge: false", "role worker, or cluster.enableEdge: true")
	}
	if h.Hostname != "" && !isDNSName(h.Hostname) {
		v.fail(f+".hostname", h.Hostname, "invalid", "a lower-case DNS name (RFC 1123), at most 253 characters")
	}
	if a := h.APIServerAdvertiseAddress; a != "" {
		switch {
		case h.Role != RoleMaster:
			v.fail(f+".apiserverAdvertiseAddress", a, "set on a "+string(h.Role)+" host", "only on hosts with role master")
		case !isIP(a):
			v.fail(f+".apiserverAdvertiseAddress", a, "invalid", "an IP address")
		default:
			v.outsideClusterNets(f+".apiserverAdvertiseAddress", a, pod, svc)
		}
	}
	v.port(f+".port", h.Port)
	if h.User != "" && !userRE.MatchString(h.User) {
		v.fail(f+".user", h.User, "invalid", "a user name such as root or ubuntu")
	}
	if h.Site != "" {
		switch zone, ok := h.Labels[ZoneLabel]; {
		case !isLabelValue(h.Site):
			v.fail(f+".site", h.Site, "invalid site name (it becomes the label "+ZoneLabel+")", "at most 63 letters, digits, '-', '_', '.', starting and ending alphanumeric, such as branch-12")
		case ok && zone != h.Site:
			v.fail(f+".labels."+ZoneLabel, zone, "contradicts "+f+".site "+h.Site, "one of them (site sets that label)")
		}
	}
	for k, val := range h.Labels {
		lf := f + ".labels." + k
		if !isQualifiedName(k) {
			v.fail(lf, k, "invalid label key", "[prefix/]name: letters, digits, '-', '_', '.', name at most 63")
		}
		if !isLabelValue(val) {
			v.fail(lf, val, "invalid label value", "at most 63 letters, digits, '-', '_', '.', starting and ending alphanumeric")
		}
	}
	for i, t := range h.Taints {
		tf := fmt.Sprintf("%s.taints[%d]", f, i)
		if !isQualifiedName(t.Key) {
			v.fail(tf+".key", t.Key, "invalid taint key", "[prefix/]name, such as node-role.kubernetes.io/edge")
		}
		if !isLabelValue(t.Value) {
			v.fail(tf+".value", t.Value, "invalid taint value", "at most 63 letters, digits, '-', '_', '.'")
		}
		if t.Effect != "NoSchedule" && t.Effect != "PreferNoSchedule" && t.Effect != "NoExecute" {
			v.fail(tf+".effect", t.Effect, "invalid taint effect", "NoSchedule, PreferNoSchedule or NoExecute")
		}
	}
	if h.SSH != nil {
		if h.Port != 0 && h.SSH.Port != 0 {
			v.fail(f+".ssh.port", fmt.Sprint(h.SSH.Port), "set twice (also "+f+".port)", "one of them")
		}
		if h.User != "" && h.SSH.User != "" {
			v.fail(f+".ssh.user", h.SSH.User, "set twice (also "+f+".user)", "one of them")
		}
		v.ssh(f+".ssh", h.SSH)
	}
}
