package phases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/edgeops/edgeops/pkg/bundle"
)

// controlCheck runs right after decide when phase control left phases out.
// It refuses, before any host is changed, a run whose phases cannot work
// without the ones left out: joins on a leader that has no cluster yet, a
// half-joined host joining without its reset, and above all edgeadm or the
// package missing because stage was skipped on hosts never staged.
type controlCheck struct {
	list []Phase
	run  map[string]bool // names of the phases this run runs
	sums *localSums
}

func newControlCheck(list []Phase, run map[string]bool) *controlCheck {
	return &controlCheck{list: list, run: run, sums: &localSums{sums: map[string]string{}}}
}

func (*controlCheck) Title() string          { return "check phases" }
func (*controlCheck) Critical() bool         { return true }
func (*controlCheck) Hosts(s *State) []*Host { return s.Healthy() }

// selected lists the phases of the run after the plumbing, with hosts to act on.
func (c *controlCheck) selected(s *State) []Phase {
	var out []Phase
	for _, p := range c.list {
		if c.run[Name(p)] && !isPlumbing(p) && len(p.Hosts(s)) > 0 {
			out = append(out, p)
		}
	}
	return out
}

func (c *controlCheck) Prepare(ctx context.Context, s *State) error {
	init, clean := Name(initPhase{}), Name(cleanPhase{})
	l := s.Leader()
	if l != nil && !l.Failed() && l.Action().inits() && !c.run[init] {
		var need []string
		after := false
		for _, p := range c.list {
			if Name(p) == init {
				after = true
				continue
			}
			if after && c.run[Name(p)] && len(p.Hosts(s)) > 0 {
				need = append(need, Name(p))
			}
		}
		if len(need) > 0 {
			return fmt.Errorf("the leader %s has no cluster yet and init is not part of this run, but these phases need one: %s; "+
				"run `edgeops up phase init` first, or do not skip init; nothing was changed", l.Addr(), strings.Join(need, ", "))
		}
	}
	if !c.run[clean] {
		var half []string
		for _, p := range c.selected(s) {
			if _, ok := p.(joinPhase); !ok {
				continue
			}
			for _, h := range p.Hosts(s) {
				if h.Action() == actRejoin {
					half = append(half, h.Addr())
				}
			}
		}
		if len(half) > 0 {
			return fmt.Errorf("%s half-joined (an interrupted join): %s must run before they join again; do not skip it; nothing was changed",
				strings.Join(half, ", "), clean)
		}
	}
	return nil
}

// needsStaged reports whether a phase of this run runs the staged edgeadm
// or installs the staged package on h while stage itself does not run.
func (c *controlCheck) needsStaged(s *State, h *Host) bool {
	if c.run[Name(stagePhase{})] || !contains(stagePhase{}.Hosts(s), h) {
		return false
	}
	for _, p := range c.selected(s) {
		if !usesStaged(p) {
			continue
		}
		// The leader mints the join information with its edgeadm.
		if _, mints := p.(joinInfoPhase); (mints && h == s.Leader()) || contains(p.Hosts(s), h) {
			return true
		}
	}
	return false
}

func (c *controlCheck) Run(ctx context.Context, s *State, h *Host) error {
	if !c.needsStaged(s, h) {
		return nil
	}
	files, _, err := stagePlan(s, h)
	if err != nil {
		return err
	}
	want := map[string]string{}
	var paths []string
	for _, f := range files {
		sum := sha256Hex(f.data)
		if !f.fromMemory {
			if sum, err = c.sums.of(f.local); err != nil {
				return err
			}
		}
		want[f.remote] = sum
		paths = append(paths, quote(f.remote))
	}
	out, err := h.Remote.Run(ctx, stagedSumsScript(paths), nil)
	if err != nil {
		return fmt.Errorf("read the staged files' sha256: %w", err)
	}
	have := parseStagedSums(string(out))
	var problems []string
	for _, f := range files {
		switch got, ok := have[f.remote]; {
		case !ok:
			problems = append(problems, f.remote+" is missing")
		case got != want[f.remote]:
			problems = append(problems, fmt.Sprintf("%s differs (sha256 %s, want %s)", f.remote, short(got), short(want[f.remote])))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("not staged, and stage is not part of this run: %s; run `edgeops up phase stage` first, or do not skip stage; nothing was changed",
			strings.Join(problems, "; "))
	}
	s.Report.Eventf(h.Addr(), c.Title(), "info", "staged files verified: %d, sha256 match", len(files))
	return nil
}

// stagedSumsScript prints "sha256 path" for each path that is a file
// (openssl is ~4x faster than sha256sum, as pkg/ssh's upload uses it).
func stagedSumsScript(quotedPaths []string) string {
	return `sum() { if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; else sha256sum; fi; }; ` +
		`for f in ` + strings.Join(quotedPaths, " ") + `; do [ -f "$f" ] && echo "$(sum < "$f" | cut -c1-64) $f"; done; exit 0`
}

func parseStagedSums(out string) map[string]string {
	have := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if sum, path, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			have[path] = sum
		}
	}
	return have
}

// localSums remembers the sha256 of local files: the package is hashed once
// per run, not once per host.
type localSums struct {
	mu   sync.Mutex
	sums map[string]string
}

func (l *localSums) of(path string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sum, ok := l.sums[path]; ok {
		return sum, nil
	}
	sum, _, err := bundle.FileSHA256(path)
	if err != nil {
		return "", err
	}
	l.sums[path] = sum
	return sum, nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
