package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `completion prints a script that completes edgeops commands, flags, roles and
the host addresses of the -i inventory.`,
		Example: `  source <(edgeops completion bash)
  edgeops completion bash > /etc/bash_completion.d/edgeops
  edgeops completion zsh > "${fpath[1]}/_edgeops"
  edgeops completion fish > ~/.config/fish/completions/edgeops.fish`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(fmt.Errorf("completion: name one shell: bash, zsh, fish or powershell"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(out)
			}
			return usageError(fmt.Errorf("completion: unknown shell %q: expected bash, zsh, fish or powershell", args[0]))
		},
	}
}
