package main

import (
	"github.com/spf13/cobra"
)

func newPlanCmd(g *globalOptions) *cobra.Command {
	var invPath string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what up would do to each host, without changing anything",
		Example: `  edgeops plan -i hosts.yaml
  edgeops plan -i hosts.yaml --output json | jq .`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inv, err := loadInventory(g, invPath)
			if err != nil {
				return err
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			return notImplemented("plan")
		},
	}
	addInventoryFlag(cmd, &invPath)
	return cmd
}
