package agent

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/pkg/contract"
)

// TestRunPhasesReportsSteps: each phase's start and end reach the progress
// descriptor, skipped and failed ones included, and nothing after a failure.
func TestRunPhasesReportsSteps(t *testing.T) {
	boom := errors.New("boom")
	ok := func(context.Context, *Run) error { return nil }
	phases := []Phase{
		{Name: "a", Run: ok},
		{Name: "b", Run: ok},
		{Name: "c", Run: func(context.Context, *Run) error { return boom }},
		{Name: "d", Run: ok},
	}
	var buf bytes.Buffer
	var log bytes.Buffer
	r := &Run{Host: &Host{Log: &log}, Progress: NewProgressTo(&buf, "join")}
	_, err := RunPhases(context.Background(), r, "join", phases, map[string]bool{"b": true})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		s, err := contract.ParseStep(line)
		if err != nil {
			t.Fatal(err)
		}
		if s.Workflow != "join" {
			t.Errorf("workflow %q", s.Workflow)
		}
		if s.State == contract.StepFailed && s.Message == "" {
			t.Errorf("failed step without its reason: %s", line)
		}
		got = append(got, s.Step+":"+s.State)
	}
	want := "a:start a:done b:skipped c:start c:failed"
	if strings.Join(got, " ") != want {
		t.Errorf("steps = %v, want %s", got, want)
	}
}

// A nil Progress (no --progress-fd) reports nothing and does not panic.
func TestNilProgress(t *testing.T) {
	var p *Progress
	if err := p.Time("x", func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if NewProgress(0, "init") != nil {
		t.Error("fd 0 gave a Progress")
	}
}
