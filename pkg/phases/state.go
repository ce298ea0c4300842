package phases

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/edgeops/edgeops/pkg/inventory"
	"github.com/edgeops/edgeops/pkg/joininfo"
	"github.com/edgeops/edgeops/pkg/report"
)

// Config is what a command gives the orchestration.
type Config struct {
	Inventory *inventory.Inventory
	// Package is the install package: a local file, or an http(s) URL the
	// hosts fetch themselves. PackageSHA256 is its checksum (required for URLs).
	Package       string
	PackageSHA256 string
	// EdgeadmBinary is the local edgeadm to stage on the hosts.
	EdgeadmBinary string
	// Kubeconfig is where the admin kubeconfig is written locally (0600).
	Kubeconfig string
	// Concurrency bounds how many hosts are worked on at once.
	Concurrency int
	Dial        Dialer
	Report      *report.Reporter
	// RunID identifies this run in host locks.
	RunID string
	// ReadyTimeout bounds the wait for nodes to become Ready.
	ReadyTimeout time.Duration
	// APIWait bounds how long decide retries a leader's API server that
	// does not answer before it gives up (never resetting anything).
	APIWait time.Duration
	// HeartbeatEvery is how often the lock is refreshed on every host (and
	// the bound of one host's beat); default 10 s, well under the 45 s stale limit.
	HeartbeatEvery time.Duration
	// Now and After are the clock (tests pin them).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Targets are the hosts the command acts on (nil: every host of the run):
	// reset --host and add-node set them;
	// the other hosts only help (the leader deletes the reset nodes' objects).
	Targets map[string]bool
}

// Host is one inventory host and what the run learned and did there.
type Host struct {
	*inventory.Host
	Remote Remote
	Facts  Facts

	mu       sync.Mutex
	err      error
	status   string // final word for the summary: joined, unchanged, reset, …
	detail   string
	changed  bool
	changes  int // SetStatus calls that changed the host, for per-phase reporting
	duration time.Duration
	locked   bool
	action   action // what up decided to do here
	steps    []report.StepTime
	// preinstalled: the install phase ran here in this run (the join skips it).
	preinstalled bool
}

// Addr is how the host is named in output.
func (h *Host) Addr() string { return h.Address }

// NodeName is the Kubernetes node name: the inventory override, else the
// host's own hostname.
func (h *Host) NodeName() string {
	if h.Hostname != "" {
		return h.Hostname
	}
	return h.Facts.Hostname
}

// Failed reports whether a phase failed on the host.
func (h *Host) Failed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err != nil
}

// Err is the host's failure, if any.
func (h *Host) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

func (h *Host) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.err = err
	}
}

// SetStatus records the host's outcome for the summary.
func (h *Host) SetStatus(status, detail string, changed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.detail = status, detail
	h.changed = h.changed || changed
	if changed {
		h.changes++
	}
}

func (h *Host) changeCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changes
}

// Changed reports whether the run changed the host.
func (h *Host) Changed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

// State is shared by the phases of one run.
type State struct {
	Config
	Hosts []*Host

	mu            sync.Mutex
	joinInfo      *joininfo.Info
	mintedTokens  []string // IDs of the bootstrap tokens this run minted, deleted when it ends
	cluster       clusterState
	leader        *Host // chosen once by decide; nil before: the first master
	readyErr      error // the ready phase's last failure to list the nodes
	timings       []PhaseTiming
	stopHeartbeat func()
	uploads       chan struct{} // bounds concurrent file transfers
}

// PhaseTiming is how long a phase took (for the summary and the e2e note).
type PhaseTiming struct {
	Phase    string
	Duration time.Duration
}

// NewState wraps the inventory hosts (or the given subset) for a run.
func NewState(cfg Config, hosts []*inventory.Host) *State {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.HeartbeatEvery <= 0 {
		cfg.HeartbeatEvery = lockHeartbeat
	}
	if cfg.APIWait <= 0 {
		cfg.APIWait = 2 * time.Minute
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = inventory.DefaultConcurrency
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 5 * time.Minute
	}
	if cfg.Report == nil {
		cfg.Report = report.New(report.Options{})
	}
	uploads := cfg.Inventory.Concurrency.Uploads
	if uploads <= 0 {
		uploads = inventory.DefaultUploads
	}
	s := &State{Config: cfg, uploads: make(chan struct{}, uploads)}
	for _, h := range hosts {
		s.Hosts = append(s.Hosts, &Host{Host: h})
	}
	return s
}

// Healthy lists the hosts no phase has failed on.
func (s *State) Healthy() []*Host {
	var out []*Host
	for _, h := range s.Hosts {
		if !h.Failed() {
			out = append(out, h)
		}
	}
	return out
}

// Leader is the master that leads the run: the one decide chose (see
// chooseLeader), before that the first master of the run's hosts (nil if none).
func (s *State) Leader() *Host {
	s.mu.Lock()
	l := s.leader
	s.mu.Unlock()
	if l != nil {
		return l
	}
	return s.firstMaster()
}

func (s *State) firstMaster() *Host {
	for _, h := range s.Hosts {
		if h.Role == inventory.RoleMaster {
			return h
		}
	}
	return nil
}

// chooseLeader fixes the run's leader once the hosts were reached: the
// first master, unless it is unreachable and another master that is
// reachable has the cluster's control plane (admin.conf): then that one
// mints tokens and certificate keys, so a dead first master does not stop
// up, add-node or reset. It never picks a master without a control plane:
// a new cluster is initialised on the first master only.
func (s *State) chooseLeader() (leader, replaced *Host) {
	first := s.firstMaster()
	leader = first
	if first != nil && first.Failed() {
		for _, h := range s.Hosts {
			if h != first && h.Role == inventory.RoleMaster && !h.Failed() && h.Facts.AdminConf {
				leader, replaced = h, first
				break
			}
		}
	}
	s.mu.Lock()
	s.leader = leader
	s.mu.Unlock()
	return leader, replaced
}

// Timings lists each phase's wall time, in run order.
func (s *State) Timings() []PhaseTiming {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PhaseTiming(nil), s.timings...)
}

// SetJoinInfo keeps the join information and registers its secrets for redaction.
func (s *State) SetJoinInfo(i joininfo.Info) {
	s.Report.AddSecrets(i.Secrets()...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.joinInfo = &i
	if id, _, ok := strings.Cut(i.Token, "."); ok {
		s.mintedTokens = append(s.mintedTokens, id)
	}
}

// MintedTokens lists the IDs (not secrets) of the tokens this run minted.
func (s *State) MintedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.mintedTokens...)
}

// JoinInfo is the join information read from a master (nil before).
func (s *State) JoinInfo() *joininfo.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joinInfo
}

func filter(hosts []*Host, keep func(*Host) bool) []*Host {
	var out []*Host
	for _, h := range hosts {
		if keep(h) {
			out = append(out, h)
		}
	}
	return out
}

func (h *Host) isLocked() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.locked
}

func (s *State) acquireUpload(ctx context.Context) error {
	select {
	case s.uploads <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *State) releaseUpload() { <-s.uploads }

func (s *State) after(d time.Duration) <-chan time.Time { return s.After(d) }

// Targeted reports whether the command acts on h (see Config.Targets).
func (s *State) Targeted(h *Host) bool { return s.Targets == nil || s.Targets[h.Address] }
