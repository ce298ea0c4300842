package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// newBundleCmd is `edgeops bundle inspect|verify FILE`. Owned by the bundle work (pkg/bundle).
func newBundleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Inspect and verify install packages",
		Long: `An install package (edgeops-bundle-<k8s>-linux-<arch>.tar.gz, built by
make bundle) holds everything a node needs offline: binaries, image archives,
manifests, systemd units and configs, listed with their sha256 in bundle.yaml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newBundleInspectCmd(), newBundleVerifyCmd())
	return cmd
}

func bundleFileArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError(fmt.Errorf("%s: want exactly one package file, got %d arguments", cmd.CommandPath(), len(args)))
	}
	return nil
}

func jsonOutput(cmd *cobra.Command) bool {
	f := cmd.Flag("output")
	return f != nil && f.Value.String() == "json"
}

func newBundleInspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "inspect FILE",
		Short:   "Show a package's versions, images and files (reads only bundle.yaml)",
		Example: "  edgeops bundle inspect _output/edgeops-bundle-v1.37.2-linux-amd64.tar.gz",
		Args:    bundleFileArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := bundle.Open(args[0])
			if err != nil {
				return err
			}
			st, err := os.Stat(args[0])
			if err != nil {
				return err
			}
			m := b.Manifest()
			if jsonOutput(cmd) {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(struct {
					File     string           `json:"file"`
					Size     int64            `json:"size"`
					Manifest *bundle.Manifest `json:"manifest"`
				}{args[0], st.Size(), m})
			}
			printManifest(cmd.OutOrStdout(), args[0], st.Size(), m)
			return nil
		},
	}
}

func printManifest(out io.Writer, file string, size int64, m *bundle.Manifest) {
	var unpacked int64
	for _, f := range m.Files {
		unpacked += f.Size
	}
	fmt.Fprintf(out, "Package:     %s\n", file)
	fmt.Fprintf(out, "Kubernetes:  %s (%s/%s)\n", m.KubernetesVersion, m.OS, m.Arch)
	fmt.Fprintf(out, "Size:        %.1f MiB (%.1f MiB unpacked, %d files)\n\n", mib(size), mib(unpacked), len(m.Files))
	// One table per section so each aligns on its own columns.
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tVERSION")
	for _, c := range m.Components {
		fmt.Fprintf(tw, "%s\t%s\n", c.Name, c.Version)
	}
	tw.Flush()
	fmt.Fprintln(out)
	if m.NoImages() {
		// Online install: the images come from the registry --image-repository names.
		fmt.Fprintln(tw, "IMAGE (not in the package: pulled from --image-repository)")
		for _, n := range m.RegistryImages {
			fmt.Fprintln(tw, n)
		}
	} else {
		fmt.Fprintln(tw, "IMAGE\tARCHIVE")
		for _, i := range m.Images {
			fmt.Fprintf(tw, "%s\t%s\n", i.Name, i.File)
		}
	}
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintln(tw, "FILE\tMODE\tSIZE\tSHA256")
	for _, f := range m.Files {
		fmt.Fprintf(tw, "%s\t%04o\t%d\t%s\n", f.Path, uint32(f.Mode), f.Size, f.SHA256)
	}
	tw.Flush()
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func newBundleVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Check every file's sha256 and that every image archive loads under its name",
		Example: `  edgeops bundle verify _output/edgeops-bundle-v1.37.2-linux-amd64.tar.gz
  edgeops --output json bundle verify pkg.tar.gz`,
		Args: bundleFileArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			b, err := bundle.Open(args[0])
			if err != nil {
				return err
			}
			if err := bundle.Verify(cmd.Context(), args[0]); err != nil {
				return err
			}
			sum, _, err := bundle.FileSHA256(args[0])
			if err != nil {
				return err
			}
			m := b.Manifest()
			took := time.Since(start).Round(10 * time.Millisecond)
			if jsonOutput(cmd) {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(struct {
					File              string  `json:"file"`
					SHA256            string  `json:"sha256"`
					OK                bool    `json:"ok"`
					KubernetesVersion string  `json:"kubernetesVersion"`
					Files             int     `json:"files"`
					Images            int     `json:"images"`
					Seconds           float64 `json:"seconds"`
				}{args[0], sum, true, m.KubernetesVersion, len(m.Files), len(m.Images), took.Seconds()})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s (kubernetes %s): %d files match bundle.yaml, %d images load; sha256 %s; %s\n",
				args[0], m.KubernetesVersion, len(m.Files), len(m.Images), sum, took)
			return nil
		},
	}
}
