package agent

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// systemdResolvConf lists the real upstreams on hosts with systemd-resolved.
const systemdResolvConf = "/run/systemd/resolve/resolv.conf"

// Nameservers returns the nameserver addresses of a resolv.conf.
func Nameservers(resolvConf string) []string {
	var ns []string
	for _, l := range strings.Split(resolvConf, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "nameserver" {
			ns = append(ns, f[1])
		}
	}
	return ns
}

// OnlyLoopback reports whether every nameserver is a loopback address
// (Docker's 127.0.0.11, systemd-resolved's 127.0.0.53); true for none.
func OnlyLoopback(ns []string) bool {
	for _, n := range ns {
		if ip := net.ParseIP(n); ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// WithoutLoopback drops loopback nameservers from a resolv.conf.
func WithoutLoopback(resolvConf string) string {
	var out []string
	for _, l := range strings.Split(resolvConf, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "nameserver" {
			if ip := net.ParseIP(f[1]); ip != nil && ip.IsLoopback() {
				continue
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// KubeletResolvConfPhase gives the kubelet a resolv.conf without loopback
// nameservers when /etc/resolv.conf has only those: CoreDNS forwards to the
// kubelet's resolv.conf and would loop back to itself (plugin/loop).
func KubeletResolvConfPhase(_ context.Context, r *Run) error {
	data, err := r.Host.ReadFile("/etc/resolv.conf")
	if err != nil {
		return fmt.Errorf("read /etc/resolv.conf: %w", err)
	}
	if !OnlyLoopback(Nameservers(string(data))) {
		r.KubeletResolvConf = ""
		return r.Host.Remove(KubeletResolvConf)
	}
	source := "/etc/resolv.conf without its loopback nameservers"
	content := WithoutLoopback(string(data))
	if sd, err := r.Host.ReadFile(systemdResolvConf); err == nil && !OnlyLoopback(Nameservers(string(sd))) {
		source, content = systemdResolvConf, string(sd)
	}
	if len(Nameservers(content)) == 0 {
		r.Host.Warnf("/etc/resolv.conf has only loopback nameservers and no upstream is known: CoreDNS will have no upstream; give the host a resolv.conf with a real nameserver")
	} else {
		r.Host.Warnf("/etc/resolv.conf has only loopback nameservers (CoreDNS would loop); the kubelet gets %s from %s", KubeletResolvConf, source)
	}
	header := "# written by edgeadm: the kubelet's resolv.conf (" + source + ")\n"
	if err := r.Host.WriteFile(KubeletResolvConf, []byte(header+content), 0o644); err != nil {
		return err
	}
	r.KubeletResolvConf = KubeletResolvConf
	return nil
}
