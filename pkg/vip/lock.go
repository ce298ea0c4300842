package vip

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
)

// trackedLock is the Lease lock as the elector uses it, reporting to the
// holder: every holder read or written, the start of every successful
// write naming us (the renewal clock of holder.hold), the API server's
// answers, and a release before it is written (the address goes first).
type trackedLock struct {
	rl.Interface
	h *holder
}

func (l *trackedLock) Get(ctx context.Context) (*rl.LeaderElectionRecord, []byte, error) {
	r, raw, err := l.Interface.Get(ctx)
	l.h.apiResult("get", answered(err))
	if err == nil {
		l.h.observe(r.HolderIdentity)
		raw = preciseRaw(raw, r)
	}
	return r, raw, err
}

// preciseRaw makes every renewal visible to client-go. A candidate
// restarts its wait of LeaseDuration only when these bytes change, and the
// JSON of the record holds the times in whole seconds: renewals within the
// same second look alike, so a candidate could take over up to a second
// before LeaseDuration has passed since the holder's last renewal. The
// bytes are only compared, never parsed.
func preciseRaw(raw []byte, r *rl.LeaderElectionRecord) []byte {
	return fmt.Appendf(raw, " renew=%d acquire=%d", r.RenewTime.UnixNano(), r.AcquireTime.UnixNano())
}

func (l *trackedLock) Create(ctx context.Context, ler rl.LeaderElectionRecord) error {
	return l.write(ctx, "create", ler, l.Interface.Create)
}

func (l *trackedLock) Update(ctx context.Context, ler rl.LeaderElectionRecord) error {
	if ler.HolderIdentity == "" {
		// client-go releases (ReleaseOnCancel) by writing an empty holder;
		// another master may take over the moment it lands.
		l.h.stepDown("stopping: lease released")
	}
	return l.write(ctx, "update", ler, l.Interface.Update)
}

func (l *trackedLock) write(ctx context.Context, op string, ler rl.LeaderElectionRecord, f func(context.Context, rl.LeaderElectionRecord) error) error {
	start := time.Now()
	err := f(ctx, ler)
	l.h.apiResult(op, answered(err))
	if err == nil {
		l.h.observe(ler.HolderIdentity)
		if ler.HolderIdentity == l.Identity() {
			l.h.renewed(start)
		}
	}
	return err
}

// answered drops the errors that still prove the API server answered.
func answered(err error) error {
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
