package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/edgeops/edgeops/pkg/exitcode"
	"github.com/edgeops/edgeops/pkg/inventory"
)

// printError writes a failed run's error: in text, one problem per line on
// stderr; with --output json, one JSON object per line on stdout.
func printError(g *globalOptions, err error, code int) {
	var ve *inventory.ValidationError
	isInv := errors.As(err, &ve)
	if g.JSON() {
		enc := json.NewEncoder(g.stdout)
		if isInv {
			for _, fe := range ve.Errors {
				_ = enc.Encode(struct {
					Level   string `json:"level"`
					Kind    string `json:"kind"`
					Message string `json:"message"`
					*inventory.FieldError
				}{"error", "inventory", fe.Error(), fe})
			}
		}
		_ = enc.Encode(struct {
			Level    string `json:"level"`
			Kind     string `json:"kind"`
			Message  string `json:"message"`
			ExitCode int    `json:"exitCode"`
			Status   string `json:"status"`
		}{"error", "result", err.Error(), code, exitcode.Name(code)})
		return
	}
	if isInv {
		fmt.Fprintf(g.stderr, "edgeops: inventory %s has %d error(s); nothing was touched:\n", ve.File, len(ve.Errors))
		for _, fe := range ve.Errors {
			fmt.Fprintf(g.stderr, "  %s\n", fe.Error())
		}
		return
	}
	fmt.Fprintf(g.stderr, "edgeops: error: %v\n", err)
}
