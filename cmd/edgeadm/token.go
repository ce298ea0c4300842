package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgeops/edgeops/pkg/agent"
)

// wrapTokenCreate adds --join-info-file and --upload-certs to kubeadm's
// 'token create': with them it mints fresh join information into the file
// and prints no secret; without, it is kubeadm's command.
func wrapTokenCreate(c *cobra.Command, host *agent.Host) {
	var path string
	var uploadCerts bool
	c.Flags().StringVar(&path, agent.FlagJoinInfoFile, "", "Write fresh join information (new token, CA hash, endpoint) to this root-only file instead of printing the token")
	c.Flags().BoolVar(&uploadCerts, "upload-certs", false, "With --join-info-file: re-upload the control-plane certificates under a new certificate key (for joining masters)")
	kubeadmRun := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if path == "" {
			if uploadCerts {
				return fmt.Errorf("token create: --upload-certs needs --%s", agent.FlagJoinInfoFile)
			}
			return kubeadmRun(cmd, args)
		}
		if len(args) > 0 {
			return fmt.Errorf("token create: with --%s the token is generated, not given", agent.FlagJoinInfoFile)
		}
		ttl := agent.DefaultTokenTTL
		if f := cmd.Flags().Lookup("ttl"); f != nil {
			d, err := time.ParseDuration(f.Value.String())
			if err != nil {
				return fmt.Errorf("token create: --ttl: %w", err)
			}
			ttl = d
		}
		desc := "edgeadm join information"
		if f := cmd.Flags().Lookup("description"); f != nil && f.Value.String() != "" {
			desc = f.Value.String()
		}
		if err := agent.MintJoinInfo(ctxOf(cmd), host, path, uploadCerts, ttl, desc); err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		return nil
	}
}
