package phases

import (
	"fmt"
	"github.com/edgeops/edgeops/pkg/exitcode"
	"strings"
)

// HostError is a failure on one host in one phase:
// "host 10.0.0.3: join: …".
type HostError struct {
	Host  string
	Phase string
	Err   error
}

func (e *HostError) Error() string { return fmt.Sprintf("host %s: %s: %v", e.Host, e.Phase, e.Err) }
func (e *HostError) Unwrap() error { return e.Err }

// LockedError says a host is being worked on by another run (exit 4).
type LockedError struct {
	Host  string
	Owner string // who holds the lock, as recorded in it
	Age   string // since its last heartbeat
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("locked by another edgeops run (%s, heartbeat %s ago); wait for it to finish, or remove /var/lib/edgeops/lock on %s if that run is gone", e.Owner, e.Age, e.Host)
}

// PartialError says some hosts failed while the rest succeeded (exit 3).
type PartialError struct {
	Failed []string // addresses of the failed hosts
	Err    error    // errors.Join of their HostErrors
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d host(s) failed (%s), the others succeeded:\n%v", len(e.Failed), strings.Join(e.Failed, ", "), e.Err)
}
func (e *PartialError) Unwrap() error { return e.Err }

// ExitCode: a locked host is exit status 4 (pkg/exitcode.Locked).
func (e *LockedError) ExitCode() int { return exitcode.Locked }

// ExitCode: some hosts failed, the rest succeeded: exit status 3 (pkg/exitcode.Partial).
func (e *PartialError) ExitCode() int { return exitcode.Partial }

type interrupted struct{}

func (interrupted) Error() string { return "interrupted" }

// ExitCode: exit status 130, as shells report SIGINT (pkg/exitcode.Interrupted).
func (interrupted) ExitCode() int { return exitcode.Interrupted }

// ErrInterrupted marks a run stopped by its context (exit 130).
var ErrInterrupted error = interrupted{}
