package phases

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
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

// runEdgeadmPhases runs `edgeadm init|join phase X` command lines in order,
// stopping at the first failure, which it names ("edgeadm join phase
// install-package: …").
func runEdgeadmPhases(ctx context.Context, s *State, h *Host, phase string, argvs [][]string) error {
	for _, argv := range argvs {
		w := s.Report.Lines(h.Addr(), phase)
		err := runEdgeadm(ctx, s, h, phase, argv, w)
		w.Close()
		if err != nil {
			return fmt.Errorf("edgeadm %s: %w", strings.Join(argv[1:4], " "), err)
		}
	}
	return nil
}

// describeEdgeadm is plan's line for edgeadm command lines run in order.
func describeEdgeadm(argvs [][]string) string {
	parts := make([]string, 0, len(argvs))
	for _, argv := range argvs {
		parts = append(parts, "edgeadm "+command(argv[1:]...))
	}
	return strings.Join(parts, "; ")
}

// addStep keeps a step's time for the summary.
func (h *Host) addStep(st report.StepTime) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.steps = append(h.steps, st)
}
