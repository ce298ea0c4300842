package phases

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/edgeops/edgeops/pkg/report"
)

// TestUpReportsEdgeadmSteps: the steps edgeadm reports on its progress
// descriptor become step events (JSON) and the summary's step times, per
// host and phase; the protocol never shows as output.
func TestUpReportsEdgeadmSteps(t *testing.T) {
	lab := newFakeLab(master, edge)
	s := lab.state(t, nil)
	var out bytes.Buffer
	s.Report = report.New(report.Options{Out: &out, JSON: true, Verbose: true})
	if err := Run(t.Context(), s, UpPhases()); err != nil {
		t.Fatal(err)
	}
	steps := map[string][]string{} // per host: with the pipeline, hosts interleave
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e report.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("bad JSON %q: %v", line, err)
		}
		if strings.Contains(e.Message, `"v":1`) {
			t.Errorf("a protocol line leaked as %s: %s", e.Event, line)
		}
		if e.Event == report.EventStep {
			steps[e.Host] = append(steps[e.Host], fmt.Sprintf("%s %s:%s", e.Phase, e.Step, e.State))
		}
	}
	want := map[string][]string{
		"10.0.0.1": {"init install-package:start", "init install-package:done", "init kubeadm:start", "init kubeadm:done"},
		// The install phase ran the package's phases ahead; the join skipped them.
		"10.0.0.2": {"install prepare-node:start", "install prepare-node:done", "install install-package:start", "install install-package:done",
			"join nodes install-package:skipped", "join nodes kubeadm:start", "join nodes kubeadm:done"},
	}
	for host, w := range want {
		if strings.Join(steps[host], "\n") != strings.Join(w, "\n") {
			t.Errorf("%s: step events:\n%s\nwant:\n%s", host, strings.Join(steps[host], "\n"), strings.Join(w, "\n"))
		}
	}
	rows := Rows(s, "failed")
	wantTimes := [][]report.StepTime{
		{{Phase: "init", Step: "install-package", DurationMS: 1200}, {Phase: "init", Step: "kubeadm", DurationMS: 3400}},
		{{Phase: "install", Step: "prepare-node", DurationMS: 900}, {Phase: "install", Step: "install-package", DurationMS: 900},
			{Phase: "join nodes", Step: "kubeadm", DurationMS: 3400}},
	}
	for i, w := range wantTimes {
		if fmt.Sprint(rows[i].Steps) != fmt.Sprint(w) {
			t.Errorf("%s: step times %+v, want %+v", rows[i].Host, rows[i].Steps, w)
		}
	}
}

// A line that is not the protocol (an older edgeadm) is kept as output.
func TestStrayProgressLineIsOutput(t *testing.T) {
	lab := newFakeLab(master)
	s := lab.state(t, nil)
	var out bytes.Buffer
	s.Report = report.New(report.Options{Out: &out, JSON: true, Verbose: true})
	h := s.Hosts[0]
	h.Remote = strayRemote{fakeRemote{h: lab.hosts[0], c: lab.c}}
	if err := runEdgeadm(t.Context(), s, h, "init", []string{EdgeadmPath, "init", "phase", "cni"}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"event":"output","message":"hello from stdout"`) {
		t.Errorf("stray stdout line lost: %s", out.String())
	}
}

type strayRemote struct{ fakeRemote }

func (r strayRemote) RunSplit(ctx context.Context, cmd string, stdout func(string), out io.Writer) error {
	stdout("hello from stdout")
	return nil
}
