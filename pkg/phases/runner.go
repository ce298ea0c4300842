package phases

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/edgeops/edgeops/pkg/report"
)

// skip is returned by Run when the host needs nothing from the phase.
type skip struct{ reason string }

func (s skip) Error() string { return s.reason }

// Skip tells the runner the host was already in the wanted state.
func Skip(format string, args ...any) error { return skip{fmt.Sprintf(format, args...)} }

// Run runs the phases in order. Each phase's hosts run in parallel, at most
// s.Concurrency at once (one at a time for Serial phases). A host that fails
// is left out of the later phases; a Critical phase that fails stops the run.
// The result is nil, a *PartialError (some hosts failed, others succeeded),
// or the joined per-host errors (*HostError) when nothing could succeed.
func Run(ctx context.Context, s *State, list []Phase) (err error) {
	defer func() { cleanUp(ctx, s, list) }()
	stopped := false
	for i := 0; i < len(list); i++ {
		p := list[i]
		if ctx.Err() != nil {
			stopped = true
			break
		}
		if isPipelined(p) {
			end := pipelineEnd(list, i)
			if !runPipeline(ctx, s, list[i:end]) {
				stopped = true
				break
			}
			i = end - 1
			continue
		}
		if d, ok := p.(deselected); ok {
			s.Report.Emit(report.Event{Phase: p.Title(), Event: report.EventSkipped, Message: d.why})
			continue
		}
		if !runPhase(ctx, s, p) {
			stopped = true
			break
		}
	}
	return result(ctx, s, stopped)
}

// prepare runs p's Prepare, if it has one: run says whether p's hosts are
// to run, ok whether the run may go on (a failed Prepare fails every host
// the phase was for).
func prepare(ctx context.Context, s *State, p Phase) (run, ok bool) {
	pr, has := p.(Preparer)
	if !has {
		return true, true
	}
	err := pr.Prepare(ctx, s)
	if err == nil {
		return true, true
	}
	var sk skip
	if errors.As(err, &sk) {
		s.Report.Emit(report.Event{Phase: p.Title(), Event: report.EventSkipped, Message: sk.reason})
		return false, true
	}
	for _, h := range p.Hosts(s) {
		h.fail(&HostError{Host: h.Addr(), Phase: p.Title(), Err: err})
	}
	s.Report.Emit(report.Event{Phase: p.Title(), Event: report.EventFailed, Error: err.Error()})
	return false, false
}

// runPhase reports whether the run may go on.
func runPhase(ctx context.Context, s *State, p Phase) bool {
	start := time.Now()
	defer func() {
		s.mu.Lock()
		s.timings = append(s.timings, PhaseTiming{Phase: p.Title(), Duration: time.Since(start)})
		s.mu.Unlock()
	}()
	if run, ok := prepare(ctx, s, p); !run {
		return ok
	}
	hosts := filter(p.Hosts(s), func(h *Host) bool { return !h.Failed() })
	if len(hosts) == 0 {
		return len(s.Healthy()) > 0
	}
	limit := s.Concurrency
	if isSerial(p) {
		limit = 1
	}
	var g errgroup.Group
	g.SetLimit(limit)
	var mu sync.Mutex
	failed := 0
	for _, h := range hosts {
		g.Go(func() error {
			if ctx.Err() != nil {
				h.fail(&HostError{Host: h.Addr(), Phase: p.Title(), Err: ErrInterrupted})
				return nil
			}
			if err := runHost(ctx, s, p, h); err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	if failed > 0 && isCritical(p) {
		return false
	}
	return len(s.Healthy()) > 0
}

func runHost(ctx context.Context, s *State, p Phase, h *Host) error {
	s.Report.Emit(report.Event{Host: h.Addr(), Phase: p.Title(), Event: report.EventStart})
	before := h.changeCount()
	start := time.Now()
	err := p.Run(ctx, s, h)
	h.mu.Lock()
	h.duration += time.Since(start)
	h.mu.Unlock()
	var sk skip
	switch {
	case err == nil && h.changeCount() > before:
		s.Report.Emit(report.Event{Host: h.Addr(), Phase: p.Title(), Event: report.EventChanged, Message: time.Since(start).Round(time.Millisecond).String()})
	case err == nil:
		s.Report.Emit(report.Event{Host: h.Addr(), Phase: p.Title(), Event: report.EventDone, Message: time.Since(start).Round(time.Millisecond).String()})
	case errors.As(err, &sk):
		s.Report.Emit(report.Event{Host: h.Addr(), Phase: p.Title(), Event: report.EventSkipped, Message: sk.reason})
		return nil
	default:
		if ctx.Err() != nil && !errors.Is(err, ErrInterrupted) {
			err = fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		he := &HostError{Host: h.Addr(), Phase: p.Title(), Err: err}
		h.fail(he)
		s.Report.Failed(h.Addr(), p.Title(), err)
		return he
	}
	return nil
}

// cleanUp runs every phase's CleanUp, last first, even after an interrupt.
func cleanUp(ctx context.Context, s *State, list []Phase) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for i := len(list) - 1; i >= 0; i-- {
		if c, ok := list[i].(CleanUpper); ok {
			c.CleanUp(cctx, s)
		}
	}
}

func result(ctx context.Context, s *State, stopped bool) error {
	var errs []error
	var failed []string
	targetsOK := 0 // hosts the command acts on (not mere helpers) that succeeded
	leader := s.Leader()
	for _, h := range s.Hosts {
		if err := h.Err(); err != nil {
			if !s.Targeted(h) && h != leader {
				// A helper that was not needed (another master of add-node,
				// down while the leader did the work): its row says why.
				continue
			}
			errs = append(errs, err)
			failed = append(failed, h.Addr())
		} else if s.Targeted(h) {
			targetsOK++
		}
	}
	if ctx.Err() != nil {
		return errors.Join(append([]error{ErrInterrupted}, errs...)...)
	}
	if len(errs) == 0 {
		return nil
	}
	joined := errors.Join(errs...)
	// Partial means some of the hosts the command acts on made it: a helper
	// (the leader that minted a token for add-node) succeeding does not count.
	if stopped || targetsOK == 0 {
		return joined
	}
	return &PartialError{Failed: failed, Err: joined}
}
