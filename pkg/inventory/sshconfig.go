package inventory

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// maxBastionDepth bounds a chain of jump hosts.
const maxBastionDepth = 5

// SecretRef says where a secret lives: an environment variable or a file.
// It never holds the secret itself.
type SecretRef struct {
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"`
}

// IsSet reports whether a source is configured.
func (s SecretRef) IsSet() bool { return s.Env != "" || s.File != "" }

// String names the source, never the secret.
func (s SecretRef) String() string {
	switch {
	case s.Env != "":
		return "environment variable " + s.Env
	case s.File != "":
		return "file " + s.File
	}
	return "none"
}

// Resolve reads the secret. A file's trailing newline is dropped. Errors name
// the source, never the value.
func (s SecretRef) Resolve() (string, error) {
	switch {
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("secret: environment variable %s is not set", s.Env)
		}
		return v, nil
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("secret: read %s: %w", s.File, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", fmt.Errorf("secret: no source configured")
}

// SSHConfig is the effective connection settings for one host or jump host:
// the file's ssh defaults with the host's overrides merged in, paths absolute.
type SSHConfig struct {
	Address       string        `json:"address"`
	Port          int           `json:"port"`
	User          string        `json:"user"`
	IdentityFiles []string      `json:"identityFiles,omitempty"`
	UseAgent      bool          `json:"useAgent"`
	Password      SecretRef     `json:"password,omitempty"`
	KnownHosts    string        `json:"knownHosts"`
	HostKeyPolicy HostKeyPolicy `json:"hostKeyPolicy"`
	// Sudo is whether commands need sudo (default: user is not root).
	Sudo         bool      `json:"sudo"`
	SudoPassword SecretRef `json:"sudoPassword,omitempty"`
	// Jumps are the bastions to pass through, the first one dialed first.
	// Jump entries have no Jumps of their own.
	Jumps []SSHConfig `json:"jumps,omitempty"`
}

// Addr is host:port for net.Dial.
func (c SSHConfig) Addr() string { return net.JoinHostPort(c.Address, strconv.Itoa(c.Port)) }

// HasAuth reports whether at least one way to authenticate is configured.
func (c SSHConfig) HasAuth() bool {
	return len(c.IdentityFiles) > 0 || c.UseAgent || c.Password.IsSet()
}

// SSHConfig merges the file's ssh defaults with h's overrides. It expects an
// inventory after ApplyDefaults (Load does that).
func (inv *Inventory) SSHConfig(h *Host) SSHConfig {
	d := inv.SSH
	cfg := SSHConfig{
		Address:       h.Address,
		Port:          firstInt(d.Port, DefaultSSHPort),
		User:          firstString(d.User, DefaultSSHUser),
		IdentityFiles: append([]string(nil), d.IdentityFiles...),
		UseAgent:      d.UseAgent != nil && *d.UseAgent,
		Password:      SecretRef{Env: d.PasswordEnv, File: d.PasswordFile},
		KnownHosts:    d.KnownHosts,
		HostKeyPolicy: firstPolicy(d.HostKeyPolicy),
	}
	sudo, bastion := d.Sudo, d.Bastion
	if h.Port != 0 {
		cfg.Port = h.Port
	}
	if h.User != "" {
		cfg.User = h.User
	}
	if o := h.SSH; o != nil {
		if o.User != "" {
			cfg.User = o.User
		}
		if o.Port != 0 {
			cfg.Port = o.Port
		}
		if len(o.IdentityFiles) > 0 {
			cfg.IdentityFiles = append([]string(nil), o.IdentityFiles...)
		}
		if o.UseAgent != nil {
			cfg.UseAgent = *o.UseAgent
		}
		if o.PasswordEnv != "" || o.PasswordFile != "" {
			cfg.Password = SecretRef{Env: o.PasswordEnv, File: o.PasswordFile}
		}
		if o.KnownHosts != "" {
			cfg.KnownHosts = o.KnownHosts
		}
		if o.HostKeyPolicy != "" {
			cfg.HostKeyPolicy = o.HostKeyPolicy
		}
		if o.Sudo != nil {
			sudo = o.Sudo
		}
		if o.Bastion != nil {
			bastion = o.Bastion
		}
	}
	cfg.Sudo = cfg.User != "root"
	if sudo != nil {
		if sudo.Enabled != nil {
			cfg.Sudo = *sudo.Enabled
		}
		cfg.SudoPassword = SecretRef{Env: sudo.PasswordEnv, File: sudo.PasswordFile}
	}
	cfg.Jumps = inv.jumps(bastion, cfg)
	return cfg
}

// jumps flattens a bastion chain, the outermost (dialed first) first.
func (inv *Inventory) jumps(b *Bastion, host SSHConfig) []SSHConfig {
	var chain []SSHConfig
	d := inv.SSH
	for depth := 0; b != nil && depth < maxBastionDepth; b, depth = b.Bastion, depth+1 {
		j := SSHConfig{
			Address:       b.Address,
			Port:          firstInt(b.Port, DefaultSSHPort),
			User:          firstString(b.User, firstString(d.User, DefaultSSHUser)),
			IdentityFiles: append([]string(nil), d.IdentityFiles...),
			UseAgent:      d.UseAgent != nil && *d.UseAgent,
			Password:      SecretRef{Env: d.PasswordEnv, File: d.PasswordFile},
			KnownHosts:    host.KnownHosts,
			HostKeyPolicy: host.HostKeyPolicy,
		}
		if len(b.IdentityFiles) > 0 {
			j.IdentityFiles = append([]string(nil), b.IdentityFiles...)
		}
		if b.UseAgent != nil {
			j.UseAgent = *b.UseAgent
		}
		if b.PasswordEnv != "" || b.PasswordFile != "" {
			j.Password = SecretRef{Env: b.PasswordEnv, File: b.PasswordFile}
		}
		chain = append([]SSHConfig{j}, chain...)
	}
	return chain
}

func firstInt(v, def int) int {
	if v != 0 {
		return v
	}
	return def
}

func firstString(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

func firstPolicy(p HostKeyPolicy) HostKeyPolicy {
	if p == "" {
		return HostKeyStrict
	}
	return p
}
