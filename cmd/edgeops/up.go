package main

import (
	"github.com/spf13/cobra"
)

func newUpCmd(g *globalOptions) *cobra.Command {
	var invPath string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create or complete the cluster described by the inventory",
		Long: `up validates the inventory, connects to every host, stages edgeadm and the
install package, initialises the leader, joins the other masters one at a
time and the edge/worker hosts in parallel batches, and fetches the admin
kubeconfig. A re-run after a failure finishes what is left.`,
		Example: `  edgeops up -i hosts.yaml
  edgeops up -i examples/ha.yaml --concurrency 20 --timeout 45m
  edgeops up -i hosts.yaml --output json > up.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inv, err := loadInventory(g, invPath)
			if err != nil {
				return err
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			return notImplemented("up")
		},
	}
	addInventoryFlag(cmd, &invPath)
	return cmd
}
