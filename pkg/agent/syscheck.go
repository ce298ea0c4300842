package agent

import (
	"bytes"
	"errors"
	"fmt"

	system "k8s.io/system-validators/validators"
)

// CheckSystemWithoutCgroups runs what kubeadm's SystemVerification preflight
// runs (the kernel and OS validators, against the same spec) except the
// cgroups validator, for a host where that check is skipped. Errors fail as
// kubeadm's would; warnings are printed.
func CheckSystemWithoutCgroups(h *Host) error {
	var report bytes.Buffer
	reporter := &system.StreamReporter{WriteStream: &report}
	var errs []error
	for _, v := range []system.Validator{&system.KernelValidator{Reporter: reporter}, &system.OSValidator{Reporter: reporter}} {
		warns, vErrs := v.Validate(system.DefaultSysSpec)
		for _, w := range warns {
			h.Warnf("[preflight] %s: %v", v.Name(), w)
		}
		errs = append(errs, vErrs...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("preflight: system verification (without cgroups) failed:\n%s%w", report.String(), errors.Join(errs...))
	}
	return nil
}
