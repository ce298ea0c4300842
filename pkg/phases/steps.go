package phases

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/edgeops/edgeops/pkg/contract"
	"github.com/edgeops/edgeops/pkg/report"
)

// progressArgs make edgeadm report its steps on fd 3 (contract.FlagProgressFD).
func progressArgs() []string {
	return []string{flag(contract.FlagProgressFD), strconv.Itoa(contract.ProgressFD)}
}

// progressRedirect sends fd 3 to the SSH channel's stdout and edgeadm's own
// stdout to stderr: the channel's stdout then carries only the protocol.
const progressRedirect = " 3>&1 1>&2"

// runEdgeadm runs an edgeadm command line that carries progressArgs: each
// step it reports is shown live, put in JSON events and kept for the
// summary's step times; its other output goes to out.
func runEdgeadm(ctx context.Context, s *State, h *Host, phase string, argv []string, out io.Writer) error {
	return h.Remote.RunSplit(ctx, command(argv...)+progressRedirect, func(line string) {
		st, err := contract.ParseStep(line)
		if err != nil {
			// Not the protocol (an older edgeadm, a stray print): keep it as output.
			s.Report.Emit(report.Event{Host: h.Addr(), Phase: phase, Event: report.EventOutput, Message: line})
			return
		}
		d := time.Duration(st.DurationMS) * time.Millisecond
		// The step's message stays out: edgeadm's error reaches the phase's
		// own error, redacted with everything else.
		s.Report.Step(h.Addr(), phase, st.Step, st.State, d)
		if st.State == contract.StepDone || st.State == contract.StepFailed {
			h.addStep(report.StepTime{Phase: phase, Step: st.Step, DurationMS: st.DurationMS, Failed: st.State == contract.StepFailed})
		}
	}, out)
}

// addStep keeps a step's time for the summary.
func (h *Host) addStep(st report.StepTime) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.steps = append(h.steps, st)
}
