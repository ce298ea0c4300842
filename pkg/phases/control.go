package phases

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Phase control, kubeadm-style: `edgeops up phase NAME` runs one phase of a
// list, `--skip-phases a,b` all but some. Everything here is derived from the
// list and the traits its phases declare (control_traits.go), so the list
// stays the one source of truth for names, help and validation.

// Name is the phase's command-line name: its title in kebab case
// ("join masters" -> "join-masters").
func Name(p Phase) string { return kebab(p.Title()) }

func kebab(title string) string { return strings.ReplaceAll(strings.ToLower(title), " ", "-") }

// PhaseInfo describes one phase of a list for --help.
type PhaseInfo struct {
	Name        string
	Description string
	// AlwaysRuns: plumbing every run needs; never selected or skipped.
	AlwaysRuns bool
	// Needs are the phases that run with this one (by name).
	Needs []string
	// NotAlone: only meaningful with the phases that need it.
	NotAlone bool
}

// Describe lists the phases of list, in run order.
func Describe(list []Phase) []PhaseInfo {
	out := make([]PhaseInfo, 0, len(list))
	for _, p := range list {
		info := PhaseInfo{Name: Name(p), AlwaysRuns: isPlumbing(p), NotAlone: isHelper(p)}
		if d, ok := p.(Describer); ok {
			info.Description = d.Description()
		}
		info.Needs = needsOf(p)
		out = append(out, info)
	}
	return out
}

// Selectable lists the names `up phase NAME` accepts, in run order.
func Selectable(list []Phase) []string {
	var out []string
	for _, p := range list {
		if !isPlumbing(p) && !isHelper(p) {
			out = append(out, Name(p))
		}
	}
	return out
}

// Skippable lists the names --skip-phases accepts, in run order.
func Skippable(list []Phase) []string {
	var out []string
	for _, p := range list {
		if !isPlumbing(p) {
			out = append(out, Name(p))
		}
	}
	return out
}

// Selection is what the operator asked for: Only one phase (up phase NAME),
// or every phase but Skip. The zero value runs the whole list.
type Selection struct {
	Only string
	Skip []string
}

// Partial reports whether the selection leaves phases out.
func (sel Selection) Partial() bool { return sel.Only != "" || len(sel.Skip) > 0 }

// SelectionError is a bad phase name or combination: a usage error, raised
// before any host is contacted.
type SelectionError struct{ Msg string }

func (e *SelectionError) Error() string { return e.Msg }

// Select applies sel to list. Plumbing always runs; a phase that needs
// another's result brings it along (the joins bring join info and labels); preflight
// guards a single phase that changes hosts. A phase left out stays in the
// list as a skipped marker (its CleanUp still runs: init's join token is
// deleted even when join info did not run). When phases are left out, a
// check after decide refuses, before anything changes, a run whose phases
// cannot work without the ones skipped (nothing staged, no cluster yet).
func Select(list []Phase, sel Selection) ([]Phase, error) {
	if !sel.Partial() {
		return list, nil
	}
	byName := map[string]Phase{}
	for _, p := range list {
		byName[Name(p)] = p
	}
	if sel.Only != "" && len(sel.Skip) > 0 {
		return nil, &SelectionError{"choose one phase (phase NAME) or phases to skip (--skip-phases), not both"}
	}
	run := map[string]bool{}
	why := ""
	if sel.Only != "" {
		p, err := lookup(list, byName, sel.Only, Selectable(list), "")
		if err != nil {
			return nil, err
		}
		run[Name(p)] = true
		for _, n := range needsOf(p) {
			run[n] = true
		}
		if !isReadOnly(p) {
			run[Name(preflightPhase{})] = true
		}
		why = "not selected (phase " + sel.Only + ")"
	} else {
		for _, p := range list {
			run[Name(p)] = true
		}
		for _, n := range sel.Skip {
			n = strings.TrimSpace(n)
			if _, err := lookup(list, byName, n, Skippable(list), "--skip-phases"); err != nil {
				return nil, err
			}
			delete(run, n)
		}
		for _, p := range list {
			if !run[Name(p)] {
				continue
			}
			for _, n := range needsOf(p) {
				if !run[n] {
					return nil, &SelectionError{fmt.Sprintf("--skip-phases %s: %s needs it (%s runs whenever %s does); skip %s too, or keep %s; "+
						"skippable: %s", n, Name(p), n, Name(p), Name(p), n, strings.Join(Skippable(list), ", "))}
				}
			}
		}
		why = "left out (--skip-phases)"
	}
	out := make([]Phase, 0, len(list)+1)
	for _, p := range list {
		switch {
		case isPlumbing(p) || run[Name(p)]:
			out = append(out, p)
		default:
			out = append(out, deselected{Phase: p, why: why})
		}
		if _, ok := p.(decidePhase); ok {
			out = append(out, newControlCheck(list, run))
		}
	}
	return out, nil
}

// lookup finds a phase by name, or says what the valid names are.
func lookup(list []Phase, byName map[string]Phase, name string, valid []string, what string) (Phase, error) {
	p, ok := byName[name]
	var msg string
	switch {
	case !ok:
		msg = fmt.Sprintf("unknown phase %q", name)
	case isPlumbing(p):
		msg = fmt.Sprintf("phase %q always runs (connect, lock, facts and decide are what every run needs): it cannot be skipped or run alone", name)
	case isHelper(p) && !slices.Contains(valid, name):
		msg = fmt.Sprintf("phase %q runs only with the phases that need it (%s): run one of those", name, strings.Join(neededBy(list, p), ", "))
	case !slices.Contains(valid, name):
		msg = fmt.Sprintf("phase %q cannot be chosen here", name)
	default:
		return p, nil
	}
	if what != "" {
		msg = what + ": " + msg
	}
	return nil, &SelectionError{msg + "; valid: " + strings.Join(valid, ", ")}
}

// neededBy names the phases of list that need p.
func neededBy(list []Phase, p Phase) []string {
	var out []string
	for _, q := range list {
		if slices.Contains(needsOf(q), Name(p)) {
			out = append(out, Name(q))
		}
	}
	return out
}

// Ran lists the names of the phases of a selected list that were not left out.
func Ran(list []Phase) []string {
	var out []string
	for _, p := range list {
		if _, ok := p.(deselected); !ok {
			if _, ok := p.(*controlCheck); !ok {
				out = append(out, Name(p))
			}
		}
	}
	return out
}

// deselected stands for a phase phase control left out: the runner reports
// it skipped and runs nothing but its CleanUp.
type deselected struct {
	Phase
	why string
}

func (deselected) Hosts(*State) []*Host                     { return nil }
func (deselected) Run(context.Context, *State, *Host) error { return nil }

func (d deselected) CleanUp(ctx context.Context, s *State) {
	if c, ok := d.Phase.(CleanUpper); ok {
		c.CleanUp(ctx, s)
	}
}
