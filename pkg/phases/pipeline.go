package phases

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/edgeops/edgeops/pkg/report"
)

// A run of consecutive pipelined phases in a list is a pipeline: each host
// goes through the group's phases in order on its own, without waiting for
// the other hosts at phase boundaries. That is the bring-up's critical path:
// the leader starts init as soon as it is staged, and the joining hosts
// install the package while it initialises, instead of init waiting for
// the slowest stage and the joins then installing after init.
//
// A pipelined phase may depend on its own host's earlier phases only. Its
// Prepare runs when the group starts; its Hosts are read then too (decide
// has fixed every host's action before).
type pipelined interface{ pipelined() }

func isPipelined(p Phase) bool {
	if d, ok := p.(deselected); ok {
		p = d.Phase
	}
	_, ok := p.(pipelined)
	return ok && !isSerial(p)
}

// pipelineEnd is the index after the group of pipelined phases at list[i].
func pipelineEnd(list []Phase, i int) int {
	j := i
	for j < len(list) && isPipelined(list[j]) {
		j++
	}
	return j
}

// span is a phase's wall time across its hosts: first start to last end.
type span struct{ start, end time.Time }

func (sp *span) add(start, end time.Time) {
	if sp.start.IsZero() || start.Before(sp.start) {
		sp.start = start
	}
	if end.After(sp.end) {
		sp.end = end
	}
}

// runPipeline runs group as a pipeline and reports whether the run may go
// on. A Critical phase that fails on a host stops the other hosts before
// their next phase (the one they are in finishes) and then the run.
func runPipeline(ctx context.Context, s *State, group []Phase) bool {
	var phases []Phase
	for _, p := range group {
		if d, ok := p.(deselected); ok {
			s.Report.Emit(report.Event{Phase: p.Title(), Event: report.EventSkipped, Message: d.why})
			continue
		}
		phases = append(phases, p)
	}
	members := make([]map[*Host]bool, len(phases))
	for i, p := range phases {
		members[i] = map[*Host]bool{}
		run, ok := prepare(ctx, s, p)
		if !ok {
			return false
		}
		if !run {
			continue
		}
		for _, h := range p.Hosts(s) {
			members[i][h] = true
		}
	}

	var (
		mu      sync.Mutex
		spans   = make([]span, len(phases))
		stopped atomic.Bool // a critical phase failed
	)
	var g errgroup.Group
	g.SetLimit(s.Concurrency)
	for _, h := range leaderFirst(s) {
		g.Go(func() error {
			for i, p := range phases {
				if !members[i][h] || h.Failed() {
					continue
				}
				if stopped.Load() {
					return nil
				}
				if ctx.Err() != nil {
					h.fail(&HostError{Host: h.Addr(), Phase: p.Title(), Err: ErrInterrupted})
					return nil
				}
				start := time.Now()
				err := runHost(ctx, s, p, h)
				mu.Lock()
				spans[i].add(start, time.Now())
				mu.Unlock()
				if err != nil {
					if isCritical(p) {
						stopped.Store(true)
					}
					return nil
				}
			}
			return nil
		})
	}
	g.Wait()

	s.mu.Lock()
	for i, p := range phases {
		if !spans[i].start.IsZero() {
			s.timings = append(s.timings, PhaseTiming{Phase: p.Title(), Duration: spans[i].end.Sub(spans[i].start)})
		}
	}
	s.mu.Unlock()
	return !stopped.Load() && len(s.Healthy()) > 0
}

// leaderFirst lists the healthy hosts with the leader first: when the
// concurrency bound is below the host count, the critical path starts at once.
func leaderFirst(s *State) []*Host {
	l := s.Leader()
	out := make([]*Host, 0, len(s.Hosts))
	if l != nil && !l.Failed() {
		out = append(out, l)
	}
	for _, h := range s.Healthy() {
		if h != l {
			out = append(out, h)
		}
	}
	return out
}
