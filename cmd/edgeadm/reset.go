package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/agent"
)

// wrapReset runs kubeadm's reset (when kubeadm left anything) and then
// removes everything edgeadm installed. A second reset changes nothing.
func wrapReset(c *cobra.Command, host *agent.Host) {
	kubeadmRun := c.RunE
	c.Long = c.Short + "; then removes what edgeadm installed (units, binaries, containerd state, CNI interfaces and config, kube-proxy and CNI iptables chains, package files).\n\n" + c.Long
	c.Short = "Revert 'edgeadm init' or 'edgeadm join' on this host, and remove what edgeadm installed"
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if agent.NeedsKubeadmReset(host) {
			if err := kubeadmRun(cmd, args); err != nil {
				return fmt.Errorf("reset: kubeadm: %w", err)
			}
		} else {
			host.Logf("[reset] kubeadm left nothing on this host; skipping kubeadm's reset")
		}
		if err := agent.Reset(ctxOf(cmd), host); err != nil {
			return fmt.Errorf("reset: remove what edgeadm installed: %w", err)
		}
		host.Logf("[reset] done: edgeadm, containerd, the kubelet and the CNI are gone from this host")
		return nil
	}
}
