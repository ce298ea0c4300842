package main

import (
	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/phases"
)

func newPlanCmd(g *globalOptions) *cobra.Command {
	var invPath string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what up would do to each host, without changing anything",
		Long: `plan connects to every host, reads its facts and the cluster's state, runs
the preflight checks, and prints what up would do on each host (init, join,
reset and join, or nothing) with the exact edgeadm command lines. It changes
nothing: no lock is taken, nothing is staged.`,
		Example: `  edgeops plan -i hosts.yaml
  edgeops plan -i hosts.yaml --output json | jq .`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inv, err := loadInventoryToInstall(g, invPath)
			if err != nil {
				return err
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			ctx, cancel := g.runContext(cmd.Context())
			defer cancel()
			env, err := newRunEnv(ctx, g, inv, "plan", nil)
			if err != nil {
				return err
			}
			defer env.close()
			s := phases.NewState(env.cfg, inv.Hosts)
			err = phases.Run(ctx, s, phases.PlanPhases())
			return env.finish(s, "plan", phases.Plan(s, phases.UpPhases()), err, nil)
		},
	}
	addInventoryFlag(cmd, &invPath)
	return cmd
}
