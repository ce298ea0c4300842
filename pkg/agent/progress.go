package agent

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/edgeops/edgeops/pkg/contract"
)

// Progress reports a run's steps to a machine reader on --progress-fd
// (contract.Step lines). It is best effort: a reader that went away must not
// fail an install, so write errors are dropped. A nil *Progress reports
// nothing.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	workflow string
}

// NewProgress reports on file descriptor fd; none (nil) when fd <= 0.
func NewProgress(fd int, workflow string) *Progress {
	if fd <= 0 {
		return nil
	}
	return NewProgressTo(os.NewFile(uintptr(fd), "progress"), workflow)
}

// NewProgressTo reports on w (tests).
func NewProgressTo(w io.Writer, workflow string) *Progress {
	return &Progress{w: w, workflow: workflow}
}

// Start says step began.
func (p *Progress) Start(step string) { p.write(contract.Step{Step: step, State: contract.StepStart}) }

// Done says step finished after d.
func (p *Progress) Done(step string, d time.Duration) {
	p.write(contract.Step{Step: step, State: contract.StepDone, DurationMS: d.Milliseconds()})
}

// Skipped says step was not run (--skip-phases).
func (p *Progress) Skipped(step string) {
	p.write(contract.Step{Step: step, State: contract.StepSkipped})
}

// Failed says step failed after d.
func (p *Progress) Failed(step string, d time.Duration, err error) {
	p.write(contract.Step{Step: step, State: contract.StepFailed, DurationMS: d.Milliseconds(), Message: err.Error()})
}

// Time runs fn as step, reporting its start and end.
func (p *Progress) Time(step string, fn func() error) error {
	p.Start(step)
	start := time.Now()
	err := fn()
	if err != nil {
		p.Failed(step, time.Since(start), err)
		return err
	}
	p.Done(step, time.Since(start))
	return nil
}

func (p *Progress) write(s contract.Step) {
	if p == nil {
		return
	}
	s.Workflow = p.workflow
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = p.w.Write(s.Line())
}
