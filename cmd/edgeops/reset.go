package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newResetCmd(g *globalOptions) *cobra.Command {
	var (
		invPath string
		all     bool
		hosts   []string
	)
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Remove Kubernetes and everything edgeops installed from hosts",
		Long: `reset runs edgeadm reset on the chosen hosts: with --all, every host of the
inventory (workers and edges first, then the other masters, the leader last);
with --host, only those hosts (repeat --host for several).`,
		Example: `  edgeops reset -i hosts.yaml --all
  edgeops reset -i hosts.yaml --host 192.168.1.21
  edgeops reset -i hosts.yaml --host 192.168.1.21 --host 192.168.1.22`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all == (len(hosts) > 0) {
				return usageError(fmt.Errorf("reset: give exactly one of --all or --host ADDR"))
			}
			inv, err := loadInventory(g, invPath)
			if err != nil {
				return err
			}
			if !all {
				if _, err := inv.HostsByAddress(hosts...); err != nil {
					return usageError(fmt.Errorf("reset: %w", err))
				}
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			return notImplemented("reset")
		},
	}
	addInventoryFlag(cmd, &invPath)
	cmd.Flags().BoolVar(&all, "all", false, "reset every host of the inventory")
	cmd.Flags().StringArrayVar(&hosts, "host", nil, "address (or hostname) of a host to reset; repeat for several")
	_ = cmd.RegisterFlagCompletionFunc("host", hostCompletion(&invPath))
	return cmd
}
