package report

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// liveView is the progress block at the bottom of a terminal, drawn by mpb:
// a header with the current phase, then one row per host with its phase,
// state and the edgeadm step it is in (with the step's elapsed time), or,
// while a file moves to it, a bar with bytes, rate and ETA. Lines printed
// meanwhile go above the block (mpb's Write); mpb trims every row to the
// terminal's width.
//
// The Reporter calls the view's methods with its own lock held, one at a
// time. Decorators run on mpb's goroutines, so the fields they read have the
// view's lock, which is never held while mpb is called.
type liveView struct {
	p   *mpb.Progress
	now func() time.Time

	mu     sync.Mutex
	phase  string
	since  time.Time // when the phase began
	header *mpb.Bar
	hosts  map[string]*liveHost
}

type liveHost struct {
	bar          *mpb.Bar
	name         string
	phase, state string
	step         string
	stepSince    time.Time
	done, total  int64
	moving       bool      // a transfer is under way
	last         time.Time // last progress update, for the rate's moving average
}

// liveOptions are the mpb container's settings; tests refresh by hand and
// pin the width.
type liveOptions struct {
	out     io.Writer
	now     func() time.Time
	width   int           // 0: the terminal's
	refresh chan any      // nil: mpb's own clock
	rate    time.Duration // redraw period
}

func newLiveView(o liveOptions) *liveView {
	opts := []mpb.ContainerOption{mpb.WithOutput(o.out), mpb.WithRefreshRate(o.rate)}
	if o.width > 0 {
		opts = append(opts, mpb.WithWidth(o.width))
	}
	if o.refresh != nil {
		opts = append(opts, mpb.WithManualRefresh(o.refresh))
	}
	return &liveView{p: mpb.New(opts...), now: o.now, hosts: map[string]*liveHost{}}
}

// Write prints text above the block.
func (v *liveView) Write(b []byte) (int, error) { return v.p.Write(b) }

func (v *liveView) setPhase(phase string) {
	v.mu.Lock()
	same, first := phase == v.phase, v.header == nil
	if !same {
		v.phase, v.since = phase, v.now()
	}
	v.mu.Unlock()
	if !first {
		return
	}
	v.header = v.add(mpb.NopStyle().Build(), mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
		v.mu.Lock()
		defer v.mu.Unlock()
		return fmt.Sprintf("── %s ── %s", v.phase, seconds(v.now().Sub(v.since)))
	})))
}

// host returns h's row, adding it. mpb is called without v.mu held: its
// render loop may be waiting for a decorator that needs v.mu.
func (v *liveView) host(h string) *liveHost {
	v.mu.Lock()
	lh, ok := v.hosts[h]
	v.mu.Unlock()
	if ok {
		return lh
	}
	lh = &liveHost{name: h, state: "waiting"}
	moving := func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return lh.moving
	}
	row := decor.Any(func(decor.Statistics) string {
		v.mu.Lock()
		defer v.mu.Unlock()
		return v.row(lh)
	})
	lh.bar = v.add(whenFiller{mpb.BarStyle().Build(), moving},
		mpb.PrependDecorators(row),
		mpb.AppendDecorators(
			// Fixed widths keep the rows' bars aligned.
			whenDecor{decor.Counters(decor.SizeB1024(0), "%.1f/%.1f", decor.WC{W: 17}), moving, ""},
			whenDecor{decor.EwmaSpeed(decor.SizeB1024(0), "% .1f", 30, decor.WC{W: 12}), moving, " "},
			whenDecor{decor.EwmaETA(decor.ET_STYLE_GO, 30, decor.WC{W: 6, C: decor.DindentRight}), moving, " ETA "},
		))
	v.mu.Lock()
	v.hosts[h] = lh
	v.mu.Unlock()
	return lh
}

// row is a host's text; v.mu is held.
func (v *liveView) row(lh *liveHost) string {
	s := pad(lh.name, 15) + " " + pad(lh.phase, 12)
	if lh.moving {
		return s + " " // the bar follows
	}
	s += " " + pad(lh.state, 8)
	if lh.step != "" && lh.state == "running" {
		s += " " + lh.step + " " + seconds(v.now().Sub(lh.stepSince))
	}
	return s
}

func (v *liveView) update(e Event) {
	if e.Phase != "" {
		v.setPhase(e.Phase)
	}
	if e.Host == "" {
		return
	}
	lh := v.host(e.Host)
	v.mu.Lock()
	defer v.mu.Unlock()
	if e.Phase != "" && e.Phase != lh.phase {
		lh.phase, lh.step = e.Phase, ""
	}
	switch e.Event {
	case EventStart:
		lh.state = "running"
	case EventDone, EventChanged, EventSkipped, EventFailed:
		lh.state, lh.moving, lh.step = e.Event, false, ""
	case EventStep:
		if e.State == "start" {
			lh.step, lh.stepSince = e.Step, e.Time
		}
	}
}

// progress moves h's bar: a new file (total changed or done went back)
// starts the bar again; the rate is a moving average over the updates.
func (v *liveView) progress(h string, done, total int64) {
	lh := v.host(h)
	v.mu.Lock()
	now := v.now()
	fresh := total != lh.total || done < lh.done
	lh.moving = done < total
	lh.done, lh.total = done, total
	since := now.Sub(lh.last)
	lh.last = now
	v.mu.Unlock()
	if lh.bar == nil {
		return
	}
	if fresh {
		lh.bar.SetTotal(total, false)
		lh.bar.SetCurrent(done)
		return
	}
	lh.bar.EwmaSetCurrent(done, since)
}

// add adds a row whose total is not known yet (so it never completes by
// itself); nil once the view is closed.
func (v *liveView) add(f mpb.BarFiller, opts ...mpb.BarOption) *mpb.Bar {
	b, err := v.p.Add(-1, f, opts...)
	if err != nil {
		return nil
	}
	return b
}

// close removes the block from the screen and stops mpb.
func (v *liveView) close() {
	v.mu.Lock()
	bars := []*mpb.Bar{v.header}
	for _, lh := range v.hosts {
		bars = append(bars, lh.bar)
	}
	v.mu.Unlock()
	for _, b := range bars {
		if b != nil {
			b.Abort(true)
		}
	}
	v.p.Wait()
}

// whenFiller draws its bar only while a transfer is under way.
type whenFiller struct {
	mpb.BarFiller
	on func() bool
}

func (f whenFiller) Fill(w io.Writer, st decor.Statistics) error {
	if !f.on() {
		return nil
	}
	return f.BarFiller.Fill(w, st)
}

// whenDecor shows its decorator, after prefix, only while a transfer is
// under way; Unwrap lets mpb feed the moving averages underneath.
type whenDecor struct {
	decor.Decorator
	on     func() bool
	prefix string
}

func (d whenDecor) Decor(st decor.Statistics) (string, int) {
	if !d.on() {
		return "", 0
	}
	s, w := d.Decorator.Decor(st)
	return d.prefix + s, w + runewidth.StringWidth(d.prefix)
}

func (d whenDecor) Unwrap() decor.Decorator { return d.Decorator }

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func bytesHuman(n int64) string {
	const mib = 1 << 20
	if n >= mib {
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	}
	return fmt.Sprintf("%d KiB", n/1024)
}
