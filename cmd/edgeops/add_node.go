package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/inventory"
)

func newAddNodeCmd(g *globalOptions) *cobra.Command {
	var invPath, host, role string
	cmd := &cobra.Command{
		Use:   "add-node",
		Short: "Join one host of the inventory to the running cluster",
		Long: `add-node joins one host listed in the inventory to the cluster, with a fresh
join token minted on a master. --role overrides the role written in the
inventory for this host (the inventory is validated again with it).`,
		Example: `  edgeops add-node -i hosts.yaml --host 192.168.1.21
  edgeops add-node -i hosts.yaml --host edge-7.example.com --role edge
  edgeops add-node -i hosts.yaml --host 192.168.1.12 --role master`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if host == "" {
				return usageError(fmt.Errorf("add-node: --host ADDR is required (an address listed in the inventory)"))
			}
			if role != "" && !validRole(role) {
				return usageError(fmt.Errorf("add-node: --role %q: expected edge, worker or master", role))
			}
			inv, err := loadInventory(g, invPath)
			if err != nil {
				return err
			}
			h, ok := inv.Host(host)
			if !ok {
				return usageError(fmt.Errorf("add-node: host %s is not in %s; add it under hosts: first", host, inv.File))
			}
			if role != "" && inventory.Role(role) != h.Role {
				h.Role = inventory.Role(role)
				if err := inv.Validate(); err != nil {
					return err
				}
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			return notImplemented("add-node")
		},
	}
	addInventoryFlag(cmd, &invPath)
	cmd.Flags().StringVar(&host, "host", "", "address (or hostname) of the host to add, as listed in the inventory")
	cmd.Flags().StringVar(&role, "role", "", "role for the host: edge, worker or master (default: its role in the inventory)")
	_ = cmd.RegisterFlagCompletionFunc("host", hostCompletion(&invPath))
	_ = cmd.RegisterFlagCompletionFunc("role", fixedCompletion("edge", "worker", "master"))
	return cmd
}

func validRole(r string) bool {
	for _, v := range inventory.Roles() {
		if string(v) == r {
			return true
		}
	}
	return false
}
