package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	kubeversion "k8s.io/component-base/version"
	"sigs.k8s.io/yaml"
)

// version is edgeadm's own, stamped by the build (go build -ldflags "-X main.version=…");
// a linker-set value has to be a package variable, and nothing writes it at run time.
var version = "dev"

// versionInfo is 'edgeadm version -o json|yaml': kubeadm's document
// (clientVersion is the kubeadm edgeadm embeds) plus edgeadm's own version.
type versionInfo struct {
	EdgeadmVersion string                    `json:"edgeadmVersion"`
	ClientVersion  *apimachineryversion.Info `json:"clientVersion"`
}

// wrapVersion makes kubeadm's version command tell edgeadm's version too.
// -o short stays kubeadm's (one word, the embedded kubeadm's gitVersion),
// which edgeops reads when it stages the agent.
func wrapVersion(c *cobra.Command, out io.Writer) {
	c.Short = "Print the version of edgeadm and of the kubeadm it embeds"
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		of, err := cmd.Flags().GetString("output")
		if err != nil {
			return fmt.Errorf("version: --output: %w", err)
		}
		return printVersion(out, of, version, kubeversion.Get())
	}
}

func printVersion(out io.Writer, format, edgeadm string, kubeadm apimachineryversion.Info) error {
	v := versionInfo{EdgeadmVersion: edgeadm, ClientVersion: &kubeadm}
	switch format {
	case "":
		fmt.Fprintf(out, "edgeadm version: %q\nkubeadm version: %#v\n", v.EdgeadmVersion, v.ClientVersion)
	case "short":
		fmt.Fprintf(out, "%s\n", v.ClientVersion.GitVersion)
	case "yaml":
		y, err := yaml.Marshal(&v)
		if err != nil {
			return fmt.Errorf("version: %w", err)
		}
		fmt.Fprintln(out, string(y))
	case "json":
		j, err := json.MarshalIndent(&v, "", "  ")
		if err != nil {
			return fmt.Errorf("version: %w", err)
		}
		fmt.Fprintln(out, string(j))
	default:
		return fmt.Errorf("version: invalid output format %q: want yaml, json or short", format)
	}
	return nil
}
