package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newBundleCmd is `edgeops bundle inspect|verify FILE`. Owned by the bundle work (pkg/bundle).
func newBundleCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "bundle",
		Short: "Inspect and verify install packages",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("bundle: not built yet")
		},
	}
}
