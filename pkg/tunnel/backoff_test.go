package tunnel

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const lo, hi = 500 * time.Millisecond, 2 * time.Second
	b := newBackoff(lo, hi)
	// each step waits within the upper half of 500 ms, 1 s, 2 s, 2 s, …
	steps := []time.Duration{lo, 2 * lo, hi, hi, hi}
	for i, step := range steps {
		if d := b.delay(); d < step/2 || d > step {
			t.Fatalf("delay %d = %s, want in [%s, %s]", i, d, step/2, step)
		}
	}
	b.reset()
	if d := b.delay(); d > lo {
		t.Fatalf("after reset: %s, want ≤ %s", d, lo)
	}
	b.reset()
	b.atMax()
	if d := b.delay(); d < hi/2 {
		t.Fatalf("after atMax: %s, want ≥ %s", d, hi/2)
	}
	// jitter: not every agent waits the same
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[newBackoff(lo, hi).delay()] = true
	}
	if len(seen) < 2 {
		t.Fatalf("no jitter: %v", seen)
	}
}
