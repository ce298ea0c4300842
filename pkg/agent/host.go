package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Commander runs a program on the host and returns its combined output.
type Commander interface {
	Run(ctx context.Context, name string, args ...string) (string, error)
}

// ExecCommander runs programs with os/exec.
type ExecCommander struct{}

// Run runs name with args; the error carries the command and its output.
func (ExecCommander) Run(ctx context.Context, name string, args ...string) (string, error) {
	var out bytes.Buffer
	c := exec.CommandContext(ctx, name, args...)
	c.Stdout = &out
	c.Stderr = &out
	if err := c.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// Host is the machine edgeadm works on. Root is "/" on a real host and a
// temporary folder in tests, so file work can be checked without root.
type Host struct {
	Root string
	Cmd  Commander
	Log  io.Writer
}

// NewHost returns the real host.
func NewHost(log io.Writer) *Host {
	return &Host{Root: "/", Cmd: ExecCommander{}, Log: log}
}

// Path maps an absolute host path under Root.
func (h *Host) Path(p string) string { return filepath.Join(h.Root, p) }

// Logf prints a progress line.
func (h *Host) Logf(format string, args ...any) {
	fmt.Fprintf(h.Log, format+"\n", args...)
}

// Warnf prints a warning line.
func (h *Host) Warnf(format string, args ...any) {
	fmt.Fprintf(h.Log, "[warning] "+format+"\n", args...)
}

// WriteFile writes data atomically with mode, creating parent folders.
func (h *Host) WriteFile(p string, data []byte, mode os.FileMode) error {
	full := h.Path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(full), "."+filepath.Base(full)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), full); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// ReadFile reads a host file.
func (h *Host) ReadFile(p string) ([]byte, error) { return os.ReadFile(h.Path(p)) }

// Exists reports whether a host path exists.
func (h *Host) Exists(p string) bool {
	_, err := os.Lstat(h.Path(p))
	return err == nil
}

// Remove deletes a host path and what is under it; a missing path is fine.
// A folder that is a mount point (busy) is emptied and kept.
func (h *Host) Remove(p string) error {
	err := os.RemoveAll(h.Path(p))
	if errors.Is(err, syscall.EBUSY) {
		entries, rerr := os.ReadDir(h.Path(p))
		if rerr != nil {
			return fmt.Errorf("remove %s: %w", p, err)
		}
		err = nil
		for _, e := range entries {
			err = errors.Join(err, os.RemoveAll(filepath.Join(h.Path(p), e.Name())))
		}
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}
