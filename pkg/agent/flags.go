package agent

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ReplayChangedFlags rebuilds a parsed command's flag set so that only the
// flags still marked Changed count as set. pflag remembers every parsed
// flag (Visit, which kubeadm's "can not mix --config" check uses, walks
// that record), and clearing Changed does not forget it; a fresh set with
// the same *Flag objects (bound to kubeadm's option structs) does.
func ReplayChangedFlags(c *cobra.Command) error {
	old := c.Flags()
	type kept struct {
		name  string
		val   string
		slice []string
	}
	var all []*pflag.Flag
	var set []kept
	old.VisitAll(func(f *pflag.Flag) { all = append(all, f) })
	old.Visit(func(f *pflag.Flag) {
		if !f.Changed {
			return
		}
		k := kept{name: f.Name, val: f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			k.slice = sv.GetSlice()
		}
		set = append(set, k)
	})
	c.ResetFlags()
	fs := c.Flags()
	for _, f := range all {
		f.Changed = false
		fs.AddFlag(f)
	}
	for _, k := range set {
		val := k.val
		if k.slice != nil {
			val = strings.Join(k.slice, ",")
		}
		// Set marks the flag set again; for lists it may append, so the
		// exact list is put back after it.
		if err := fs.Set(k.name, val); err != nil {
			return fmt.Errorf("--%s: %w", k.name, err)
		}
		if k.slice != nil {
			if err := fs.Lookup(k.name).Value.(pflag.SliceValue).Replace(k.slice); err != nil {
				return fmt.Errorf("--%s: %w", k.name, err)
			}
		}
	}
	return nil
}
