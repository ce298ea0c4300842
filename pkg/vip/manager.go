package vip

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/edgeops/edgeops/pkg/contract"
)

// Options are the Manager's dependencies; nil ones are the real thing.
type Options struct {
	Logger *log.Logger // nil: stderr
	// Leases reaches this master's API server; nil: built from
	// Config.Kubeconfig.
	Leases coordinationv1client.LeasesGetter
	// Addrs and ARP act on the interface; nil: netlink and AF_PACKET on
	// Config.Interface (chosen by subnet when empty).
	Addrs AddrManager
	ARP   Announcer
}

// Manager runs the election and holds the address while it leads.
type Manager struct {
	cfg    Config
	leases coordinationv1client.LeasesGetter
	h      *holder
}

// NewManager checks cfg's timings, resolves the interface and builds the
// missing dependencies; nothing is changed on the host yet.
func NewManager(cfg Config, opts Options) (*Manager, error) {
	if err := checkTimings(cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod); err != nil {
		return nil, err
	}
	if cfg.NodeName == "" || !cfg.Address.Is4() {
		return nil, errors.New("config needs nodeName and an IPv4 address")
	}
	lg := opts.Logger
	if lg == nil {
		lg = log.New(os.Stderr, "", 0)
	}
	if opts.Addrs == nil || opts.ARP == nil {
		iface, err := ResolveInterface(nil, cfg.Interface, cfg.Address)
		if err != nil {
			return nil, err
		}
		cfg.Interface = iface
		if opts.Addrs == nil {
			opts.Addrs = NewNetlinkAddrs(nil, iface, cfg.Address)
		}
		if opts.ARP == nil {
			opts.ARP = NewARPAnnouncer(iface, cfg.Address)
		}
	}
	if opts.Leases == nil {
		rc, err := clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", cfg.Kubeconfig, err)
		}
		rc.UserAgent = "edge-vip"
		rc.Timeout = cfg.RenewDeadline // no single call outlives a renewal
		c, err := coordinationv1client.NewForConfig(rc)
		if err != nil {
			return nil, fmt.Errorf("kubernetes client: %w", err)
		}
		opts.Leases = c
	}
	tick := (cfg.LeaseDuration - cfg.RenewDeadline) / 8
	tick = min(max(tick, 10*time.Millisecond), 100*time.Millisecond)
	return &Manager{
		cfg:    cfg,
		leases: opts.Leases,
		h: &holder{
			self:  cfg.NodeName,
			ip:    cfg.Address,
			iface: cfg.Interface,
			lease: cfg.LeaseDuration,
			renew: cfg.RenewDeadline,
			tick:  tick,
			addrs: opts.Addrs,
			arp:   opts.ARP,
			lg:    lg,
			errs:  newErrLog(lg, errLogInterval),
		},
	}, nil
}

// Run elects until ctx ends, holding the address while leading. Losing
// the lease only starts the next election. On return the address is gone
// if this instance led; one found at start and never confirmed nor
// refuted is left (see the package doc).
func (m *Manager) Run(ctx context.Context) error {
	if err := m.h.initial(); err != nil {
		return err
	}
	m.h.lg.Printf("edge-vip: %s on %s as %s, lease %s/%s (duration %v, renew deadline %v, retry %v)",
		m.h.addr(), m.cfg.Interface, m.cfg.NodeName, contract.VIPLeaseNamespace, contract.VIPLeaseName,
		m.cfg.LeaseDuration, m.cfg.RenewDeadline, m.cfg.RetryPeriod)

	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		tk := time.NewTicker(m.h.tick)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				m.h.sweep()
			}
		}
	}()
	defer func() { <-sweepDone }()

	// client-go logs through klog; its errors reach the log through the
	// lock (deduplicated), the rest is noise here.
	lctx := klog.NewContext(ctx, logr.Discard())
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(m.electionConfig(ctx))
		if err != nil {
			return err
		}
		le.Run(lctx)
	}
	return nil
}

func (m *Manager) electionConfig(ctx context.Context) leaderelection.LeaderElectionConfig {
	lock := &trackedLock{
		Interface: &rl.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: contract.VIPLeaseNamespace, Name: contract.VIPLeaseName},
			Client:     m.leases,
			LockConfig: rl.ResourceLockConfig{Identity: m.cfg.NodeName},
		},
		h: m.h,
	}
	return leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            "edge-vip",
		LeaseDuration:   m.cfg.LeaseDuration,
		RenewDeadline:   m.cfg.RenewDeadline,
		RetryPeriod:     m.cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: m.h.startedLeading,
			OnStoppedLeading: func() {
				why := "lease not renewed within " + m.cfg.RenewDeadline.String()
				if ctx.Err() != nil {
					why = "stopping"
				}
				m.h.stepDown(why)
			},
			OnNewLeader: m.h.newLeader,
		},
	}
}

// Status is what /status shows.
func (m *Manager) Status() Status { return m.h.status() }
