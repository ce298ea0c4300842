package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/phases"
	"github.com/edgeops/edgeops/pkg/report"
)

// Phase control (`up phase NAME`, `--skip-phases`): the names, the help
// and the validation all come from the phase list.

// runPhasesFunc runs a command's phases as sel picks them.
type runPhasesFunc func(cmd *cobra.Command, g *globalOptions, invPath string, rf *runFlags, sel phases.Selection) error

// phaseHelp lists a command's phases in run order for its --help.
func phaseHelp(parent string, list []phases.Phase) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Phases, in run order (`edgeops %s phase NAME` runs one, --skip-phases NAME,...\nskips some; connect, lock, facts and decide always run):\n", parent)
	width := 0
	for _, p := range phases.Describe(list) {
		width = max(width, len(p.Name))
	}
	for _, p := range phases.Describe(list) {
		note := ""
		switch {
		case p.AlwaysRuns:
			note = " [always runs]"
		case len(p.Needs) > 0:
			note = " [with " + strings.Join(p.Needs, ", ") + "]"
		}
		fmt.Fprintf(&b, "  %-*s  %s%s\n", width, p.Name, p.Description, note)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func addSkipPhasesFlag(cmd *cobra.Command, skip *[]string, list []phases.Phase) {
	names := phases.Skippable(list)
	cmd.Flags().StringSliceVar(skip, "skip-phases", nil, "phases to leave out, comma-separated: "+strings.Join(names, ", "))
	_ = cmd.RegisterFlagCompletionFunc("skip-phases", fixedCompletion(names...))
}

// selectPhases applies sel to list; a bad name is a usage error (exit 2),
// raised before the inventory is read or any host contacted.
func selectPhases(list []phases.Phase, sel phases.Selection) ([]phases.Phase, error) {
	out, err := phases.Select(list, sel)
	var se *phases.SelectionError
	if errors.As(err, &se) {
		return nil, usageError(err)
	}
	return out, err
}

// newPhaseCmd is `<command> phase NAME`: one subcommand per phase that can
// run alone, generated from list; it takes the command's own flags.
func newPhaseCmd(g *globalOptions, parent string, list []phases.Phase, run runPhasesFunc) *cobra.Command {
	names := phases.Selectable(list)
	cmd := &cobra.Command{
		Use:   "phase NAME",
		Short: "Run one phase of " + parent + " (plumbing and the phases it needs included)",
		Long: "phase runs one phase of " + parent + ": connect, lock, facts and decide run first as always,\n" +
			"then preflight (unless the phase changes nothing), the phases it needs, and the phase.\n\n" + phaseHelp(parent, list),
		Example: "  edgeops " + parent + " phase stage -i hosts.yaml",
		Args:    cobra.ArbitraryArgs,
		// `up phase bogus -i hosts.yaml` must say "unknown phase", not
		// "unknown flag -i": the subcommands own the flags.
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(fmt.Errorf("%s phase: name a phase: %s", parent, strings.Join(names, ", ")))
			}
			// A name with no subcommand: say why (plumbing, unknown), exit 2.
			_, err := selectPhases(list, phases.Selection{Only: args[0]})
			if err == nil {
				err = usageError(fmt.Errorf("%s phase %s takes no arguments, got %q", parent, args[0], args[1:]))
			}
			return err
		},
	}
	for _, p := range phases.Describe(list) {
		if !slices.Contains(names, p.Name) {
			continue
		}
		var invPath string
		var rf runFlags
		name := p.Name
		sub := &cobra.Command{
			Use:     name,
			Short:   p.Description,
			Example: "  edgeops " + parent + " phase " + name + " -i hosts.yaml",
			Args:    noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return run(cmd, g, invPath, &rf, phases.Selection{Only: name})
			},
		}
		addInventoryFlag(sub, &invPath)
		rf.add(sub)
		cmd.AddCommand(sub)
	}
	return cmd
}

// reportPartial says, after a run that left phases out, what ran and what
// is left to do.
func reportPartial(env *runEnv, s *phases.State, list []phases.Phase, command, inv string) {
	ran := phases.Ran(list)
	env.rep.Eventf("", "", report.EventInfo, "phases run: %s", strings.Join(ran, ", "))
	if phases.Unchanged(s) {
		env.rep.Eventf("", "", report.EventInfo, "nothing to do for these phases: no host was changed")
	}
	if slices.Contains(ran, "kubeconfig") {
		env.rep.Eventf("", "", report.EventInfo, "kubeconfig: %s (kubectl --kubeconfig %s get nodes)", env.cfg.Kubeconfig, env.cfg.Kubeconfig)
	}
	if phases.Pending(s, list) {
		env.rep.Eventf("", "", report.EventInfo, "not done yet (see DETAIL): finish with `edgeops %s -i %s` (all phases; what is done is skipped)", command, inv)
	}
}

// partialRows adds to the summary what a run that left phases out still
// has to do; not after a run that stopped, whose later phases never ran.
func partialRows(s *phases.State, list []phases.Phase, rows []report.Row, err error) []report.Row {
	var pe *phases.PartialError
	if err != nil && !errors.As(err, &pe) {
		return rows
	}
	return phases.PartialRows(s, list, rows)
}
