package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/bundles"
	"github.com/edgeops/edgeops/pkg/agent"
	"github.com/edgeops/edgeops/pkg/edgemanifests"
)

// newManifestsCmd writes the package's edge YAML, placeholders and all, as
// the starting point of a user's --edge-manifests-dir.
func newManifestsCmd(host *agent.Host) *cobra.Command {
	var outDir, pkg string
	var ph strings.Builder
	for _, p := range edgemanifests.Placeholders() {
		fmt.Fprintf(&ph, "  %-22s %s\n", p.Name, p.Meaning)
	}
	c := &cobra.Command{
		Use:   "manifests --output-dir DIR [--install-pkg-path PACKAGE]",
		Short: "Write the default edge component YAML into a folder, to customise it for --edge-manifests-dir",
		Long: `Write the edge components' YAML as the install package ships it (its manifests/edge
folder; without --install-pkg-path, the package installed on this host) into DIR,
placeholders untouched, so that you can start your own from it.

Give the folder to 'edgeadm init --edge-manifests-dir DIR' (or set cluster.edgeManifestsDir
in the edgeops inventory). It overrides the package's files one by one:

  - a file of the same name (tunnel-edge.yml matches tunnel-edge.yaml) replaces the package's;
  - a file with a new name adds a component;
  - an empty file (or only comments) removes that component;
  - a package file you leave out of the folder is applied as the package ships it.

So keep only the files you change. Files are applied in name order. Every file must be
.yaml or .yml and parse as Kubernetes objects; a folder with any problem is refused,
each problem named, before anything is applied. Placeholders, filled in every file:
` + ph.String(),
		Example: fmt.Sprintf(`  edgeadm manifests --output-dir ./edge --install-pkg-path %[1]s
  # edit ./edge/tunnel-edge.yaml, empty ./edge/edge-health.yaml, add ./edge/my-agent.yaml,
  # delete the files you did not change, then:
  edgeadm init --edge-manifests-dir ./edge --install-pkg-path %[1]s`, bundles.PackageFileName("amd64")),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if outDir == "" {
				return fmt.Errorf("manifests: --output-dir DIR is required: the folder to write the edge YAML into")
			}
			files, err := agent.DefaultEdgeManifests(ctxOf(cmd), host, pkg)
			if err != nil {
				return fmt.Errorf("manifests: %w", err)
			}
			if err := agent.WriteEdgeManifests(outDir, files); err != nil {
				return fmt.Errorf("manifests: %w", err)
			}
			names := make([]string, len(files))
			for i, f := range files {
				names[i] = f.Name
			}
			host.Logf("[manifests] wrote %d file(s) to %s: %s", len(files), outDir, strings.Join(names, ", "))
			host.Logf("[manifests] keep the files you change (an empty file removes its component, a new one adds one), then pass --%s %s", agent.FlagEdgeManifestsDir, outDir)
			return nil
		},
	}
	c.Flags().StringVar(&outDir, "output-dir", "", "Folder to write the edge YAML into (created when missing; files already there are never overwritten)")
	c.Flags().StringVar(&pkg, agent.FlagInstallPkgPath, "", "Install package file to read the edge YAML from (default: the package installed on this host)")
	return c
}
