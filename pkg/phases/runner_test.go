package phases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/exitcode"
	"github.com/edgeops/edgeops/pkg/inventory"
)

// testPhase records when it ran on which host and fails where told.
type testPhase struct {
	title    string
	serial   bool
	critical bool
	failOn   map[string]error
	skipOn   map[string]bool
	delay    time.Duration
	log      *runLog
}

type runLog struct {
	mu       sync.Mutex
	order    []string // "phase/host"
	running  atomic.Int32
	maxSeen  atomic.Int32
	cleanups []string
}

func (p testPhase) Title() string          { return p.title }
func (p testPhase) Serial() bool           { return p.serial }
func (p testPhase) Critical() bool         { return p.critical }
func (p testPhase) Hosts(s *State) []*Host { return s.Healthy() }
func (p testPhase) Run(ctx context.Context, s *State, h *Host) error {
	n := p.log.running.Add(1)
	defer p.log.running.Add(-1)
	for {
		m := p.log.maxSeen.Load()
		if n <= m || p.log.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(p.delay)
	p.log.mu.Lock()
	p.log.order = append(p.log.order, p.title+"/"+h.Addr())
	p.log.mu.Unlock()
	if p.skipOn[h.Addr()] {
		return Skip("nothing to do")
	}
	if err := p.failOn[h.Addr()]; err != nil {
		return err
	}
	h.SetStatus("ok", "", true)
	return nil
}
func (p testPhase) CleanUp(ctx context.Context, s *State) {
	p.log.mu.Lock()
	p.log.cleanups = append(p.log.cleanups, p.title)
	p.log.mu.Unlock()
}

func testState(n, concurrency int) *State {
	inv := &inventory.Inventory{}
	var hosts []*inventory.Host
	for i := 1; i <= n; i++ {
		role := inventory.RoleEdge
		if i == 1 {
			role = inventory.RoleMaster
		}
		hosts = append(hosts, &inventory.Host{Address: fmt.Sprintf("10.0.0.%d", i), Role: role})
	}
	inv.Hosts = hosts
	return NewState(Config{Inventory: inv, Concurrency: concurrency}, hosts)
}

func TestRunnerBoundsAndOrder(t *testing.T) {
	tests := []struct {
		name        string
		hosts       int
		concurrency int
		serial      bool
		wantMax     int32
	}{
		{"bounded by concurrency", 8, 3, false, 3},
		{"concurrency above hosts", 3, 10, false, 3},
		{"serial phase", 5, 10, true, 1},
		{"concurrency one", 4, 1, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testState(tt.hosts, tt.concurrency)
			log := &runLog{}
			list := []Phase{
				testPhase{title: "a", serial: tt.serial, delay: 20 * time.Millisecond, log: log},
				testPhase{title: "b", serial: tt.serial, delay: 5 * time.Millisecond, log: log},
			}
			if err := Run(context.Background(), s, list); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := log.maxSeen.Load(); got != tt.wantMax {
				t.Errorf("max hosts at once = %d, want %d", got, tt.wantMax)
			}
			// every host of phase a before any of phase b
			seenB := false
			for _, e := range log.order {
				if strings.HasPrefix(e, "b/") {
					seenB = true
				} else if seenB {
					t.Errorf("phase a ran after phase b started: %v", log.order)
				}
			}
			if len(log.order) != 2*tt.hosts {
				t.Errorf("ran %d host-phases, want %d", len(log.order), 2*tt.hosts)
			}
			if strings.Join(log.cleanups, ",") != "b,a" {
				t.Errorf("cleanups = %v, want last phase first", log.cleanups)
			}
			for _, h := range s.Hosts {
				if n := h.changeCount(); n != 2 {
					t.Errorf("host %s: %d changes, want one per phase", h.Addr(), n)
				}
			}
			if len(s.Timings()) != 2 {
				t.Errorf("timings = %v", s.Timings())
			}
		})
	}
}

func TestRunnerErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		phases     func(*runLog) []Phase
		wantCode   int
		wantFailed []string
		targets    []string // Config.Targets (nil: every host)
		wantMsg    []string
		wantRan    []string // host-phases expected to have run (subset check)
		notRan     []string
	}{
		{
			name: "all ok",
			phases: func(l *runLog) []Phase {
				return []Phase{testPhase{title: "a", log: l}}
			},
			wantCode: exitcode.OK,
		},
		{
			name: "one host fails: partial, later phases skip it",
			phases: func(l *runLog) []Phase {
				return []Phase{
					testPhase{title: "join", failOn: map[string]error{"10.0.0.3": boom}, log: l},
					testPhase{title: "ready", log: l},
				}
			},
			wantCode:   exitcode.Partial,
			wantFailed: []string{"10.0.0.3"},
			wantMsg:    []string{"host 10.0.0.3: join: boom"},
			wantRan:    []string{"ready/10.0.0.1", "ready/10.0.0.2"},
			notRan:     []string{"ready/10.0.0.3"},
		},
		{
			name: "two hosts fail: both named, joined",
			phases: func(l *runLog) []Phase {
				return []Phase{testPhase{title: "join", failOn: map[string]error{"10.0.0.2": boom, "10.0.0.3": errors.New("bang")}, log: l}}
			},
			wantCode:   exitcode.Partial,
			wantFailed: []string{"10.0.0.2", "10.0.0.3"},
			wantMsg:    []string{"host 10.0.0.2: join: boom", "host 10.0.0.3: join: bang"},
		},
		{
			name: "critical phase fails: run stops, failure",
			phases: func(l *runLog) []Phase {
				return []Phase{
					testPhase{title: "init", critical: true, failOn: map[string]error{"10.0.0.1": boom}, log: l},
					testPhase{title: "join", log: l},
				}
			},
			wantCode: exitcode.Failure,
			wantMsg:  []string{"host 10.0.0.1: init: boom"},
			notRan:   []string{"join/10.0.0.2"},
		},
		{
			name: "locked host: exit 4",
			phases: func(l *runLog) []Phase {
				return []Phase{
					testPhase{title: "lock", critical: true, failOn: map[string]error{"10.0.0.2": &LockedError{Host: "10.0.0.2", Owner: "x", Age: "1s"}}, log: l},
					testPhase{title: "stage", log: l},
				}
			},
			wantCode: exitcode.Locked,
			notRan:   []string{"stage/10.0.0.1"},
		},
		{
			name: "every host fails: failure, not partial",
			phases: func(l *runLog) []Phase {
				return []Phase{testPhase{title: "connect", failOn: map[string]error{"10.0.0.1": boom, "10.0.0.2": boom, "10.0.0.3": boom}, log: l}}
			},
			wantCode: exitcode.Failure,
		},
		{
			name:    "the only target fails, its helper succeeds: failure, not partial",
			targets: []string{"10.0.0.2"},
			phases: func(l *runLog) []Phase {
				return []Phase{testPhase{title: "join", failOn: map[string]error{"10.0.0.2": boom}, log: l}}
			},
			wantCode: exitcode.Failure,
		},
		{
			name:    "one of two targets fails: partial",
			targets: []string{"10.0.0.2", "10.0.0.3"},
			phases: func(l *runLog) []Phase {
				return []Phase{testPhase{title: "join", failOn: map[string]error{"10.0.0.2": boom}, log: l}}
			},
			wantCode:   exitcode.Partial,
			wantFailed: []string{"10.0.0.2"},
		},
		{
			name: "skip is not a failure",
			phases: func(l *runLog) []Phase {
				return []Phase{testPhase{title: "stage", skipOn: map[string]bool{"10.0.0.2": true}, log: l}}
			},
			wantCode: exitcode.OK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testState(3, 4)
			if tt.targets != nil {
				s.Targets = map[string]bool{}
				for _, a := range tt.targets {
					s.Targets[a] = true
				}
			}
			log := &runLog{}
			err := Run(context.Background(), s, tt.phases(log))
			if got := exitcode.Of(err); got != tt.wantCode {
				t.Fatalf("exit code %d, want %d (err: %v)", got, tt.wantCode, err)
			}
			var pe *PartialError
			if tt.wantFailed != nil {
				if !errors.As(err, &pe) {
					t.Fatalf("want *PartialError, got %T", err)
				}
				if strings.Join(pe.Failed, ",") != strings.Join(tt.wantFailed, ",") {
					t.Errorf("failed = %v, want %v", pe.Failed, tt.wantFailed)
				}
			}
			for _, m := range tt.wantMsg {
				if err == nil || !strings.Contains(err.Error(), m) {
					t.Errorf("error %v does not contain %q", err, m)
				}
			}
			if err != nil && tt.wantMsg != nil && !errors.Is(err, boom) {
				t.Errorf("error chain lost the cause: %v", err)
			}
			ran := strings.Join(log.order, " ")
			for _, r := range tt.wantRan {
				if !strings.Contains(ran, r) {
					t.Errorf("%s did not run: %s", r, ran)
				}
			}
			for _, r := range tt.notRan {
				if strings.Contains(ran, r) {
					t.Errorf("%s ran: %s", r, ran)
				}
			}
		})
	}
}

func TestRunnerInterrupted(t *testing.T) {
	s := testState(2, 2)
	ctx, cancel := context.WithCancel(context.Background())
	log := &runLog{}
	cancel()
	err := Run(ctx, s, []Phase{testPhase{title: "a", log: log}})
	if exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("exit code %d, want 130 (err %v)", exitcode.Of(err), err)
	}
	if len(log.order) != 0 {
		t.Errorf("phases ran after cancel: %v", log.order)
	}
	if len(log.cleanups) != 1 {
		t.Errorf("cleanup did not run after an interrupt")
	}
}
