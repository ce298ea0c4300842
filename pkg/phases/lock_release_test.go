package phases

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/inventory"
)

// releaseRemote runs nothing once its context has ended, as an SSH
// session would; with hang, its lock release hangs until then (a
// black-holed host at the end of a run).
type releaseRemote struct {
	Remote
	hang bool
}

func (r releaseRemote) Run(ctx context.Context, cmd string, out io.Writer) ([]byte, error) {
	if r.hang && strings.Contains(cmd, "rmdir") {
		<-ctx.Done()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r.Remote.Run(ctx, cmd, out)
}

// A hung host must not use up the clean-up's time for the others: at fleet
// scale, releasing one host after another left 48 of 200 locks behind.
func TestLockReleaseDoesNotWaitForAHungHost(t *testing.T) {
	lab := newFakeLab(inventory.RoleMaster, inventory.RoleEdge, inventory.RoleEdge)
	s := lab.state(t, nil)
	ctx := context.Background()
	for _, h := range s.Hosts {
		h.Remote, _ = s.Dial(ctx, h.Host)
		if err := acquireLock(ctx, s, h); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range s.Hosts {
		h.Remote = releaseRemote{Remote: h.Remote, hang: i == 1}
	}
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	lockPhase{}.CleanUp(cctx, s)
	for _, i := range []int{0, 2} {
		if !lab.hosts[i].ran("rmdir") {
			t.Errorf("host %s: lock not released (the hung host %s held its release back)", lab.hosts[i].addr, lab.hosts[1].addr)
		}
	}
}
