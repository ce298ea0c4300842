//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// terminalRun is an edgeops run in a real terminal (a tmux pane): what the
// screen showed while it ran, and everything it printed.
type terminalRun struct {
	code    int
	wall    time.Duration
	screens []string // the visible pane, sampled every 250 ms
	history string   // the whole scrollback once it ended
}

// runInTerminal runs edgeops in a detached tmux session of width×height
// (TERM xterm-256color) from the repository root, sampling the screen while
// it runs. tmux is a real terminal: edgeops sees a TTY and draws its live
// view, and capture-pane -J joins wrapped lines, so a line wider than the
// pane shows as one long line.
func (s *suite) runInTerminal(t *testing.T, width, height int, args ...string) terminalRun {
	t.Helper()
	dir := t.TempDir()
	sock, codeFile := filepath.Join(dir, "tmux.sock"), filepath.Join(dir, "code")
	tmux := func(a ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, a...)...).CombinedOutput()
		return string(out), err
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := fmt.Sprintf("cd '%s' && '%s' %s; echo $? > '%s'", s.root, s.edgeops, strings.Join(quoted, " "), codeFile)
	start := time.Now()
	stop := s.sniff()
	if out, err := tmux("new-session", "-d", "-s", "run", "-x", strconv.Itoa(width), "-y", strconv.Itoa(height),
		"-e", "TERM=xterm-256color", "sh", "-c", script+"; sleep 3600"); err != nil {
		stop()
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	defer tmux("kill-server")
	// Scrollback for the whole run's output.
	tmux("set-option", "-g", "history-limit", "100000")
	var r terminalRun
	for {
		if screen, err := tmux("capture-pane", "-p", "-J", "-t", "run"); err == nil {
			r.screens = append(r.screens, screen)
		}
		if b, err := os.ReadFile(codeFile); err == nil && len(b) > 0 {
			r.code, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			break
		}
		if time.Since(start) > 30*time.Minute {
			stop()
			t.Fatalf("edgeops %v in a terminal did not end in 30 minutes", args)
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.wall = time.Since(start)
	stop()
	r.history, _ = tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "run")
	s.keep(r.history)
	t.Logf("edgeops %s in a %dx%d terminal: exit %d in %s, %d screens sampled", strings.Join(args, " "), width, height, r.code, r.wall.Round(100*time.Millisecond), len(r.screens))
	return r
}

// stepRow matches a host's row of the live view while edgeadm runs a step
// on it: "172.28.30.12    join nodes   running  install-package 7.1s".
var stepRow = regexp.MustCompile(`^(\d+\.\d+\.\d+\.\d+)\s+(init|join masters|join nodes)\s+running\s+([a-z-]+) (\d+\.\d)s\s*$`)

// checkTerminal asserts what an operator saw: every host in hosts showed
// the edgeadm step it was in while edgeadm ran there (init on the leader,
// join on the others), no line was wider than the terminal, and the summary
// ended with each host's step times.
func checkTerminal(t *testing.T, r terminalRun, width int, hosts []string) {
	t.Helper()
	seen := map[string]map[string]bool{} // host -> steps shown
	for _, screen := range r.screens {
		for _, line := range strings.Split(screen, "\n") {
			plain := strings.TrimRight(line, " ")
			if n := utf8.RuneCountInString(plain); n > width {
				t.Errorf("a line of %d columns in a %d-column terminal (it wrapped): %q", n, width, plain)
			}
			if m := stepRow.FindStringSubmatch(plain); m != nil {
				if seen[m[1]] == nil {
					seen[m[1]] = map[string]bool{}
				}
				seen[m[1]][m[3]] = true
			}
		}
	}
	for _, h := range hosts {
		steps := make([]string, 0, len(seen[h]))
		for st := range seen[h] {
			steps = append(steps, st)
		}
		if len(steps) == 0 {
			t.Errorf("host %s never showed an edgeadm step in its row", h)
			continue
		}
		t.Logf("MEASURE terminal: %s showed steps %v", h, steps)
	}
	i := strings.Index(r.history, "STEP TIMES")
	if i < 0 {
		t.Fatalf("no STEP TIMES under the summary:\n%s", tail(r.history, 40))
	}
	times := strings.ReplaceAll(r.history[i:], "\n    ", " ") // edgeops wraps long lines with an indent
	for _, h := range hosts {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(h) + `  (init|join nodes|join masters): .*kubeadm \d+\.\ds`).MatchString(times) {
			t.Errorf("STEP TIMES has no kubeadm time for %s:\n%s", h, r.history[i:])
		}
	}
}
