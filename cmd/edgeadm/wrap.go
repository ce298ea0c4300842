package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/edgeops/edgeops/pkg/agent"
)

// takeSkips removes edgeadm's phase names from --skip-phases (kubeadm's
// runner refuses names it does not know) and returns them.
func takeSkips(fs *pflag.FlagSet, own []agent.Phase) (map[string]bool, error) {
	f := fs.Lookup("skip-phases")
	if f == nil {
		return map[string]bool{}, nil
	}
	sv, ok := f.Value.(pflag.SliceValue)
	if !ok {
		return nil, fmt.Errorf("--skip-phases is not a list")
	}
	mine, theirs := agent.SplitSkips(sv.GetSlice(), own)
	if err := sv.Replace(theirs); err != nil {
		return nil, err
	}
	if len(theirs) == 0 {
		f.Changed = false
	}
	return mine, nil
}

// clearOwnFlags hides edgeadm's flags from kubeadm's check that refuses
// most flags next to --config.
func clearOwnFlags(fs *pflag.FlagSet) {
	for _, n := range agent.OwnFlagNames() {
		if f := fs.Lookup(n); f != nil {
			f.Changed = false
		}
	}
}

func flagString(fs *pflag.FlagSet, name string) string {
	if f := fs.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

func flagBool(fs *pflag.FlagSet, name string) bool {
	return flagString(fs, name) == "true"
}

// phaseNames lists phases for help texts.
func phaseNames(ps []agent.Phase) string {
	var n []string
	for _, p := range ps {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

// describePhases appends edgeadm's phases to a command's help.
func describePhases(c *cobra.Command, pre, post []agent.Phase) {
	var b strings.Builder
	b.WriteString("\nedgeadm runs its own phases around kubeadm's (each also under '" + c.Name() + " phase <name>', and skippable with --skip-phases):\n```\n")
	for _, p := range pre {
		fmt.Fprintf(&b, "%-22s before kubeadm: %s\n", p.Name, p.Short)
	}
	for _, p := range post {
		fmt.Fprintf(&b, "%-22s after kubeadm:  %s\n", p.Name, p.Short)
	}
	b.WriteString("```\n")
	c.Long += b.String()
}

// addPhaseCommands adds 'phase <name>' subcommands for edgeadm's phases.
// extra adds the kubeadm flags a phase reads (e.g. --image-repository).
func addPhaseCommands(c *cobra.Command, host *agent.Host, workflow string, phases []agent.Phase, newRun func(*pflag.FlagSet, *agent.Options) (*agent.Run, error), extra func(*pflag.FlagSet)) {
	phaseCmd := subcommand(c, "phase")
	if phaseCmd == nil {
		return
	}
	for _, p := range phases {
		opts := agent.NewOptions()
		sub := &cobra.Command{
			Use:   p.Name,
			Short: p.Short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				r, err := newRun(cmd.Flags(), opts)
				if err != nil {
					return err
				}
				_, err = agent.RunPhases(cmd.Context(), r, workflow, []agent.Phase{p}, nil)
				return err
			},
		}
		opts.AddFlags(sub.Flags())
		if workflow == "join" {
			opts.AddJoinFlags(sub.Flags())
		}
		if extra != nil {
			extra(sub.Flags())
		}
		phaseCmd.AddCommand(sub)
	}
}

// runKubeadm hands kubeadm the configuration edgeadm generated, runs it,
// then edgeadm's phases after it, and prints the time of each. The file
// holds the bootstrap token (and the certificate key): root-only, and
// removed once kubeadm is done with it.
func runKubeadm(ctx context.Context, cmd *cobra.Command, args []string, kubeadmRun func(*cobra.Command, []string) error,
	config []byte, r *agent.Run, post []agent.Phase, skips map[string]bool, preT []agent.Timing) error {
	host, workflow := r.Host, r.Workflow
	if err := host.WriteFile(agent.KubeadmConfigFile, config, 0o600); err != nil {
		return fmt.Errorf("%s: %w", workflow, err)
	}
	defer host.Remove(agent.KubeadmConfigFile)
	// Forget the flags now carried by the file, so kubeadm takes --config.
	if err := agent.ReplayChangedFlags(cmd); err != nil {
		return err
	}
	if err := cmd.Flags().Set("config", host.Path(agent.KubeadmConfigFile)); err != nil {
		return err
	}
	start := time.Now()
	if err := r.Progress.Time(kubeadmStep, func() error { return kubeadmRun(cmd, args) }); err != nil {
		return fmt.Errorf("%s: kubeadm: %w (run 'edgeadm reset --force' before trying again)", workflow, err)
	}
	kubeadmT := time.Since(start)
	postT, err := agent.RunPhases(ctx, r, workflow, post, skips)
	if err != nil {
		return err
	}
	printTimings(host, workflow, kubeadmT, preT, postT)
	return nil
}

// kubeadmStep names kubeadm's whole workflow in the progress protocol: its
// own phases run inside kubeadm's private runner.
const kubeadmStep = "kubeadm"

// printTimings ends a run with the time of each edgeadm phase.
func printTimings(host *agent.Host, workflow string, kubeadm time.Duration, ts ...[]agent.Timing) {
	var parts []string
	for _, t := range ts {
		for _, x := range t {
			if x.Skipped {
				parts = append(parts, x.Phase+"=skipped")
			} else {
				parts = append(parts, fmt.Sprintf("%s=%s", x.Phase, x.Duration.Round(time.Millisecond)))
			}
		}
	}
	parts = append(parts, fmt.Sprintf("kubeadm=%s", kubeadm.Round(time.Millisecond)))
	host.Logf("[%s] phase times: %s", workflow, strings.Join(parts, " "))
}

// ctxOf returns the command's context, never nil.
func ctxOf(c *cobra.Command) context.Context {
	if ctx := c.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
