package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/exitcode"
)

// globalOptions are the root's persistent flags, shared by every subcommand.
type globalOptions struct {
	Concurrency int
	Output      string // "text" or "json"
	Verbose     int
	Timeout     time.Duration

	stdout, stderr io.Writer
}

// JSON reports whether --output json was asked for.
func (g *globalOptions) JSON() bool { return g.Output == "json" }

// runContext applies --timeout to ctx.
func (g *globalOptions) runContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if g.Timeout > 0 {
		return context.WithTimeout(ctx, g.Timeout)
	}
	return context.WithCancel(ctx)
}

// run executes the command line and returns the exit status; main stays thin
// and tests can call it in process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globalOptions{Output: "text", stdout: stdout, stderr: stderr}
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	code := exitcode.Of(err)
	if err != nil && ctx.Err() != nil && code != exitcode.Config {
		code = exitcode.Interrupted
	}
	if err != nil {
		printError(g, err, code)
	}
	return code
}

func newRootCmd(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "edgeops",
		Short: "Bring up kubeadm-based edge Kubernetes clusters over SSH",
		Long: `edgeops reads an inventory (hosts.yaml), checks it, and drives the edgeadm
agent on every host over SSH, in parallel, to build a kubeadm cluster with
edge nodes. Exit status: 0 ok, 1 failure, 2 configuration or usage error
(nothing touched), 3 partial failure, 4 host locked by another run, 130 interrupted.`,
		Example: `  edgeops validate -i hosts.yaml
  edgeops up -i hosts.yaml
  edgeops add-node -i hosts.yaml --host 192.168.1.21 --role edge
  edgeops --output json plan -i hosts.yaml`,
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return g.check()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q for edgeops", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return usageError(fmt.Errorf("%s (see edgeops --help)", msg))
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SuggestionsMinimumDistance = 2
	root.SetHelpCommand(newHelpCmd())
	f := root.PersistentFlags()
	f.IntVar(&g.Concurrency, "concurrency", 0, "hosts worked on at once (0: the inventory's concurrency.limit, default 10)")
	f.StringVar(&g.Output, "output", "text", "output format: text or json (JSON lines)")
	f.CountVarP(&g.Verbose, "verbose", "v", "more detail (repeat for more: -vv)")
	f.DurationVar(&g.Timeout, "timeout", 0, "give up after this long, e.g. 30m (0: no limit)")
	_ = root.RegisterFlagCompletionFunc("output", fixedCompletion("text", "json"))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })

	root.AddCommand(
		newUpCmd(g),
		newAddNodeCmd(g),
		newResetCmd(g),
		newPlanCmd(g),
		newStatusCmd(g),
		newKubeconfigCmd(g),
		newValidateCmd(g),
		newVersionCmd(g),
		newCompletionCmd(),
		newBundleCmd(),
	)
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	}
	return root
}

// check validates the global flags before any command runs.
func (g *globalOptions) check() error {
	if g.Output != "text" && g.Output != "json" {
		return usageError(fmt.Errorf("--output %q: expected text or json", g.Output))
	}
	if g.Concurrency < 0 || g.Concurrency > 1000 {
		return usageError(fmt.Errorf("--concurrency %d: expected 0 (the inventory's) to 1000", g.Concurrency))
	}
	if g.Timeout < 0 {
		return usageError(fmt.Errorf("--timeout %s: expected a positive duration such as 30m", g.Timeout))
	}
	return nil
}

// usageError marks err as a configuration/usage error (exit status 2).
func usageError(err error) error { return exitcode.New(exitcode.Config, err) }

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Errorf("%s takes no arguments, got %q (see %s --help)", cmd.CommandPath(), args, cmd.CommandPath()))
	}
	return nil
}

func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// newHelpCmd replaces cobra's help command so that it, too, shows examples.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Example: `  edgeops help up
  edgeops help reset`,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, _, err := cmd.Root().Find(args)
			if err != nil || target == nil {
				return usageError(fmt.Errorf("help: unknown command %q (see edgeops --help)", strings.Join(args, " ")))
			}
			return target.Help()
		},
	}
}
