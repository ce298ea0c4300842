package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/phases"
)

// TestPhaseHelpFromTheList: up's --help, `up phase`'s subcommands and
// --skip-phases' help are the phase list's names, in its order.
func TestPhaseHelpFromTheList(t *testing.T) {
	bin := buildBinary(t)
	ws := newWorkspace(t)
	up := runBinary(t, bin, ws.env, "up", "--help")
	if up.code != 0 {
		t.Fatalf("up --help: exit %d: %s", up.code, up.stderr)
	}
	last := -1
	for _, p := range phases.Describe(phases.UpPhases()) {
		i := strings.Index(up.stdout, "  "+p.Name+" ")
		if i < 0 || !strings.Contains(up.stdout, p.Description) {
			t.Errorf("up --help lacks phase %q (%s)", p.Name, p.Description)
		}
		if i < last {
			t.Errorf("up --help lists %q out of the list's order", p.Name)
		}
		last = i
	}
	if want := "--skip-phases strings      phases to leave out, comma-separated: " + strings.Join(phases.Skippable(phases.UpPhases()), ", "); !strings.Contains(up.stdout, want) {
		t.Errorf("up --help: want %q in:\n%s", want, up.stdout)
	}
	phase := runBinary(t, bin, ws.env, "up", "phase", "--help")
	for _, n := range phases.Selectable(phases.UpPhases()) {
		if !strings.Contains(phase.stdout, "\n  "+n+" ") {
			t.Errorf("up phase --help lacks the subcommand %q:\n%s", n, phase.stdout)
		}
	}
	for _, n := range []string{"connect", "lock", "facts", "decide", "join-info", "labels"} {
		if r := runBinary(t, bin, ws.env, "up", "phase", n, "--help"); strings.Contains(r.stdout, "edgeops up phase "+n+" [flags]") {
			t.Errorf("up phase %s is a subcommand; it must not run alone", n)
		}
	}
	sub := runBinary(t, bin, ws.env, "up", "phase", "stage", "--help")
	for _, flag := range []string{"-i, --inventory", "--edgeadm-binary"} {
		if !strings.Contains(sub.stdout, flag) {
			t.Errorf("up phase stage --help lacks %s:\n%s", flag, sub.stdout)
		}
	}
	add := runBinary(t, bin, ws.env, "add-node", "--help")
	if want := "comma-separated: " + strings.Join(phases.Skippable(phases.AddNodePhases()), ", "); !strings.Contains(add.stdout, want) {
		t.Errorf("add-node --help: want %q", want)
	}
}

// TestPhaseSelectionErrorsExit2: a bad phase name or combination exits 2,
// names the valid phases, and contacts no host.
func TestPhaseSelectionErrorsExit2(t *testing.T) {
	bin := buildBinary(t)
	ws := newWorkspace(t)
	port, accepted := sshTrap(t)
	path := ws.write(t, "hosts.yaml", strings.ReplaceAll(goodInventory, "PORT", port))
	validUp := "valid: " + strings.Join(phases.Selectable(phases.UpPhases()), ", ")
	validSkip := "valid: " + strings.Join(phases.Skippable(phases.UpPhases()), ", ")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"up", "-i", path, "--skip-phases", "stage,bogus"}, []string{`--skip-phases: unknown phase "bogus"`, validSkip}},
		{[]string{"up", "-i", path, "--skip-phases", "lock"}, []string{`phase "lock" always runs`, "cannot be skipped or run alone", validSkip}},
		{[]string{"up", "-i", path, "--skip-phases", "join-info"}, []string{"join-masters needs it"}},
		{[]string{"up", "-i", path, "--skip-phases", "labels"}, []string{"init needs it (labels runs whenever init does)"}},
		{[]string{"up", "phase", "bogus", "-i", path}, []string{`unknown phase "bogus"`, validUp}},
		{[]string{"up", "phase", "decide", "-i", path}, []string{`phase "decide" always runs`, validUp}},
		{[]string{"up", "phase", "join-info", "-i", path}, []string{"runs only with the phases that need it (join-masters, join-nodes)"}},
		{[]string{"up", "phase"}, []string{"name a phase: " + strings.Join(phases.Selectable(phases.UpPhases()), ", ")}},
		{[]string{"up", "phase", "stage", "init", "-i", path}, []string{"takes no arguments"}},
		{[]string{"up", "phase", "stage", "-i", path, "--skip-phases", "init"}, []string{"unknown flag: --skip-phases"}},
		{[]string{"add-node", "-i", path, "--host", "localhost", "--skip-phases", "init"}, []string{`--skip-phases: unknown phase "init"`}},
		{[]string{"add-node", "-i", path, "--host", "localhost", "--skip-phases", "connect"}, []string{`phase "connect" always runs`}},
	}
	for _, tt := range tests {
		r := runBinary(t, bin, ws.env, tt.args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr %q", tt.args, r.code, r.stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, w, r.stderr)
			}
		}
	}
	// --output json: the error is a JSON line on stdout, exit 2 too.
	r := runBinary(t, bin, ws.env, "--output", "json", "up", "phase", "bogus", "-i", path)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var m map[string]any
	if r.code != 2 || json.Unmarshal([]byte(lines[0]), &m) != nil || !strings.Contains(r.stdout, `unknown phase \"bogus\"`) {
		t.Errorf("--output json up phase bogus: exit %d, stdout %q", r.code, r.stdout)
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Errorf("phase selection errors opened %d connection(s) to the hosts; want none", n)
	}
}
