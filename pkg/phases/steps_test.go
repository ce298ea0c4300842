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
	var steps []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e report.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("bad JSON %q: %v", line, err)
		}
		if strings.Contains(e.Message, `"v":1`) {
			t.Errorf("a protocol line leaked as %s: %s", e.Event, line)
		}
		if e.Event == report.EventStep {
			steps = append(steps, fmt.Sprintf("%s %s %s:%s", e.Host, e.Phase, e.Step, e.State))
		}
	}
	want := []string{
		"10.0.0.1 init install-package:start", "10.0.0.1 init install-package:done",
		"10.0.0.1 init kubeadm:start", "10.0.0.1 init kubeadm:done",
		"10.0.0.2 join nodes install-package:start", "10.0.0.2 join nodes install-package:done",
		"10.0.0.2 join nodes kubeadm:start", "10.0.0.2 join nodes kubeadm:done",
	}
	if strings.Join(steps, "\n") != strings.Join(want, "\n") {
		t.Errorf("step events:\n%s\nwant:\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
	rows := Rows(s, "failed")
	for i, phase := range []string{"init", "join nodes"} {
		got := rows[i].Steps
		if len(got) != 2 || got[0].Phase != phase || got[0].Step != "install-package" || got[0].DurationMS != 1200 || got[1].Step != "kubeadm" || got[1].DurationMS != 3400 {
			t.Errorf("%s: step times %+v", rows[i].Host, got)
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
