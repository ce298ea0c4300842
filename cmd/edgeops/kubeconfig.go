package main

import (
	"github.com/spf13/cobra"
)

func newKubeconfigCmd(g *globalOptions) *cobra.Command {
	var invPath, file string
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Fetch the cluster's admin kubeconfig from the leader (written 0600)",
		Example: `  edgeops kubeconfig -i hosts.yaml
  edgeops kubeconfig -i hosts.yaml --file ~/.kube/edge.conf && kubectl --kubeconfig ~/.kube/edge.conf get nodes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inv, err := loadInventory(g, invPath)
			if err != nil {
				return err
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			return notImplemented("kubeconfig")
		},
	}
	addInventoryFlag(cmd, &invPath)
	cmd.Flags().StringVar(&file, "file", "", "where to write the kubeconfig, mode 0600 (default: <cluster name>.kubeconfig beside the inventory)")
	return cmd
}
