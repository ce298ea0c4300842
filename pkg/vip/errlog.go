package vip

import (
	"log"
	"sync"
	"time"
)

// errLogInterval is how often one repeated error is logged.
const errLogInterval = 30 * time.Second

// errLog logs a message at most once per interval; the repeats in between
// are counted and reported with the next line that gets through.
type errLog struct {
	lg       *log.Logger
	interval time.Duration

	mu   sync.Mutex
	seen map[string]*errSeen
}

type errSeen struct {
	at         time.Time
	suppressed int
}

func newErrLog(lg *log.Logger, interval time.Duration) *errLog {
	return &errLog{lg: lg, interval: interval, seen: map[string]*errSeen{}}
}

// Print logs msg unless the same msg was logged less than interval ago.
func (e *errLog) Print(msg string) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.seen[msg]
	if s != nil && now.Sub(s.at) < e.interval {
		s.suppressed++
		return
	}
	if s != nil && s.suppressed > 0 {
		e.lg.Printf("%s (repeated %d times in %v)", msg, s.suppressed, now.Sub(s.at).Round(time.Second))
	} else {
		e.lg.Print(msg)
	}
	e.seen[msg] = &errSeen{at: now}
	if len(e.seen) > 64 {
		for k, v := range e.seen {
			if now.Sub(v.at) >= e.interval {
				delete(e.seen, k)
			}
		}
	}
}
