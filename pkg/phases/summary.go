package phases

import (
	"fmt"
	"strings"

	"github.com/edgeops/edgeops/pkg/report"
)

// Rows is the per-host summary of a run. notDone is the status of a host
// that failed ("failed", or "NOT reset" for reset).
func Rows(s *State, notDone string) []report.Row {
	rows := make([]report.Row, 0, len(s.Hosts))
	for _, h := range s.Hosts {
		if !s.Targeted(h) && !h.Failed() {
			continue // a helper (the leader in reset --host) that did its part
		}
		h.mu.Lock()
		r := report.Row{Host: h.Addr(), Name: h.Facts.Hostname, Role: string(h.Role), Status: h.status, Detail: h.detail, Duration: h.duration,
			Steps: append([]report.StepTime(nil), h.steps...)}
		if h.Hostname != "" {
			r.Name = h.Hostname
		}
		if h.err != nil {
			r.Status = notDone
			r.Detail = h.err.Error()
		}
		if r.Status == "" {
			r.Status = "unchanged"
		}
		h.mu.Unlock()
		rows = append(rows, r)
	}
	return rows
}

// Unchanged reports whether the run changed no host.
func Unchanged(s *State) bool {
	for _, h := range s.Hosts {
		if h.Changed() {
			return false
		}
	}
	return true
}

// Plan describes, per host, what up would do (after PlanPhases ran).
func Plan(s *State, list []Phase) []report.Row {
	rows := Rows(s, "unreachable") // plan has no Targets: one row per host
	for i, h := range s.Hosts {
		if h.Failed() {
			continue
		}
		a := h.Action()
		rows[i].Status = "unchanged"
		if a == actNone {
			rows[i].Detail = "healthy member: nothing to do"
			continue
		}
		rows[i].Status = a.String()
		var steps []string
		for _, p := range list {
			d, ok := p.(DryRunner)
			if !ok || !contains(p.Hosts(s), h) {
				continue
			}
			if _, isFacts := p.(factsPhase); isFacts {
				continue
			}
			steps = append(steps, d.DryRun(s, h))
		}
		rows[i].Detail = strings.Join(steps, "; ")
	}
	return rows
}

func contains(hosts []*Host, h *Host) bool {
	for _, x := range hosts {
		if x == h {
			return true
		}
	}
	return false
}

// TimingSummary is one line with each phase's wall time.
func TimingSummary(s *State) string {
	var parts []string
	for _, t := range s.Timings() {
		parts = append(parts, fmt.Sprintf("%s %s", t.Phase, t.Duration.Round(10_000_000)))
	}
	return strings.Join(parts, ", ")
}
