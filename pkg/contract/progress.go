package contract

import (
	"encoding/json"
	"fmt"
	"strings"
)

// FlagProgressFD names a file descriptor edgeadm reports its steps on (init,
// join and their phase commands): one Step object per line, JSON. edgeops
// runs edgeadm with it on fd 3, redirected to the SSH channel's stdout
// (edgeadm's own stdout goes to stderr), so the protocol never mixes with
// text meant for people.
const FlagProgressFD = "progress-fd"

// ProgressFD is the descriptor edgeops gives edgeadm.
const ProgressFD = 3

// ProgressVersion is the protocol version every line carries; a reader
// ignores lines of another version rather than misreading them.
const ProgressVersion = 1

// States of a step.
const (
	StepStart   = "start"
	StepDone    = "done"
	StepSkipped = "skipped"
	StepFailed  = "failed"
)

// Step is one line of edgeadm's progress protocol: a step (one of edgeadm's
// phases, or "kubeadm" for kubeadm's whole workflow) started or ended.
type Step struct {
	V        int    `json:"v"`
	Workflow string `json:"workflow"` // init or join
	Step     string `json:"step"`
	State    string `json:"state"`
	// DurationMS is set when a step ends: how long it ran.
	DurationMS int64 `json:"duration_ms,omitempty"`
	// Message says more (a failure's reason); never a secret.
	Message string `json:"message,omitempty"`
}

// Line encodes the step as one protocol line, newline included.
func (s Step) Line() []byte {
	s.V = ProgressVersion
	b, _ := json.Marshal(s) // only strings and integers: cannot fail
	return append(b, '\n')
}

// ParseStep decodes one protocol line.
func ParseStep(line string) (Step, error) {
	var s Step
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &s); err != nil {
		return Step{}, fmt.Errorf("progress line %q: %w", line, err)
	}
	if s.V != ProgressVersion {
		return Step{}, fmt.Errorf("progress line %q: protocol version %d, want %d", line, s.V, ProgressVersion)
	}
	switch s.State {
	case StepStart, StepDone, StepSkipped, StepFailed:
	default:
		return Step{}, fmt.Errorf("progress line %q: unknown state %q", line, s.State)
	}
	if s.Step == "" {
		return Step{}, fmt.Errorf("progress line %q: no step", line)
	}
	return s, nil
}
