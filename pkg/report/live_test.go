package report

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer mpb's goroutine and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLiveView: each host's row shows the edgeadm step it is in with its
// elapsed time, a transfer shows a bar with bytes, rate and ETA, lines
// printed meanwhile are wrapped to the width, and closing leaves no view.
func TestLiveView(t *testing.T) {
	const width = 72
	var out syncBuffer
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var clock sync.Mutex
	tick := func(d time.Duration) {
		clock.Lock()
		now = now.Add(d)
		clock.Unlock()
	}
	refresh := make(chan any)
	r := New(Options{Out: &out, Live: true, Width: width, refresh: refresh, Now: func() time.Time {
		clock.Lock()
		defer clock.Unlock()
		return now
	}})
	draw := func() string {
		before := len(out.String())
		refresh <- time.Now()
		// mpb writes the frame after the render request: wait for it.
		for i := 0; i < 200 && len(out.String()) == before; i++ {
			time.Sleep(5 * time.Millisecond)
		}
		return out.String()[before:]
	}

	r.Emit(Event{Host: "edge-1", Phase: "stage", Event: EventStart})
	r.Progress("edge-1", "stage", 0, 100<<20)
	for i := int64(1); i <= 4; i++ {
		tick(time.Second)
		r.Progress("edge-1", "stage", i*10<<20, 100<<20)
	}
	frame := draw()
	for _, want := range []string{"── stage ──", "edge-1", "40.0MiB/100.0MiB", "MiB/s"} {
		if !strings.Contains(frame, want) {
			t.Errorf("transfer frame lacks %q:\n%s", want, frame)
		}
	}

	r.Emit(Event{Host: "edge-1", Phase: "stage", Event: EventChanged})
	r.Emit(Event{Host: "master-1", Phase: "init", Event: EventStart})
	r.Step("master-1", "init", "install-package", "start", 0)
	tick(7100 * time.Millisecond)
	r.Emit(Event{Host: "edge-1", Phase: "init", Event: EventInfo, Message: strings.Repeat("a long message ", 10)})
	frame = draw()
	if !strings.Contains(frame, "install-package 7.1s") {
		t.Errorf("the init row does not show the step and its time:\n%s", frame)
	}
	for _, l := range strings.Split(frame, "\n") {
		if plain := stripANSI(l); len([]rune(plain)) > width {
			t.Errorf("line of %d columns, over %d: %q", len([]rune(plain)), width, plain)
		}
	}
	if !strings.Contains(out.String(), wrapIndent+"a long message") {
		t.Errorf("the long line above the view was not wrapped:\n%s", out.String())
	}
	r.Close()
	r.Emit(Event{Host: "edge-1", Phase: "init", Event: EventInfo, Message: "after"})
	if !strings.HasSuffix(out.String(), "[edge-1] init: after\n") {
		t.Errorf("a line after Close is not printed plainly: %q", out.String()[max(0, len(out.String())-200):])
	}
}

// stripANSI drops terminal escape sequences from a line.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i++; i < len(s) && !(s[i] >= '@' && s[i] <= '~' && s[i] != '['); i++ {
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
