package ssh_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeops/edgeops/pkg/ssh"
	"github.com/edgeops/edgeops/pkg/ssh/sshtest"
)

func TestRun(t *testing.T) {
	t.Parallel()
	_, cfg := rootHost(t, sshtest.ServerOptions{})
	c := dial(t, cfg)
	tests := []struct {
		name       string
		cmd        string
		opts       []ssh.RunOption
		wantOut    string
		wantCode   int
		wantSignal string
		wantStderr string
	}{
		{name: "stdout", cmd: "echo hello; echo world", wantOut: "hello\nworld\n"},
		{name: "exit code and stderr", cmd: "echo out; echo boom >&2; exit 3", wantOut: "out\n", wantCode: 3, wantStderr: "boom"},
		{name: "stdin", cmd: "tr a-z A-Z", opts: []ssh.RunOption{ssh.WithStdin(strings.NewReader("abc\n"))}, wantOut: "ABC\n"},
		{name: "env", cmd: `printf '%s|%s' "$A" "$B_2"`, opts: []ssh.RunOption{ssh.WithEnv(map[string]string{"A": "it's $x", "B_2": "two words"})}, wantOut: "it's $x|two words"},
		{name: "signal", cmd: "kill -KILL $$", wantCode: -1, wantSignal: "KILL"},
		{name: "quotes pass through", cmd: `printf '%s\n' "a'b" 'c"d'`, wantOut: "a'b\nc\"d\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := c.Run(testCtx(t), tt.cmd, tt.opts...)
			if tt.wantCode == 0 && tt.wantSignal == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				var ee *ssh.ExitError
				if !errors.As(err, &ee) {
					t.Fatalf("want *ExitError, got %v", err)
				}
				if ee.Code != tt.wantCode || ee.Signal != tt.wantSignal || !strings.Contains(ee.StderrTail, tt.wantStderr) || ee.Host != cfg.Name {
					t.Fatalf("got %+v", ee)
				}
				if !strings.Contains(err.Error(), cfg.Name) {
					t.Fatalf("error does not name the host: %v", err)
				}
			}
			if string(res.Stdout) != tt.wantOut || res.ExitCode != tt.wantCode {
				t.Fatalf("stdout %q code %d, want %q %d", res.Stdout, res.ExitCode, tt.wantOut, tt.wantCode)
			}
			if strings.Contains(string(res.Stderr), "edgeops-pgid") {
				t.Fatalf("marker leaked into stderr: %q", res.Stderr)
			}
		})
	}
}

func TestRunStreamsLinesWithHostPrefix(t *testing.T) {
	t.Parallel()
	// A fresh user with /bin/sh: root's login shell here may print its own
	// noise (shell init scripts) on stderr.
	srv, rootCfg := rootHost(t, sshtest.ServerOptions{})
	_, cfg := userConfig(t, srv, rootCfg, sshtest.NoSudo)
	c := dial(t, cfg)
	var buf bytes.Buffer
	var mu sync.Mutex
	var lines []ssh.Line
	sink := ssh.PrefixSink(&buf)
	res, err := c.Run(testCtx(t), "echo one; sleep 0.2; echo two >&2; sleep 0.2; printf 'three'", ssh.WithSink(func(l ssh.Line) {
		mu.Lock()
		lines = append(lines, l)
		mu.Unlock()
		sink(l)
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []ssh.Line{{cfg.Name, ssh.Stdout, "one"}, {cfg.Name, ssh.Stderr, "two"}, {cfg.Name, ssh.Stdout, "three"}}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("lines %v, want %v", lines, want)
	}
	wantText := cfg.Name + ": one\n" + cfg.Name + "! two\n" + cfg.Name + ": three\n"
	if buf.String() != wantText {
		t.Fatalf("prefixed output %q, want %q", buf.String(), wantText)
	}
	if string(res.Stdout) != "one\nthree" {
		t.Fatalf("captured %q", res.Stdout)
	}
}

func TestRunManyConcurrentSessions(t *testing.T) {
	t.Parallel()
	_, cfg := rootHost(t, sshtest.ServerOptions{})
	cfg.MaxSessions = 4
	c := dial(t, cfg)
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Run(testCtx(t), fmt.Sprintf("sleep 0.05; echo %d", i))
			if err == nil && strings.TrimSpace(string(res.Stdout)) != strconv.Itoa(i) {
				err = fmt.Errorf("session %d got %q", i, res.Stdout)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// remoteProcesses lists pids whose command line starts with marker (sshd
// runs on this machine, so its processes are ours to see).
func remoteProcesses(t *testing.T, marker string) []string {
	t.Helper()
	var pids []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/cmdline")
		if err != nil {
			continue
		}
		if strings.HasPrefix(strings.ReplaceAll(string(b), "\x00", " "), marker) {
			if st, err := os.ReadFile(d + "/stat"); err == nil && strings.Contains(string(st), ") Z ") {
				continue // a zombie is gone, only not yet reaped
			}
			pids = append(pids, filepath.Base(d)+":"+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return pids
}

func TestRunCancelKillsRemoteProcessGroup(t *testing.T) {
	t.Parallel()
	srv, rootCfg := rootHost(t, sshtest.ServerOptions{})
	_, nopw := userConfig(t, srv, rootCfg, sshtest.SudoNoPassword)
	_, pw := userConfig(t, srv, rootCfg, sshtest.SudoPassword)
	tests := []struct {
		name string
		cfg  ssh.Config
		opts []ssh.RunOption
	}{
		{"root", rootCfg, nil},
		{"user", nopw, nil},
		{"sudo -n", nopw, []ssh.RunOption{ssh.WithSudo()}},
		{"sudo with password", pw, []ssh.RunOption{ssh.WithSudo()}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, tt.cfg)
			// A child in the background and one in the foreground: both must go.
			marker := fmt.Sprintf("%d%02d", 3000+time.Now().Nanosecond()%1000, i)
			cmd := fmt.Sprintf("sleep 1%s & sleep 2%s; echo never", marker, marker)
			ctx, cancel := context.WithCancel(context.Background())
			started := make(chan struct{})
			go func() {
				defer close(started)
				defer cancel()
				for i := 0; i < 1000 && len(remoteProcesses(t, "sleep 2"+marker)) == 0; i++ {
					time.Sleep(20 * time.Millisecond)
				}
			}()
			begin := time.Now()
			res, err := c.Run(ctx, cmd, tt.opts...)
			<-started
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("want context.Canceled, got %v (%+v)", err, res)
			}
			if d := time.Since(begin); d > 15*time.Second {
				t.Fatalf("cancel took %v", d)
			}
			for _, m := range []string{"sleep 1" + marker, "sleep 2" + marker} {
				if pids := remoteProcesses(t, m); len(pids) > 0 {
					t.Fatalf("remote process %q still running: pids %v", m, pids)
				}
			}
			// The connection stays usable.
			if _, err := c.Run(testCtx(t), "true"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
