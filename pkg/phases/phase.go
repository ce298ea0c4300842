// Package phases is the orchestration behind `edgeops up`, `add-node`,
// `reset` and `plan`: small Phase values run in order by a Runner, each
// phase's hosts in parallel within a bound, per-host failures kept as wrapped
// errors. The phase lists for each command are plain data (see lists.go).
package phases

import "context"

// Phase is one step of a command.
type Phase interface {
	// Title names the phase in output ("stage", "join masters").
	Title() string
	// Hosts picks the hosts the phase applies to, from those still healthy.
	Hosts(s *State) []*Host
	// Run does the phase's work on one host.
	Run(ctx context.Context, s *State, h *Host) error
}

// Serial phases run their hosts one at a time (control-plane joins).
type Serial interface{ Serial() bool }

// Critical phases stop the whole run when any host fails (init, preflight):
// nothing after them can succeed.
type Critical interface{ Critical() bool }

// Preparer runs once before a phase's hosts, after the previous phase ended
// (cross-host checks, minting join information).
type Preparer interface {
	Prepare(ctx context.Context, s *State) error
}

// DryRunner describes what Run would do on h, changing nothing (plan).
type DryRunner interface {
	DryRun(s *State, h *Host) string
}

// CleanUpper runs after the whole list, whatever happened (release locks).
type CleanUpper interface {
	CleanUp(ctx context.Context, s *State)
}

func isSerial(p Phase) bool {
	s, ok := p.(Serial)
	return ok && s.Serial()
}

func isCritical(p Phase) bool {
	c, ok := p.(Critical)
	return ok && c.Critical()
}
