package ssh

import (
	"errors"
	"fmt"
	"strings"
)

// AuthError: the server refused every configured authentication method, or
// a configured credential could not be loaded. Never retried.
type AuthError struct {
	Host    string
	User    string
	Methods []string // methods tried, in order, e.g. "publickey(id_ed25519, agent)"
	Err     error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("host %s: ssh auth as %s failed (tried %s): %v", e.Host, e.User, strings.Join(e.Methods, ", "), e.Err)
}
func (e *AuthError) Unwrap() error { return e.Err }

// HostKeyError: the host key is unknown (strict policy) or changed. Never retried.
type HostKeyError struct {
	Host     string
	Addr     string   // host:port as in known_hosts
	Changed  bool     // true: a different key is recorded for the host
	Offered  string   // SHA256 fingerprint of the key the server offered
	KeyType  string   // type of the offered key
	Expected []string // fingerprints recorded in known_hosts (when Changed)
	Files    []string // known_hosts files consulted
	// AcceptCommand appends exactly the offered key to the first known_hosts
	// file (unknown hosts only). Check Offered out of band before running it.
	AcceptCommand string
	Err           error
}

func (e *HostKeyError) Error() string {
	if e.Changed {
		return fmt.Sprintf("host %s: HOST KEY CHANGED for %s: offered %s %s, expected %s (known_hosts: %s); refusing to connect — if the host was reinstalled, remove the old entry with: ssh-keygen -R '%s' -f '%s'",
			e.Host, e.Addr, e.KeyType, e.Offered, strings.Join(e.Expected, " or "), strings.Join(e.Files, ", "), knownHostsPattern(e.Addr), firstOr(e.Files, "~/.ssh/known_hosts"))
	}
	return fmt.Sprintf("host %s: unknown host key for %s: %s %s (not in %s); verify the fingerprint, then accept it with: %s",
		e.Host, e.Addr, e.KeyType, e.Offered, strings.Join(e.Files, ", "), e.AcceptCommand)
}
func (e *HostKeyError) Unwrap() error { return e.Err }

// UnreachableError: the TCP connection or SSH handshake could not be made
// (refused, reset, timed out, no route). Transient ones are retried by Dial.
type UnreachableError struct {
	Host     string
	Addr     string
	Via      string // bastion the connection went through, if any
	Attempts int
	Err      error
}

func (e *UnreachableError) Error() string {
	via := ""
	if e.Via != "" {
		via = " via " + e.Via
	}
	return fmt.Sprintf("host %s: cannot reach %s%s after %d attempt(s): %v", e.Host, e.Addr, via, e.Attempts, e.Err)
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// ExitError: a remote command ran and exited non-zero (or was killed by a signal).
type ExitError struct {
	Host       string
	Cmd        string // the command as given (shortened), never with secrets
	Code       int    // exit status; -1 when killed by a signal
	Signal     string
	StderrTail string // last lines of stderr
}

func (e *ExitError) Error() string {
	status := fmt.Sprintf("exited %d", e.Code)
	if e.Signal != "" {
		status = "killed by signal " + e.Signal
	}
	msg := fmt.Sprintf("host %s: command %q %s", e.Host, e.Cmd, status)
	if e.StderrTail != "" {
		msg += ": " + e.StderrTail
	}
	return msg
}

// SudoError: the user cannot run privileged commands.
type SudoError struct {
	Host   string
	User   string
	Reason string
}

func (e *SudoError) Error() string {
	return fmt.Sprintf("host %s: user %s cannot use sudo: %s", e.Host, e.User, e.Reason)
}

// ErrClosed is returned by operations on a closed Client.
var ErrClosed = errors.New("ssh client closed")

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// tail returns the last n lines of s, trimmed.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, "\n")
	if len(out) > 2048 {
		out = "…" + out[len(out)-2048:]
	}
	return out
}

// shortCmd trims a command for error messages.
func shortCmd(cmd string) string {
	cmd = strings.Join(strings.Fields(cmd), " ")
	if len(cmd) > 120 {
		return cmd[:117] + "..."
	}
	return cmd
}
