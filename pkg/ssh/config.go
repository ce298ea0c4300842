package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HostKeyPolicy decides what happens with a host whose key is not in any
// known_hosts file. A changed key is refused under every policy.
type HostKeyPolicy string

const (
	// HostKeyStrict refuses unknown hosts (the default).
	HostKeyStrict HostKeyPolicy = "strict"
	// HostKeyAcceptNew appends a hashed entry for an unknown host to the
	// first known_hosts file and connects.
	HostKeyAcceptNew HostKeyPolicy = "accept-new"
)

// Secret names where a secret is read from: an environment variable or a
// file (trailing newline stripped). Secrets are never taken literally from
// configuration so that inventories can be committed.
type Secret struct {
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"`
}

// IsSet reports whether a source is configured.
func (s Secret) IsSet() bool { return s.Env != "" || s.File != "" }

// Value reads the secret. ok is false when no source is configured.
func (s Secret) Value() (value string, ok bool, err error) {
	switch {
	case s.Env != "":
		v, found := os.LookupEnv(s.Env)
		if !found {
			return "", false, fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, true, nil
	case s.File != "":
		b, err := os.ReadFile(expandHome(s.File))
		if err != nil {
			return "", false, fmt.Errorf("read secret file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), true, nil
	}
	return "", false, nil
}

// SudoConfig configures privilege escalation for a non-root user.
type SudoConfig struct {
	// Password, when set, is fed to `sudo -S` on stdin. Without it sudo must
	// be passwordless (`sudo -n`).
	Password Secret `json:"password,omitempty"`
}

// Config describes how to reach one host.
type Config struct {
	// Name labels the host in output prefixes and errors (default Address).
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
	Port    int    `json:"port,omitempty"` // default 22
	User    string `json:"user,omitempty"` // default root

	// IdentityFiles are private key files (ed25519, ecdsa, rsa), tried in order.
	IdentityFiles []string `json:"identityFiles,omitempty"`
	// Passphrase decrypts encrypted identity files.
	Passphrase Secret `json:"passphrase,omitempty"`
	// UseAgent offers the keys of the ssh-agent at AgentSocket
	// (default $SSH_AUTH_SOCK).
	UseAgent    bool   `json:"useAgent,omitempty"`
	AgentSocket string `json:"agentSocket,omitempty"`
	// Password enables password authentication.
	Password Secret `json:"password,omitempty"`
	// KeyboardInteractive answers keyboard-interactive prompts with Password.
	KeyboardInteractive bool `json:"keyboardInteractive,omitempty"`

	// KnownHostsFiles are read for host keys (e.g. the one the inventory
	// names), followed by the user's ~/.ssh/known_hosts unless
	// NoUserKnownHosts. accept-new appends to the first of them.
	KnownHostsFiles  []string      `json:"knownHostsFiles,omitempty"`
	NoUserKnownHosts bool          `json:"noUserKnownHosts,omitempty"`
	HostKeyPolicy    HostKeyPolicy `json:"hostKeyPolicy,omitempty"`

	// Bastions are jump hosts, dialed in order; the last one connects to
	// this host. Each has its own auth and host keys; their own Bastions
	// fields are ignored.
	Bastions []Config `json:"bastions,omitempty"`

	Sudo SudoConfig `json:"sudo,omitempty"`

	// ConnectTimeout bounds each connection attempt (default 15s); the
	// context's deadline applies when earlier.
	ConnectTimeout time.Duration `json:"connectTimeout,omitempty"`
	// KeepaliveInterval between keepalive requests (default 15s; <0 disables).
	KeepaliveInterval time.Duration `json:"keepaliveInterval,omitempty"`
	// DialAttempts is how many times a transient failure (refused, reset,
	// timeout) is tried (default 3). Auth and host-key failures are never retried.
	DialAttempts int `json:"dialAttempts,omitempty"`
	// MaxSessions caps concurrent sessions on the connection (default 8;
	// OpenSSH's MaxSessions default is 10).
	MaxSessions int `json:"maxSessions,omitempty"`
}

// Defaults used when the corresponding field is zero.
const (
	DefaultPort              = 22
	DefaultUser              = "root"
	DefaultConnectTimeout    = 15 * time.Second
	DefaultKeepaliveInterval = 15 * time.Second
	DefaultDialAttempts      = 3
	DefaultMaxSessions       = 8
)

func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.Name == "" {
		c.Name = c.Address
	}
	if c.HostKeyPolicy == "" {
		c.HostKeyPolicy = HostKeyStrict
	}
	files := make([]string, 0, len(c.KnownHostsFiles)+1)
	for _, f := range c.KnownHostsFiles {
		files = append(files, expandHome(f))
	}
	if home, err := os.UserHomeDir(); err == nil && !c.NoUserKnownHosts {
		if user := filepath.Join(home, ".ssh", "known_hosts"); !slices.Contains(files, user) {
			files = append(files, user)
		}
	}
	c.KnownHostsFiles = files
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.KeepaliveInterval == 0 {
		c.KeepaliveInterval = DefaultKeepaliveInterval
	}
	if c.DialAttempts <= 0 {
		c.DialAttempts = DefaultDialAttempts
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.AgentSocket == "" && c.UseAgent {
		c.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
	}
	return c
}

// Validate checks a configuration without touching the network.
func (c Config) Validate() error {
	if c.Address == "" {
		return errors.New("ssh config: address is empty")
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("ssh config %s: port %d out of range", c.Address, c.Port)
	}
	switch c.HostKeyPolicy {
	case "", HostKeyStrict, HostKeyAcceptNew:
	default:
		return fmt.Errorf("ssh config %s: host key policy %q: want strict or accept-new", c.Address, c.HostKeyPolicy)
	}
	if len(c.IdentityFiles) == 0 && !c.UseAgent && !c.Password.IsSet() {
		return fmt.Errorf("ssh config %s: no authentication method (identity files, agent or password)", c.Address)
	}
	if c.NoUserKnownHosts && len(c.KnownHostsFiles) == 0 {
		return fmt.Errorf("ssh config %s: no known_hosts file (NoUserKnownHosts is set and KnownHostsFiles is empty)", c.Address)
	}
	if c.KeyboardInteractive && !c.Password.IsSet() {
		return fmt.Errorf("ssh config %s: keyboard-interactive needs a password source", c.Address)
	}
	for i, b := range c.Bastions {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("bastion %d: %w", i+1, err)
		}
	}
	return nil
}

// addr is host:port for dialing.
func (c Config) addr() string { return net.JoinHostPort(c.Address, strconv.Itoa(c.Port)) }

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
