package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Result of a remote command.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

type runOpts struct {
	sudo   bool
	stdin  io.Reader
	env    map[string]string
	sink   LineSink
	secret bool
}

// RunOption adjusts one Run call.
type RunOption func(*runOpts)

// WithSudo runs the command as root: directly when the user is root,
// otherwise through `sudo -n` (or `sudo -S` fed the configured password).
func WithSudo() RunOption { return func(o *runOpts) { o.sudo = true } }

// WithStdin feeds r to the command's standard input.
func WithStdin(r io.Reader) RunOption { return func(o *runOpts) { o.stdin = r } }

// WithEnv sets environment variables for the command. They are exported by
// the remote shell (sshd's AcceptEnv is not needed), so they are visible in
// the remote process's command line: never pass secrets this way, use
// WithStdin.
func WithEnv(env map[string]string) RunOption { return func(o *runOpts) { o.env = env } }

// WithSink streams output lines to sink as they arrive (output is captured
// in the Result as well).
func WithSink(sink LineSink) RunOption { return func(o *runOpts) { o.sink = sink } }

// withQuietOutput keeps output out of the sink (for secrets we download).
func withQuietOutput() RunOption { return func(o *runOpts) { o.sink, o.secret = nil, true } }

var setsidSignal = regexp.MustCompile(`(?:^|\n)setsid: child \d+ did not exit normally[^\n]*\n?$`)

// signalName maps a signal number to the name SSH uses ("KILL").
func signalName(n int) string {
	names := map[int]string{1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 6: "ABRT", 8: "FPE", 9: "KILL", 11: "SEGV", 13: "PIPE", 14: "ALRM", 15: "TERM", 10: "USR1", 12: "USR2"}
	if s, ok := names[n]; ok {
		return s
	}
	return strconv.Itoa(n)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Run runs cmd with `sh -c` on the host in its own session (process group)
// and returns its output and exit status. A non-zero exit is an *ExitError
// (the Result is returned too). When ctx is cancelled the remote process
// group is signalled (TERM, then KILL), the session closed and ctx's error
// returned.
func (c *Client) Run(ctx context.Context, cmd string, opts ...RunOption) (*Result, error) {
	o := runOpts{}
	for _, opt := range opts {
		opt(&o)
	}
	for k := range o.env {
		if !envName.MatchString(k) {
			return nil, fmt.Errorf("host %s: run %q: invalid environment variable name %q", c.cfg.Name, shortCmd(cmd), k)
		}
	}
	var mode sudoMode
	if o.sudo {
		var err error
		if mode, err = c.sudoMode(ctx); err != nil {
			return nil, err
		}
	}
	remote, stdin, err := c.wrap(cmd, o, mode)
	if err != nil {
		return nil, err
	}
	stdout := &lineWriter{host: c.cfg.Name, stream: Stdout, sink: o.sink}
	stderr := &lineWriter{host: c.cfg.Name, stream: Stderr, sink: o.sink, wantMarker: true, pgidCh: make(chan int, 1)}
	kill := func(kctx context.Context) {
		select {
		case pg, ok := <-stderr.pgidCh:
			if ok && pg > 1 {
				c.killGroup(kctx, pg, mode, o.sudo)
			}
		case <-time.After(5 * time.Second): // never started
		}
	}
	code, sig, err := c.exec(ctx, remote, stdin, stdout, stderr, kill)
	stdout.flush()
	stderr.flush()
	res := &Result{Stdout: stdout.bytes(), Stderr: stderr.bytes(), ExitCode: code}
	if loc := setsidSignal.FindIndex(res.Stderr); loc != nil && code > 0 {
		// setsid -w turns "killed by signal N" into exit status N plus a note.
		res.Stderr = res.Stderr[:loc[0]]
		sig, res.ExitCode = signalName(code&0x7f), -1
	}
	if err != nil {
		if strings.HasPrefix(err.Error(), "host "+c.cfg.Name+":") { // dial errors name the host already
			return res, fmt.Errorf("run %q: %w", shortCmd(cmd), err)
		}
		return res, fmt.Errorf("host %s: run %q: %w", c.cfg.Name, shortCmd(cmd), err)
	}
	if res.ExitCode != 0 || sig != "" {
		if o.sudo && mode == sudoPassword && strings.Contains(string(res.Stderr), "incorrect password") {
			return res, &SudoError{Host: c.cfg.Name, User: c.cfg.User, Reason: "sudo password rejected"}
		}
		return res, &ExitError{Host: c.cfg.Name, Cmd: shortCmd(cmd), Code: res.ExitCode, Signal: sig, StderrTail: tail(string(res.Stderr), 10)}
	}
	return res, nil
}

// wrap builds the remote command line: a new session (setsid) whose leader
// first reports its pid on stderr (so cancellation can kill the whole group),
// exports env, then runs cmd; under sudo when asked.
func (c *Client) wrap(cmd string, o runOpts, mode sudoMode) (string, io.Reader, error) {
	var b strings.Builder
	b.WriteString("printf '" + pgidMarker + "%d\\n' $$ >&2\n")
	keys := make([]string, 0, len(o.env))
	for k := range o.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("export " + k + "=" + shellQuote(o.env[k]) + "\n")
	}
	b.WriteString(cmd)
	remote := "exec setsid -w sh -c " + shellQuote(b.String())
	stdin := o.stdin
	if o.sudo {
		prefix, pw, err := c.sudoPrefix(mode)
		if err != nil {
			return "", nil, err
		}
		remote = prefix + strings.TrimPrefix(remote, "exec ")
		if pw != "" {
			stdin = passwordThen(pw, stdin)
		}
	}
	return remote, stdin, nil
}

// exec runs a prepared remote command line in a new session. On ctx
// cancellation it signals the session, calls kill, closes the session and
// returns ctx's error.
func (c *Client) exec(ctx context.Context, remote string, stdin io.Reader, stdout, stderr io.Writer, kill func(context.Context)) (code int, sig string, err error) {
	s, release, err := c.session(ctx)
	if err != nil {
		return -1, "", err
	}
	defer release()
	defer s.Close()
	s.Stdin, s.Stdout, s.Stderr = stdin, stdout, stderr
	started := make(chan error, 1)
	go func() { started <- s.Start(remote) }()
	select {
	case err := <-started:
		if err != nil {
			return -1, "", fmt.Errorf("start: %w", err)
		}
	case <-ctx.Done():
		// The command may be starting: let Start finish so the group kill
		// below can find it; on a dead peer give up (the deferred Close
		// unblocks Start).
		select {
		case err := <-started:
			if err != nil {
				return -1, "", ctx.Err()
			}
		case <-time.After(5 * time.Second):
			return -1, "", ctx.Err()
		}
	}
	waitc := make(chan error, 1)
	go func() { waitc <- s.Wait() }()
	select {
	case err = <-waitc:
	case <-ctx.Done():
		_ = s.Signal(gossh.SIGTERM) // OpenSSH >= 7.9 delivers it to the leader
		if kill != nil {
			kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			kill(kctx)
			cancel()
		}
		s.Close()
		select {
		case <-waitc:
		case <-time.After(5 * time.Second):
		}
		return -1, "", ctx.Err()
	}
	if err == nil {
		return 0, "", nil
	}
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		if ee.Signal() != "" {
			return -1, ee.Signal(), nil
		}
		return ee.ExitStatus(), "", nil
	}
	var missing *gossh.ExitMissingError
	if errors.As(err, &missing) {
		return -1, "", errors.New("connection closed before the command reported an exit status")
	}
	return -1, "", err
}

// killGroup terminates the remote process group pg: TERM, up to 3s grace,
// then KILL.
func (c *Client) killGroup(ctx context.Context, pg int, mode sudoMode, sudo bool) {
	script := fmt.Sprintf(`kill -TERM -%[1]d 2>/dev/null || exit 0
i=0
while kill -0 -%[1]d 2>/dev/null; do
  i=$((i+1)); if [ $i -ge 30 ]; then kill -KILL -%[1]d 2>/dev/null; exit 0; fi
  sleep 0.1
done`, pg)
	remote := "sh -c " + shellQuote(script)
	var stdin io.Reader
	if sudo {
		prefix, pw, err := c.sudoPrefix(mode)
		if err != nil {
			return
		}
		remote = prefix + remote
		if pw != "" {
			stdin = passwordThen(pw, nil)
		}
	}
	_, _, _ = c.exec(ctx, remote, stdin, io.Discard, io.Discard, nil)
}
