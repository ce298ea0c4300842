package phases

import (
	"bufio"
	"bytes"
	"context"
	"fmt"

	"github.com/edgeops/edgeops/pkg/joininfo"
	"github.com/edgeops/edgeops/pkg/report"
)

// initPhase runs `edgeadm init` on the leader of a new cluster and reads the
// join information it wrote. Nothing can join without it, so it is critical.
type initPhase struct{}

func (initPhase) Title() string  { return "init" }
func (initPhase) Critical() bool { return true }
func (initPhase) Hosts(s *State) []*Host {
	return withAction(s, func(h *Host, a action) bool { return a.inits() && h == s.Leader() })
}

func (initPhase) Run(ctx context.Context, s *State, h *Host) error {
	if h.Action() == actReinit {
		s.Report.Eventf(h.Addr(), "init", report.EventWarning, "resetting a half-initialised control plane first")
		if err := runLogged(ctx, s, h, "init", command(EdgeadmPath, "reset", "--force")); err != nil {
			return fmt.Errorf("reset before init: %w", err)
		}
	}
	// init's output is held back until the join information's secrets are
	// registered for redaction; only then does it reach any sink.
	var buf bytes.Buffer
	runErr := runEdgeadm(ctx, s, h, "init", initArgs(s, h, len(mastersOf(s)) > 1), &buf)
	info, readErr := readJoinInfo(ctx, h)
	if readErr == nil {
		s.SetJoinInfo(info)
	}
	emitLines(s, h.Addr(), "init", buf.Bytes())
	h.SetStatus("initialised", "", true)
	if runErr != nil {
		return fmt.Errorf("edgeadm init: %w", runErr)
	}
	if readErr != nil {
		return readErr
	}
	if _, err := h.Remote.Run(ctx, "rm -f "+packageURLFile+" && touch "+DoneMarker, nil); err != nil {
		return err
	}
	return nil
}

func (initPhase) DryRun(s *State, h *Host) string {
	return "edgeadm " + command(initArgs(s, h, len(mastersOf(s)) > 1)[1:]...)
}

// readJoinInfo downloads and parses the join information file from a master.
func readJoinInfo(ctx context.Context, h *Host) (joininfo.Info, error) {
	data, err := h.Remote.Download(ctx, joininfo.DefaultPath)
	if err != nil {
		return joininfo.Info{}, fmt.Errorf("read %s: %w", joininfo.DefaultPath, err)
	}
	return joininfo.Parse(data)
}

// runLogged runs a command whose output goes to the reporter line by line.
func runLogged(ctx context.Context, s *State, h *Host, phase, cmd string) error {
	w := s.Report.Lines(h.Addr(), phase)
	_, err := h.Remote.Run(ctx, cmd, w)
	w.Close()
	return err
}

func emitLines(s *State, host, phase string, out []byte) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		s.Report.Emit(report.Event{Host: host, Phase: phase, Event: report.EventOutput, Message: sc.Text()})
	}
}

func mastersOf(s *State) []*Host { return filter(s.Hosts, isMaster) }

// finishInitPhase runs edgeadm's post-init phases again on a leader whose
// cluster answers but which edgeops never saw finish (a cluster made with
// edgeadm by hand, or an `up` that died after kubeadm): the CNI and the edge
// components are applied idempotently, then the done marker is written. The
// join information is minted by the join info phase when a host needs it.
type finishInitPhase struct{}

func (finishInitPhase) Title() string  { return "finish init" }
func (finishInitPhase) Critical() bool { return true }
func (finishInitPhase) Hosts(s *State) []*Host {
	return withAction(s, func(h *Host, a action) bool { return a == actFinishInit && h == s.Leader() })
}

func (p finishInitPhase) Run(ctx context.Context, s *State, h *Host) error {
	if err := runEdgeadmPhases(ctx, s, h, p.Title(), finishInitArgs(s, h)); err != nil {
		return err
	}
	if _, err := h.Remote.Run(ctx, "touch "+DoneMarker, nil); err != nil {
		return err
	}
	h.SetStatus("finished init", "", true)
	return nil
}

func (finishInitPhase) DryRun(s *State, h *Host) string { return describeEdgeadm(finishInitArgs(s, h)) }
