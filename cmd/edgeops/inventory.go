package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/exitcode"
	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/report"
)

// addInventoryFlag adds -i/--inventory to a command that reads one.
func addInventoryFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVarP(path, "inventory", "i", "hosts.yaml", "inventory file (hosts.yaml)")
	_ = cmd.MarkFlagFilename("inventory", "yaml", "yml")
}

// loadInventory loads and validates the inventory and applies --concurrency.
// It opens no network connection; every problem is returned at once.
func loadInventory(g *globalOptions, path string) (*inventory.Inventory, error) {
	inv, err := inventory.Load(path)
	if err != nil {
		return nil, err // a *inventory.ValidationError: exit status 2
	}
	if g.Concurrency > 0 {
		inv.Concurrency.Limit = g.Concurrency
	}
	return inv, nil
}

// loadInventoryToInstall is loadInventory for the commands that install
// (validate, plan, up, add-node): a local package must also carry the
// inventory's Kubernetes version, checked before any host is contacted.
func loadInventoryToInstall(g *globalOptions, path string) (*inventory.Inventory, error) {
	inv, err := loadInventory(g, path)
	if err != nil {
		return nil, err
	}
	if err := inv.CheckPackage(); err != nil {
		return nil, err // a *inventory.ValidationError: exit status 2
	}
	return inv, nil
}

// summary is a one-line description of a loaded inventory.
func summary(inv *inventory.Inventory) string {
	counts := []string{}
	for _, r := range inventory.Roles() {
		if n := len(inv.WithRole(r)); n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, r))
		}
	}
	leader := "none"
	if l := inv.Leader(); l != nil {
		leader = l.Address
	}
	return fmt.Sprintf("inventory %s: cluster %q, Kubernetes %s, %d host(s) (%s), leader %s, API endpoint %s",
		inv.File, inv.Cluster.Name, inv.Cluster.KubernetesVersion, len(inv.Hosts),
		strings.Join(counts, ", "), leader, inv.ControlPlaneEndpoint())
}

// logSummary tells the user the inventory is valid (stderr in text mode;
// JSON mode keeps stdout for JSON lines only).
func logSummary(g *globalOptions, w io.Writer, inv *inventory.Inventory) {
	if !g.JSON() {
		for _, l := range report.WrapFor(w, summary(inv)) {
			fmt.Fprintln(w, l)
		}
	}
}

// notImplemented ends a command whose orchestration has not landed yet.
func notImplemented(command string) error {
	return exitcode.New(exitcode.Failure,
		fmt.Errorf("%s: not implemented yet (the orchestration in pkg/phases has not landed); the inventory is valid", command))
}

// hostCompletion completes --host with the addresses in the -i inventory.
func hostCompletion(path *string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		inv, _ := inventory.Load(*path)
		if inv == nil { // a file with errors still lists its hosts
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, h := range inv.Hosts {
			if h != nil && h.Address != "" {
				out = append(out, h.Address+"\t"+string(h.Role))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
