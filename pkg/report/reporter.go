package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Options choose where and how the reporter writes.
type Options struct {
	// Out is stdout: host-prefixed lines, or JSON events with JSON set.
	Out io.Writer
	// JSON prints one event per line instead of text.
	JSON bool
	// Verbose also prints remote command output on Out.
	Verbose bool
	// Log receives every event, output lines included, as timestamped text.
	Log io.Writer
	// Live draws a progress view at the bottom of Out; use IsTerminal to decide.
	Live bool
	// Now is the clock (tests pin it).
	Now func() time.Time
	// ProgressEvery is how often, without a live view, a host's transfer
	// progress is written as an event (default 5s): a CI log of a slow edge
	// link should show that bytes move.
	ProgressEvery time.Duration
	// Width is the terminal's width for the lines printed above a live
	// view, which are wrapped to it (0: ask the terminal Out is).
	Width int
	// refresh redraws a live view on demand instead of mpb's clock (tests).
	refresh chan any
}

// IsTerminal reports whether w is a terminal, where a live view makes sense.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Reporter is safe for concurrent use by the per-host goroutines.
type Reporter struct {
	o   Options
	red Redactor

	mu           sync.Mutex
	live         *liveView            // nil without a live view, and once it is closed
	lastProgress map[string]time.Time // per host, for ProgressEvery
}

// New returns a reporter; a nil Out discards.
func New(o Options) *Reporter {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.JSON {
		o.Live = false
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 5 * time.Second
	}
	r := &Reporter{o: o, lastProgress: map[string]time.Time{}}
	if o.Live {
		r.live = newLiveView(liveOptions{out: o.Out, now: o.Now, width: o.Width, refresh: o.refresh, rate: 150 * time.Millisecond})
	}
	return r
}

// AddSecrets registers values that must never be written anywhere.
func (r *Reporter) AddSecrets(s ...string) { r.red.Add(s...) }

// Redact applies the registered secrets to s (for errors leaving the package).
func (r *Reporter) Redact(s string) string { return r.red.Redact(s) }

// Emit writes one event to every sink, redacted.
func (r *Reporter) Emit(e Event) {
	if e.Time.IsZero() {
		e.Time = r.o.Now()
	}
	e.Message = r.red.Redact(e.Message)
	e.Error = r.red.Redact(e.Error)

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.o.Log != nil {
		fmt.Fprintf(r.o.Log, "%s %s\n", e.Time.UTC().Format(time.RFC3339Nano), e.Text())
	}
	if r.live != nil {
		r.live.update(e)
	}
	if !r.o.Verbose && needsVerbose(e, r.o.JSON) {
		return
	}
	if r.o.JSON {
		if b, err := e.MarshalLine(); err == nil {
			r.o.Out.Write(b)
		}
		return
	}
	// On a terminal, wrapped with an indent: a line longer than the
	// terminal would break the live view's redraw, and reads badly anyway.
	var w io.Writer = r.o.Out
	if r.live != nil {
		w = r.live // above the live view
	}
	for _, l := range wrap(e.Text(), r.width()) {
		fmt.Fprintln(w, l)
	}
}

// needsVerbose: remote output lines are shown only with -v; in text, so are
// each host's phase start and the steps inside a phase (the live view and
// the result line say enough). The log always has everything.
func needsVerbose(e Event, json bool) bool {
	switch {
	case e.Event == EventOutput:
		return true
	case json:
		return false
	}
	return e.Event == EventStep || (e.Event == EventStart && e.Message == "")
}

// width is the terminal's width, or 0 when unknown.
func (r *Reporter) width() int {
	if r.o.Width > 0 {
		return r.o.Width
	}
	return terminalWidth(r.o.Out)
}

// Eventf is Emit with a formatted message.
func (r *Reporter) Eventf(host, phase, event, format string, args ...any) {
	r.Emit(Event{Host: host, Phase: phase, Event: event, Message: fmt.Sprintf(format, args...)})
}

// Failed emits a failure event for err.
func (r *Reporter) Failed(host, phase string, err error) {
	r.Emit(Event{Host: host, Phase: phase, Event: EventFailed, Error: err.Error()})
}

// Step reports a step inside host's phase (an edgeadm phase, kubeadm):
// state is start, done, skipped or failed; d is set when it ended.
func (r *Reporter) Step(host, phase, step, state string, d time.Duration) {
	msg := step + " " + state
	if d > 0 {
		msg += " in " + seconds(d)
	}
	r.Emit(Event{Host: host, Phase: phase, Event: EventStep, Step: step, State: state, DurationMS: d.Milliseconds(), Message: msg})
}

// Progress records bytes moved for a host during phase: drawn in the live
// view, or, without one, written as a progress event every ProgressEvery.
func (r *Reporter) Progress(host, phase string, done, total int64) {
	r.mu.Lock()
	due := false
	if r.live != nil {
		r.live.progress(host, done, total)
	} else {
		now := r.o.Now()
		last, started := r.lastProgress[host]
		// The first call only starts the clock: short transfers stay quiet.
		due = started && done < total && now.Sub(last) >= r.o.ProgressEvery
		if !started || due {
			r.lastProgress[host] = now
		}
	}
	r.mu.Unlock()
	if due {
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(done) / float64(total)
		}
		r.Emit(Event{Host: host, Phase: phase, Event: EventProgress, Bytes: done, Total: total,
			Message: fmt.Sprintf("%s of %s (%.0f%%)", bytesHuman(done), bytesHuman(total), pct)})
	}
}

// Lines returns a writer that emits each complete line written to it as an
// output event for host and phase. Close flushes a trailing partial line.
func (r *Reporter) Lines(host, phase string) io.WriteCloser {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			r.Emit(Event{Host: host, Phase: phase, Event: EventOutput, Message: sc.Text()})
		}
		io.Copy(io.Discard, pr)
	}()
	return &lineWriter{pw: pw, done: done}
}

type lineWriter struct {
	pw   *io.PipeWriter
	done chan struct{}
	once sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) { return w.pw.Write(p) }
func (w *lineWriter) Close() error {
	w.once.Do(func() { w.pw.Close(); <-w.done })
	return nil
}

// Close removes the live view so the terminal is left clean; later output
// is printed as lines.
func (r *Reporter) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLiveLocked()
}

func (r *Reporter) closeLiveLocked() {
	if r.live != nil {
		r.live.close()
		r.live = nil
	}
}

// pad is strings.Repeat for table alignment of the live view.
func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}
