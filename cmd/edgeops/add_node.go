package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/phases"
	"github.com/edgeops/edgeops/pkg/report"
)

func newAddNodeCmd(g *globalOptions) *cobra.Command {
	var invPath, host, role string
	var rf runFlags
	var skip []string
	cmd := &cobra.Command{
		Use:   "add-node",
		Short: "Join one host to the running cluster",
		Long: `add-node joins one host to the cluster with fresh join information minted on
the leader (edgeadm token create; a master also gets a new certificate key).
The host is taken from the inventory, or given only on the command line
(--host with --role; it then uses the inventory's ssh defaults)
— add it to the inventory afterwards so later runs know it. --role overrides
the role written in the inventory for this host.`,
		Example: `  edgeops add-node -i hosts.yaml --host 192.168.1.21
  edgeops add-node -i hosts.yaml --host 192.168.1.30 --role edge
  edgeops add-node -i hosts.yaml --host 192.168.1.12 --role master`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if host == "" {
				return usageError(fmt.Errorf("add-node: --host ADDR is required"))
			}
			if role != "" && !validRole(role) {
				return usageError(fmt.Errorf("add-node: --role %q: expected edge, worker or master", role))
			}
			sel := phases.Selection{Skip: skip}
			list, err := selectPhases(phases.AddNodePhases(), sel)
			if err != nil {
				return err
			}
			inv, err := loadInventoryToInstall(g, invPath)
			if err != nil {
				return err
			}
			h, listed := inv.Host(host)
			if !listed {
				if role == "" {
					return usageError(fmt.Errorf("add-node: host %s is not in %s; add it under hosts:, or give --role to add it from the command line", host, inv.File))
				}
				h = &inventory.Host{Address: host}
				inv.Hosts = append(inv.Hosts, h)
			}
			if role != "" {
				h.Role = inventory.Role(role)
			}
			if role != "" || !listed {
				if err := inv.Validate(); err != nil {
					return err
				}
			}
			if h == inv.Leader() {
				return usageError(fmt.Errorf("add-node: %s is the leader; use edgeops up", host))
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			ctx, cancel := g.runContext(cmd.Context())
			defer cancel()
			env, err := newRunEnv(ctx, g, inv, "add-node", &rf)
			if err != nil {
				return err
			}
			defer env.close()
			// The masters only help: the leader (the first master, or another
			// of the cluster's when it is down) mints the join information.
			// The summary and the exit status are about h.
			env.cfg.Targets = map[string]bool{h.Address: true}
			s := phases.NewState(env.cfg, append(othersThan(inv.Masters(), h), h))
			err = phases.Run(ctx, s, list)
			rows := phases.Rows(s, "failed")
			if sel.Partial() {
				rows = partialRows(s, list, rows, err)
			}
			return env.finish(s, "add-node", rows, err, func() {
				if sel.Partial() {
					reportPartial(env, s, list, "add-node", inv.File)
				}
				if !listed {
					env.rep.Eventf(h.Address, "", report.EventWarning,
						"%s is not in %s: add it under hosts: (- address: %s, role: %s) so later runs know it", h.Address, inv.File, h.Address, h.Role)
				}
			})
		},
	}
	addInventoryFlag(cmd, &invPath)
	rf.add(cmd)
	addSkipPhasesFlag(cmd, &skip, phases.AddNodePhases())
	cmd.Flags().StringVar(&host, "host", "", "address of the host to add (listed in the inventory, or new)")
	cmd.Flags().StringVar(&role, "role", "", "role for the host: edge, worker or master (default: its role in the inventory; required for a host not in it)")
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

// othersThan is hosts without h.
func othersThan(hosts []*inventory.Host, h *inventory.Host) []*inventory.Host {
	var out []*inventory.Host
	for _, x := range hosts {
		if x != h {
			out = append(out, x)
		}
	}
	return out
}
