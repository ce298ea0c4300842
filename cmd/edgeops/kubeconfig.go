package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/phases"
)

// kubeconfigPath is where up and kubeconfig write the admin kubeconfig:
// <cluster name>.kubeconfig beside the inventory.
func kubeconfigPath(inv *inventory.Inventory) string {
	return filepath.Join(filepath.Dir(inv.File), inv.Cluster.Name+".kubeconfig")
}

func newKubeconfigCmd(g *globalOptions) *cobra.Command {
	var invPath, file string
	var print, merge bool
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Fetch the cluster's admin kubeconfig from the leader (written 0600)",
		Long: `kubeconfig downloads /etc/kubernetes/admin.conf from the leader (through sudo)
and writes it, mode 0600, to --file (default <cluster name>.kubeconfig beside
the inventory). --print also writes it to stdout. --merge adds its cluster,
user and context to $KUBECONFIG (first file) or ~/.kube/config as cluster
<cluster name>, user <cluster name>-admin and context <cluster name> (kubeadm
names every cluster "kubernetes"), replaces only entries of those names, makes
the context current and writes the file 0600.`,
		Example: `  edgeops kubeconfig -i hosts.yaml
  edgeops kubeconfig -i hosts.yaml --file ~/.kube/edge.conf && kubectl --kubeconfig ~/.kube/edge.conf get nodes
  edgeops kubeconfig -i hosts.yaml --merge && kubectl config get-contexts`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inv, err := loadInventory(g, invPath)
			if err != nil {
				return err
			}
			if print && g.JSON() {
				return usageError(fmt.Errorf("kubeconfig: --print writes YAML to stdout; it does not go with --output json"))
			}
			logSummary(g, cmd.ErrOrStderr(), inv)
			ctx, cancel := g.runContext(cmd.Context())
			defer cancel()
			rg := *g
			if print {
				rg.stdout = g.stderr // stdout carries the YAML alone
			}
			env, err := newRunEnv(ctx, &rg, inv, "kubeconfig", nil)
			if err != nil {
				return err
			}
			defer env.close()
			if file != "" {
				env.cfg.Kubeconfig = file
			}
			s := phases.NewState(env.cfg, []*inventory.Host{inv.Leader()})
			err = phases.Run(ctx, s, phases.KubeconfigPhases())
			if err := env.finish(s, "kubeconfig", phases.Rows(s, "failed"), err, nil); err != nil {
				return err
			}
			data, err := os.ReadFile(env.cfg.Kubeconfig)
			if err != nil {
				return err
			}
			if merge {
				target, err := mergeKubeconfig(data, inv.Cluster.Name)
				if err != nil {
					return fmt.Errorf("kubeconfig: merge: %w", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "merged into %s\n", target)
			}
			if print {
				_, err = g.stdout.Write(data)
			}
			return err
		},
	}
	addInventoryFlag(cmd, &invPath)
	cmd.Flags().StringVar(&file, "file", "", "where to write the kubeconfig, mode 0600 (default: <cluster name>.kubeconfig beside the inventory)")
	cmd.Flags().BoolVar(&print, "print", false, "also print the kubeconfig on stdout")
	cmd.Flags().BoolVar(&merge, "merge", false, "merge it into $KUBECONFIG (first file) or ~/.kube/config")
	return cmd
}

// mergeKubeconfig adds data's cluster, user and context to the user's
// kubeconfig under names taken from the cluster's name (kubeadm calls every
// cluster "kubernetes" and its user "kubernetes-admin": merged as they are,
// they would replace another cluster's entries), makes its context current
// and touches no other entry. The result is written through a fresh 0600
// temporary file beside the target, then renamed over it.
func mergeKubeconfig(data []byte, clusterName string) (string, error) {
	target := os.Getenv("KUBECONFIG")
	if i := strings.IndexRune(target, os.PathListSeparator); i >= 0 {
		target = target[:i]
	}
	if target == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		target = filepath.Join(home, ".kube", "config")
	}
	// A symlinked kubeconfig (dotfiles) is written where the link points,
	// as kubectl does; renaming over the link would replace it.
	if real, err := filepath.EvalSymlinks(target); err == nil {
		target = real
	}
	var add, cur map[string]any
	if err := yaml.Unmarshal(data, &add); err != nil {
		return "", err
	}
	renameEntries(add, clusterName)
	if old, err := os.ReadFile(target); err == nil {
		// Numbers as written (an extension's 64-bit serial would
		// otherwise come back rounded through float64).
		if err := yaml.Unmarshal(old, &cur, useNumber); err != nil {
			return "", fmt.Errorf("%s: %w", target, err)
		}
	} else if !os.IsNotExist(err) {
		return "", err
	}
	if cur == nil {
		cur = map[string]any{"apiVersion": "v1", "kind": "Config", "preferences": map[string]any{}}
	}
	for _, key := range []string{"clusters", "users", "contexts"} {
		if _, isList := cur[key].([]any); cur[key] != nil && !isList {
			return "", fmt.Errorf("%s: %s is not a list; the file is left as it is", target, key)
		}
	}
	for _, key := range []string{"clusters", "users", "contexts"} {
		cur[key] = mergeNamed(asList(cur[key]), asList(add[key]))
	}
	if c, ok := add["current-context"].(string); ok && c != "" {
		cur["current-context"] = c
	}
	out, err := yaml.Marshal(cur)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return "", err
	}
	return target, phases.WriteFileAtomic(target, out)
}

// renameEntries names kc's cluster and context after the cluster and its
// user "<cluster>-admin", and points the context at them.
func renameEntries(kc map[string]any, clusterName string) {
	user := clusterName + "-admin"
	for _, key := range []string{"clusters", "users", "contexts"} {
		for _, e := range asList(kc[key]) {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			switch key {
			case "clusters", "contexts":
				m["name"] = clusterName
			case "users":
				m["name"] = user
			}
			if key == "contexts" {
				if ctx, ok := m["context"].(map[string]any); ok {
					ctx["cluster"], ctx["user"] = clusterName, user
				}
			}
		}
	}
	kc["current-context"] = clusterName
}

func useNumber(d *json.Decoder) *json.Decoder {
	d.UseNumber()
	return d
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// mergeNamed replaces entries of base whose "name" is in add, appends the rest.
func mergeNamed(base, add []any) []any {
	name := func(v any) string {
		m, _ := v.(map[string]any)
		n, _ := m["name"].(string)
		return n
	}
	out := make([]any, 0, len(base)+len(add))
	replaced := map[string]bool{}
	for _, a := range add {
		replaced[name(a)] = true
	}
	for _, b := range base {
		if !replaced[name(b)] {
			out = append(out, b)
		}
	}
	return append(out, add...)
}
