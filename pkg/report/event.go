// Package report turns what the orchestration does into output: host-prefixed
// lines or one JSON event per line on stdout, a live progress view on a
// terminal, a final per-host table, and a log file of the whole run. Every
// path goes through one Redactor, so a secret cannot reach any of them.
package report

import (
	"encoding/json"
	"time"
)

// Kinds of event. A host's life in a phase is start, then one of
// done/changed/skipped/failed; info, warning and output may come between.
const (
	EventStart    = "start"
	EventDone     = "done"    // finished, nothing changed on the host
	EventChanged  = "changed" // finished and changed the host
	EventSkipped  = "skipped" // not needed (already in the wanted state)
	EventFailed   = "failed"
	EventInfo     = "info"
	EventWarning  = "warning"
	EventOutput   = "output" // a line of a remote command's output (verbose and log only)
	EventSummary  = "summary"
	EventProgress = "progress" // bytes moved (without a live view: every few seconds per host)
	// EventStep is a step inside a host's phase, as edgeadm reports it
	// (install-package, kubeadm, cni, …): State says start, done, skipped
	// or failed.
	EventStep = "step"
)

// Event is one thing that happened. Its JSON form is the CI interface
// (--output json): one object per line.
type Event struct {
	Time    time.Time `json:"time"`
	Host    string    `json:"host,omitempty"`
	Phase   string    `json:"phase,omitempty"`
	Event   string    `json:"event"`
	Message string    `json:"message,omitempty"`
	Error   string    `json:"error,omitempty"`
	// Bytes and Total are set on progress events: bytes moved so far of Total.
	Bytes int64 `json:"bytes,omitempty"`
	Total int64 `json:"total,omitempty"`
	// Step, State and DurationMS are set on step events (DurationMS when
	// the step ended).
	Step       string `json:"step,omitempty"`
	State      string `json:"state,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	// Steps are a host's step times, on its summary event.
	Steps []StepTime `json:"steps,omitempty"`
}

// StepTime is how long one step of a host's phase took.
type StepTime struct {
	Phase      string `json:"phase"`
	Step       string `json:"step"`
	DurationMS int64  `json:"duration_ms"`
	Failed     bool   `json:"failed,omitempty"`
}

// MarshalLine encodes the event as one JSON line (with the newline).
func (e Event) MarshalLine() ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Text renders the event as a host-prefixed line (without newline).
func (e Event) Text() string {
	prefix := e.Host
	if prefix == "" {
		prefix = "edgeops"
	}
	s := "[" + prefix + "] "
	if e.Phase != "" {
		s += e.Phase + ": "
	}
	switch e.Event {
	case EventStart:
		if e.Message == "" {
			s += "start"
		}
	case EventInfo, EventOutput, EventSummary:
	default:
		s += e.Event
		if e.Message != "" || e.Error != "" {
			s += ": "
		}
	}
	s += e.Message
	if e.Error != "" {
		if e.Message != "" {
			s += ": "
		}
		s += e.Error
	}
	return s
}
