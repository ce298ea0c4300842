package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/inventory"
)

func newValidateCmd(g *globalOptions) *cobra.Command {
	var invPath string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the inventory and print every problem; touches no host",
		Long: `validate loads the inventory, applies the defaults and checks everything
that can be checked without a network: exit status 0 when it is valid, 2 with
every problem listed (file, line, field path, bad value, what is expected).`,
		Example: `  edgeops validate -i hosts.yaml
  edgeops validate -i hosts.yaml --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inv, err := loadInventoryToInstall(g, invPath)
			if err != nil {
				return err
			}
			if g.JSON() {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(validateResult(inv))
			}
			fmt.Fprintln(cmd.OutOrStdout(), summary(inv))
			for _, h := range inv.Hosts {
				s := inv.SSHConfig(h)
				via := ""
				for _, j := range s.Jumps {
					via += " via " + j.User + "@" + j.Addr()
				}
				fmt.Fprintf(cmd.OutOrStdout(), "  %-7s %s@%s%s\n", h.Role, s.User, s.Addr(), via)
			}
			return nil
		},
	}
	addInventoryFlag(cmd, &invPath)
	return cmd
}

type hostResult struct {
	Address string              `json:"address"`
	Role    inventory.Role      `json:"role"`
	SSH     inventory.SSHConfig `json:"ssh"`
}

func validateResult(inv *inventory.Inventory) any {
	hosts := make([]hostResult, 0, len(inv.Hosts))
	for _, h := range inv.Hosts {
		hosts = append(hosts, hostResult{Address: h.Address, Role: h.Role, SSH: inv.SSHConfig(h)})
	}
	return struct {
		Level                string       `json:"level"`
		Kind                 string       `json:"kind"`
		Valid                bool         `json:"valid"`
		File                 string       `json:"file"`
		Cluster              string       `json:"cluster"`
		KubernetesVersion    string       `json:"kubernetesVersion"`
		ControlPlaneEndpoint string       `json:"controlPlaneEndpoint"`
		Hosts                []hostResult `json:"hosts"`
	}{"info", "validate", true, inv.File, inv.Cluster.Name, inv.Cluster.KubernetesVersion, inv.ControlPlaneEndpoint(), hosts}
}
