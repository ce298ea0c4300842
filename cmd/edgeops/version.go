package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/bundles"
)

// version is set at link time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

type versionInfo struct {
	Version           string `json:"version"`
	Commit            string `json:"commit,omitempty"`
	GoVersion         string `json:"goVersion"`
	Platform          string `json:"platform"`
	KubernetesVersion string `json:"kubernetesVersion"` // the default the inventory gets
}

func currentVersion() versionInfo {
	v := versionInfo{Version: version, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, KubernetesVersion: bundles.KubernetesVersion()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.Commit = s.Value
			}
		}
	}
	return v
}

func newVersionCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the edgeops version",
		Example: `  edgeops version
  edgeops version --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := currentVersion()
			if g.JSON() {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(v)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "edgeops %s (%s, %s, default Kubernetes %s)\n", v.Version, v.GoVersion, v.Platform, v.KubernetesVersion)
			return nil
		},
	}
}
