package agent

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Phase is one step edgeadm runs around kubeadm's workflow.
type Phase struct {
	Name  string
	Short string
	Run   func(ctx context.Context, r *Run) error
}

// Timing is how long one phase took.
type Timing struct {
	Phase    string
	Duration time.Duration
	Skipped  bool
}

// RunPhases runs phases in order, skipping those named in skip, and logs the
// time of each. The error names the failed phase and says what to do.
func RunPhases(ctx context.Context, r *Run, workflow string, phases []Phase, skip map[string]bool) ([]Timing, error) {
	var t []Timing
	defer r.dropUnpacked()
	for _, p := range phases {
		if skip[p.Name] {
			r.Host.Logf("[%s] skipping phase %s", workflow, p.Name)
			r.Progress.Skipped(p.Name)
			t = append(t, Timing{Phase: p.Name, Skipped: true})
			continue
		}
		start := time.Now()
		r.Progress.Start(p.Name)
		if err := p.Run(ctx, r); err != nil {
			r.Progress.Failed(p.Name, time.Since(start), err)
			if p.Name == PhaseCheckPackage {
				// It refuses before anything changes: there is nothing to reset.
				return t, fmt.Errorf("%s phase %s: %w (nothing on this host was changed)", workflow, p.Name, err)
			}
			return t, fmt.Errorf("%s phase %s: %w (fix the cause, then run 'edgeadm reset --force' and retry)", workflow, p.Name, err)
		}
		d := time.Since(start)
		r.Progress.Done(p.Name, d)
		t = append(t, Timing{Phase: p.Name, Duration: d})
		r.Host.Logf("[%s] phase %s done in %s", workflow, p.Name, d.Round(time.Millisecond))
	}
	return t, nil
}

// SplitSkips separates edgeadm's phase names from kubeadm's in a --skip-phases list.
func SplitSkips(list []string, own []Phase) (mine map[string]bool, kubeadm []string) {
	names := map[string]bool{}
	for _, p := range own {
		names[p.Name] = true
	}
	mine = map[string]bool{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if names[s] {
			mine[s] = true
		} else if s != "" {
			kubeadm = append(kubeadm, s)
		}
	}
	return mine, kubeadm
}
