package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/edgeops/edgeops/pkg/inventory"
)

type lockedErr struct{}

func (lockedErr) Error() string { return "host 10.0.0.3: locked by run 42" }
func (lockedErr) ExitCode() int { return Locked }

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain", errors.New("boom"), Failure},
		{"wrapped config", fmt.Errorf("up: %w", New(Config, errors.New("--host and --all"))), Config},
		{"partial", New(Partial, errors.Join(errors.New("host a: join: x"))), Partial},
		{"own coder type, wrapped", fmt.Errorf("host 10.0.0.3: %w", lockedErr{}), Locked},
		{"validation error", fmt.Errorf("load: %w", &inventory.ValidationError{File: "h.yaml"}), Config},
		{"cancelled", fmt.Errorf("host a: %w", context.Canceled), Interrupted},
		{"outer code wins", New(Interrupted, New(Partial, errors.New("x"))), Interrupted},
		{"deadline is a failure", context.DeadlineExceeded, Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.want {
				t.Errorf("Of(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestNewNil(t *testing.T) {
	if New(Failure, nil) != nil {
		t.Error("New(code, nil) must be nil")
	}
}

func TestName(t *testing.T) {
	for code, want := range map[int]string{OK: "ok", Config: "config", Partial: "partial", Locked: "locked", Interrupted: "interrupted", 7: "exit-7"} {
		if got := Name(code); got != want {
			t.Errorf("Name(%d) = %q, want %q", code, got, want)
		}
	}
}
