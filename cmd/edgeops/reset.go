package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/phases"
)

func newResetCmd(g *globalOptions) *cobra.Command {
	var (
		invPath     string
		all         bool
		hosts       []string
		edgeadmFlag string
	)
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Remove Kubernetes and everything edgeops installed from hosts",
		Long: `reset runs edgeadm reset on the chosen hosts and removes what edgeops staged
there (edgeadm, the install package, join information): with --all, every host
of the inventory (workers and edges first, then the other masters, the leader
last); with --host, only those hosts (repeat --host for several). A host that
cannot be reached is reported as NOT reset (exit status 3 when others were).
A cluster made without edgeops (edgeadm run by hand from elsewhere) is reset
too: edgeadm is staged first. Each host's result is checked (no kubelet,
no /etc/kubernetes left): a host that had nothing to undo says "clean".`,
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
			targets := inv.Hosts
			var only map[string]bool
			if !all {
				if targets, err = inv.HostsByAddress(hosts...); err != nil {
					return usageError(fmt.Errorf("reset: %w", err))
				}
				only = map[string]bool{}
				for _, h := range targets {
					only[h.Address] = true
				}
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			ctx, cancel := g.runContext(cmd.Context())
			defer cancel()
			env, err := newRunEnv(ctx, g, inv, "reset", nil)
			if err != nil {
				return err
			}
			defer env.close()
			env.cfg.Targets = only
			// A host with a cluster but no edgeadm (made by hand) gets one
			// staged to undo it; without one, only such hosts fail.
			if bin, tmp, err := edgeadmBinary(ctx, edgeadmFlag, env.cfg.Package); err == nil {
				env.cfg.EdgeadmBinary, env.tmp = bin, tmp
			}
			s := phases.NewState(env.cfg, resetOrder(inv, targets))
			err = phases.Run(ctx, s, phases.ResetPhases())
			return env.finish(s, "reset", phases.Rows(s, "NOT reset"), err, nil)
		},
	}
	addInventoryFlag(cmd, &invPath)
	cmd.Flags().BoolVar(&all, "all", false, "reset every host of the inventory")
	cmd.Flags().StringVar(&edgeadmFlag, "edgeadm-binary", "", "edgeadm to stage on hosts whose cluster was made without edgeops' edgeadm (default as for up)")
	cmd.Flags().StringArrayVar(&hosts, "host", nil, "address (or hostname) of a host to reset; repeat for several")
	_ = cmd.RegisterFlagCompletionFunc("host", hostCompletion(&invPath))
	return cmd
}

// resetOrder puts the inventory's leader first (the phases take the first
// master as the leader: reset last, and the one that deletes the other
// nodes' objects from the cluster), then the targets. With --host the leader
// is in the run to help even when it is not reset itself.
func resetOrder(inv *inventory.Inventory, targets []*inventory.Host) []*inventory.Host {
	l := inv.Leader()
	out := []*inventory.Host{l}
	for _, h := range targets {
		if h != l {
			out = append(out, h)
		}
	}
	return out
}
