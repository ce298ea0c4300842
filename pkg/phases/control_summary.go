package phases

import (
	"strings"

	"github.com/edgeops/edgeops/pkg/report"
)

// PartialRows completes the summary of a run that left phases out: a host
// stage found already staged says "staged", and a host whose work is not
// finished says which of the phases left out it still needs.
func PartialRows(s *State, list []Phase, rows []report.Row) []report.Row {
	byAddr := map[string]*Host{}
	for _, h := range s.Hosts {
		byAddr[h.Addr()] = h
	}
	stageRan := !isDeselected(list, stagePhase{})
	for i, r := range rows {
		h := byAddr[r.Host]
		if h == nil || h.Failed() || h.Action() == actNone {
			continue
		}
		if stageRan && r.Status == "unchanged" && contains(stagePhase{}.Hosts(s), h) {
			rows[i].Status, rows[i].Detail = "staged", "already staged (sha256 matches)"
		}
		if left := leftOut(s, list, h); len(left) > 0 {
			rows[i].Detail = join(rows[i].Detail, "to "+h.Action().String()+", still to run: "+strings.Join(left, ", "))
		}
	}
	return rows
}

// Pending reports whether a host of the run still needs a phase left out.
func Pending(s *State, list []Phase) bool {
	for _, h := range s.Healthy() {
		if s.Targeted(h) && h.Action() != actNone && len(leftOut(s, list, h)) > 0 {
			return true
		}
	}
	return false
}

// leftOut names the phases left out of the run that would have acted on h
// after the last one that did: stage skipped before a finished init is not
// work left, labels skipped after a join is.
func leftOut(s *State, list []Phase, h *Host) []string {
	var out []string
	for _, p := range list {
		d, left := p.(deselected)
		switch {
		case left && contains(d.Phase.Hosts(s), h):
			out = append(out, Name(p))
		case !left && !isPlumbing(p) && contains(p.Hosts(s), h):
			out = nil // this phase ran on h: only what comes after is left
		}
	}
	return out
}

func isDeselected(list []Phase, p Phase) bool {
	for _, q := range list {
		if d, ok := q.(deselected); ok && d.Title() == p.Title() {
			return true
		}
	}
	return false
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
