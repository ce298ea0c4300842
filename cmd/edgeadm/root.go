package main

import (
	"io"
	"strings"

	"github.com/spf13/cobra"
	kubeadmcmd "k8s.io/kubernetes/cmd/kubeadm/app/cmd"

	"github.com/edgeops/edgeops/pkg/agent"
)

// newRoot builds kubeadm's command tree and wraps init, join, reset and
// token create with edgeadm's phases and flags. Every kubeadm command and
// flag stays as kubeadm defines it.
func newRoot(in io.Reader, out, errOut io.Writer) (*cobra.Command, func()) {
	renamed := &renameWriter{w: out}
	root := kubeadmcmd.NewKubeadmCommand(in, renamed, errOut)
	root.Use = "edgeadm"
	root.Short = "edgeadm: kubeadm plus the edge: node preparation, offline install package, CNI and edge components"
	root.Long = strings.ReplaceAll(root.Long, "kubeadm", "edgeadm")
	root.Long = strings.ReplaceAll(root.Long, "KUBEADM", "EDGEADM")
	host := agent.NewHost(out)
	for _, c := range root.Commands() {
		switch c.Name() {
		case "init":
			wrapInit(c, host)
		case "join":
			wrapJoin(c, host)
		case "reset":
			wrapReset(c, host)
		case "version":
			wrapVersion(c, renamed)
		case "token":
			for _, sub := range c.Commands() {
				if sub.Name() == "create" {
					wrapTokenCreate(sub, host)
				}
			}
		}
	}
	root.AddCommand(newManifestsCmd(host))
	return root, renamed.Flush
}

// subcommand finds a child command by name.
func subcommand(c *cobra.Command, name string) *cobra.Command {
	for _, s := range c.Commands() {
		if s.Name() == name {
			return s
		}
	}
	return nil
}
