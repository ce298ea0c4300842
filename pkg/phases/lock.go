package phases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// StateDir holds what edgeops keeps on a host: the lock and staged packages.
const StateDir = "/var/lib/edgeops"

// LockPath is the per-host run lock.
const LockPath = StateDir + "/lock"

// Heartbeat timing: the holder touches the lock every lockHeartbeat; a lock
// not touched for lockStale belongs to a run that is gone.
const (
	lockHeartbeat = 10 * time.Second
	lockStale     = 45 * time.Second
)

// lockGuard is the file acquireScript holds with flock while it reads and
// writes the lock. It is never unlinked (a second run would flock a new
// inode and both would proceed); it lives on /run's tmpfs so it leaves no
// trace across a reboot and nothing under StateDir.
const lockGuard = "/run/edgeops.lock-guard"

// lockDecision is what the acquire script found.
type lockDecision struct {
	Acquired bool
	TookOver bool          // a stale lock of another run was replaced
	Owner    string        // the other run's lock line
	Age      time.Duration // since the other run's last heartbeat
}

// agentProcess is edgeadm's process name: a lock whose run left edgeadm
// working on the host is not taken over, however stale.
const agentProcess = "edgeadm"

// acquireScript takes the lock for owner unless a fresh lock of another run
// holds it. flock serialises two runs racing for the same host; the lock's
// age is measured on the host's own clock, so skew does not matter.
// takeOver names a dead run's lock to replace whatever its age; agent is
// the process (edgeadm) whose presence keeps even a stale lock held.
func acquireScript(dir, guard, owner, takeOver, agent string, stale time.Duration) string {
	return fmt.Sprintf(`set -eu
d=%s; f=$d/lock; me=%s; dead=%s; agent=%s
command -v flock >/dev/null 2>&1 || { echo "flock is missing on the host: install util-linux" >&2; exit 3; }
mkdir -p "$d"; chmod 0700 "$d"
exec 9>>%s
flock -w 10 9 || { echo "another edgeops run is taking the lock right now" >&2; exit 3; }
if [ -f "$f" ]; then
  cur=$(head -n 1 "$f")
  age=$(( $(date +%%s) - $(stat -c %%Y "$f") ))
  if [ "$cur" != "$me" ]; then
    if [ "$age" -lt %d ] && [ "$cur" != "$dead" ]; then echo "held $age $cur"; exit 0; fi
    # A stale lock whose run left edgeadm working here is not dead yet.
    if pgrep -x "$agent" >/dev/null 2>&1; then echo "held $age $cur"; exit 0; fi
    echo "stale $age $cur"
  fi
fi
printf '%%s\n' "$me" > "$f.tmp"; chmod 0600 "$f.tmp"; mv "$f.tmp" "$f"
echo acquired
`, quote(dir), quote(owner), quote(takeOver), quote(agent), quote(guard), int(stale.Seconds()))
}

// parseLock reads acquireScript's output.
func parseLock(out string) (lockDecision, error) {
	var d lockDecision
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.SplitN(strings.TrimSpace(line), " ", 3)
		switch fields[0] {
		case "acquired":
			d.Acquired = true
		case "held", "stale":
			if len(fields) < 3 {
				return d, fmt.Errorf("lock: unexpected output %q", line)
			}
			secs, err := strconv.Atoi(fields[1])
			if err != nil {
				return d, fmt.Errorf("lock: unexpected age %q", fields[1])
			}
			d.Age = time.Duration(secs) * time.Second
			d.Owner = fields[2]
			d.TookOver = fields[0] == "stale"
		case "":
		default:
			return d, fmt.Errorf("lock: unexpected output %q", line)
		}
	}
	return d, nil
}

// NewRunID names a run in host locks: edgeops/<machine>/<pid>/<random>.
func NewRunID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("edgeops/%s/%d/%s", strings.ReplaceAll(host, "/", "_"), os.Getpid(), hex.EncodeToString(b[:]))
}

// deadLocalRun reports whether owner is a run ID of this machine whose
// process no longer exists.
func deadLocalRun(owner string) bool {
	parts := strings.Split(owner, "/")
	if len(parts) != 4 || parts[0] != "edgeops" {
		return false
	}
	host, _ := os.Hostname()
	if parts[1] != strings.ReplaceAll(host, "/", "_") {
		return false
	}
	pid, err := strconv.Atoi(parts[2])
	if err != nil || pid <= 0 {
		return false
	}
	return !processAlive(pid)
}

// heartbeatCmd touches the lock if this run still holds it and says so:
// "ours", or "lost" with whoever holds it now.
func heartbeatCmd(dir, owner string) string {
	return fmt.Sprintf(`f=%s/lock; cur=$(head -n 1 "$f" 2>/dev/null || true); if [ "$cur" = %s ]; then touch "$f" && echo ours; else echo "lost ${cur:-none}"; fi`, quote(dir), quote(owner))
}

// LockLostError: another run took the host's lock while this run held it.
type LockLostError struct{ Host, Owner string }

func (e *LockLostError) Error() string {
	return fmt.Sprintf("lost the host's lock to %s: this run stopped working on it; check that run, then run this again", e.Owner)
}

// beat refreshes h's lock within one heartbeat interval (well under
// lockStale, so a black-holed host cannot hold the others' beats back); a lock found taken by
// another run fails the host. A beat that times out or errs is only missed:
// the next one refreshes it, and lockStale allows for several.
func beat(ctx context.Context, s *State, h *Host) {
	bctx, cancel := context.WithTimeout(ctx, s.HeartbeatEvery)
	defer cancel()
	out, err := h.Remote.Run(bctx, heartbeatCmd(StateDir, s.RunID), nil)
	if err != nil {
		return
	}
	if word, owner, _ := strings.Cut(strings.TrimSpace(string(out)), " "); word == "lost" {
		h.mu.Lock()
		h.locked = false
		h.mu.Unlock()
		h.fail(&HostError{Host: h.Addr(), Phase: "lock", Err: &LockLostError{Host: h.Addr(), Owner: owner}})
		s.Report.Eventf(h.Addr(), "lock", "error", "lost the lock to %s", owner)
	}
}

// releaseCmd removes the lock if this run holds it.
// The state directory goes too when nothing else is in it, so a host edgeops
// only looked at is left as it was.
func releaseCmd(dir, owner string) string {
	return fmt.Sprintf(`d=%s; f=$d/lock; if [ -f "$f" ] && [ "$(head -n 1 "$f")" = %s ]; then rm -f "$f"; rmdir "$d" 2>/dev/null; fi; exit 0`, quote(dir), quote(owner))
}

// acquireLock takes h's lock or says who holds it.
// A fresh lock of a run that started on this machine and whose process is
// gone (killed, crashed) is taken over at once instead of waiting for it to
// go stale.
func acquireLock(ctx context.Context, s *State, h *Host) error {
	// The phase's HostError already says "host X: lock: ".
	out, err := h.Remote.Run(ctx, acquireScript(StateDir, lockGuard, s.RunID, "", agentProcess, lockStale), nil)
	if err != nil {
		return err
	}
	d, err := parseLock(string(out))
	if err != nil {
		return err
	}
	if !d.Acquired && deadLocalRun(d.Owner) {
		if out, err = h.Remote.Run(ctx, acquireScript(StateDir, lockGuard, s.RunID, d.Owner, agentProcess, lockStale), nil); err != nil {
			return err
		}
		if d, err = parseLock(string(out)); err != nil {
			return err
		}
	}
	if !d.Acquired {
		return &LockedError{Host: h.Addr(), Owner: d.Owner, Age: d.Age.String()}
	}
	if d.TookOver {
		s.Report.Eventf(h.Addr(), "lock", "warning", "took over a stale lock of %s (no heartbeat for %s)", d.Owner, d.Age)
	}
	h.mu.Lock()
	h.locked = true
	h.mu.Unlock()
	return nil
}

// lockPhase takes every host's lock first thing and keeps it alive with a
// heartbeat until the run ends; a host locked by a fresh run fails the
// whole run (exit 4) before anything is changed.
type lockPhase struct{}

func (lockPhase) Title() string          { return "lock" }
func (lockPhase) Critical() bool         { return true }
func (lockPhase) Hosts(s *State) []*Host { return s.Healthy() }
func (lockPhase) Run(ctx context.Context, s *State, h *Host) error {
	return acquireLock(ctx, s, h)
}

// Prepare starts the heartbeat; it runs until CleanUp.
func (lockPhase) Prepare(ctx context.Context, s *State) error {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	s.mu.Lock()
	s.stopHeartbeat = func() { cancel(); <-done }
	s.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(s.HeartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
			}
			// Every host beats on its own, bounded: one hung host cannot
			// hold the others' beats back past lockStale.
			var wg sync.WaitGroup
			for _, h := range s.Hosts {
				// A failed host is left alone: it may be gone.
				if h.isLocked() && !h.Failed() {
					wg.Add(1)
					go func() { defer wg.Done(); beat(hctx, s, h) }()
				}
			}
			wg.Wait()
		}
	}()
	return nil
}

// CleanUp stops the heartbeat and releases the locks this run holds.
func (lockPhase) CleanUp(ctx context.Context, s *State) {
	s.mu.Lock()
	stop := s.stopHeartbeat
	s.stopHeartbeat = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	// All hosts at once, as the heartbeat: one by one, a fleet's releases
	// did not fit the clean-up's time (measured: 48 of 200 locks left).
	var wg sync.WaitGroup
	for _, h := range s.Hosts {
		if h.isLocked() && h.Remote != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := h.Remote.Run(ctx, releaseCmd(StateDir, s.RunID), nil); err != nil {
					s.Report.Eventf(h.Addr(), "lock", "warning", "could not release the lock: %v", err)
				}
			}()
		}
	}
	wg.Wait()
}
