// Package exitcode maps errors to the process exit status of edgeops.
// A part that wants a specific status wraps its error with New (or returns a
// type that has an ExitCode() int method); everything else is a failure.
package exitcode

import (
	"context"
	"errors"
	"strconv"

	"github.com/edgeops/edgeops/pkg/inventory"
)

// Exit statuses, documented in the README.
const (
	OK          = 0   // success
	Failure     = 1   // the run failed
	Config      = 2   // configuration or usage error; no host was touched
	Partial     = 3   // some hosts failed, the others succeeded
	Locked      = 4   // a host is locked by another run
	Interrupted = 130 // interrupted (SIGINT/SIGTERM), as shells report 128+SIGINT
)

// Error carries an exit status with the error that caused it.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "exit status " + strconv.Itoa(e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ExitCode lets errors.As find the status through wrapping.
func (e *Error) ExitCode() int { return e.Code }

// New wraps err with an exit status. New(code, nil) is nil.
func New(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Coder is any error that knows its exit status.
type Coder interface {
	error
	ExitCode() int
}

// Of maps an error to its exit status: nil is OK; an error carrying a status
// (outermost first) gives it; an inventory validation error is Config; a
// cancelled context is Interrupted; anything else is Failure.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	var ve *inventory.ValidationError
	if errors.As(err, &ve) {
		return Config
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Failure
}

// Name is a short word for a status, for JSON output and logs.
func Name(code int) string {
	switch code {
	case OK:
		return "ok"
	case Failure:
		return "failure"
	case Config:
		return "config"
	case Partial:
		return "partial"
	case Locked:
		return "locked"
	case Interrupted:
		return "interrupted"
	}
	return "exit-" + strconv.Itoa(code)
}
