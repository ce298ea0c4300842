package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

type sudoMode int

const (
	sudoUnknown  sudoMode = iota
	sudoRoot              // the user is root: no sudo
	sudoNoPasswd          // sudo -n works
	sudoPassword          // sudo -S with the configured password
)

// sudoMode finds (once per Client) how this user becomes root: root needs
// nothing; passwordless sudo uses `sudo -n`; otherwise the configured sudo
// password goes to `sudo -S` on stdin. A user who can do neither gets a
// *SudoError naming host and user.
func (c *Client) sudoMode(ctx context.Context) (sudoMode, error) {
	if c.cfg.User == "root" {
		return sudoRoot, nil
	}
	c.sudoMu.Lock()
	defer c.sudoMu.Unlock()
	if c.sudoKnown {
		return c.sudo, nil
	}
	var stderr bytes.Buffer
	code, _, err := c.exec(ctx, "sudo -n true", nil, io.Discard, &stderr, nil)
	if err != nil {
		return sudoUnknown, fmt.Errorf("host %s: check sudo: %w", c.cfg.Name, err)
	}
	mode := sudoNoPasswd
	if code != 0 {
		first := strings.TrimSpace(stderr.String())
		if !c.cfg.Sudo.Password.IsSet() {
			if strings.Contains(first, "password is required") {
				return sudoUnknown, &SudoError{Host: c.cfg.Name, User: c.cfg.User, Reason: "sudo asks for a password and no sudo password is configured (" + first + ")"}
			}
			return sudoUnknown, &SudoError{Host: c.cfg.Name, User: c.cfg.User, Reason: orDefault(first, fmt.Sprintf("sudo -n true exited %d", code))}
		}
		pw, err := c.sudoPasswordValue()
		if err != nil {
			return sudoUnknown, err
		}
		stderr.Reset()
		code, _, err = c.exec(ctx, "sudo -S -k -p '' true", passwordThen(pw, nil), io.Discard, &stderr, nil)
		if err != nil {
			return sudoUnknown, fmt.Errorf("host %s: check sudo: %w", c.cfg.Name, err)
		}
		if code != 0 {
			reason := strings.TrimSpace(stderr.String())
			if strings.Contains(reason, "incorrect password") || strings.Contains(reason, "try again") {
				reason = "the configured sudo password was rejected"
			}
			return sudoUnknown, &SudoError{Host: c.cfg.Name, User: c.cfg.User, Reason: orDefault(reason, fmt.Sprintf("sudo -S true exited %d", code))}
		}
		mode = sudoPassword
	}
	c.sudo, c.sudoKnown = mode, true
	return mode, nil
}

// sudoPrefix is the command prefix for mode and the password to feed on stdin.
func (c *Client) sudoPrefix(mode sudoMode) (prefix, password string, err error) {
	switch mode {
	case sudoRoot:
		return "exec ", "", nil
	case sudoNoPasswd:
		return "exec sudo -n -- ", "", nil
	case sudoPassword:
		pw, err := c.sudoPasswordValue()
		if err != nil {
			return "", "", err
		}
		// -k: always ask, so the password line is consumed whatever sudo cached.
		return "exec sudo -S -k -p '' -- ", pw, nil
	}
	return "", "", errors.New("sudo mode unknown")
}

func (c *Client) sudoPasswordValue() (string, error) {
	pw, ok, err := c.cfg.Sudo.Password.Value()
	if err != nil || !ok {
		return "", &SudoError{Host: c.cfg.Name, User: c.cfg.User, Reason: fmt.Sprintf("read sudo password: %v", err)}
	}
	return pw, nil
}

// passwordThen yields the password line, then r (if any).
func passwordThen(pw string, r io.Reader) io.Reader {
	line := strings.NewReader(pw + "\n")
	if r == nil {
		return line
	}
	return io.MultiReader(line, r)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
