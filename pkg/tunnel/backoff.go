package tunnel

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff spaces an agent's reconnect attempts: min, doubling up to max,
// each with jitter so that agents cut off together do not return in step.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

func newBackoff(lo, hi time.Duration) *backoff { return &backoff{min: lo, max: hi, next: lo} }

// delay returns the next wait: a random point in the upper half of the
// current step, so it never exceeds max.
func (b *backoff) delay() time.Duration {
	d := b.next
	b.next = min(b.next*2, b.max)
	half := d / 2
	return half + rand.N(half+1)
}

// atMax makes the next waits the longest (a refusal will not heal at once).
func (b *backoff) atMax() { b.next = b.max }

func (b *backoff) reset() { b.next = b.min }

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
