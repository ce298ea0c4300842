package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authSetup is the auth methods for one hop, plus what to describe in errors
// and what to release after the handshake.
type authSetup struct {
	methods []gossh.AuthMethod
	names   []string
	closers []func()
}

func (a *authSetup) close() {
	for _, c := range a.closers {
		c()
	}
}

// buildAuth turns a Config into auth methods. Order: public keys (identity
// files, then agent keys) in one publickey method, then keyboard-interactive,
// then password — the order OpenSSH uses. A credential that cannot be loaded
// is an AuthError before any network traffic.
func buildAuth(c Config) (*authSetup, error) {
	a := &authSetup{}
	fail := func(err error) (*authSetup, error) {
		a.close()
		return nil, &AuthError{Host: c.Name, User: c.User, Methods: a.names, Err: err}
	}

	var signers []gossh.Signer
	var keyNames []string
	if len(c.IdentityFiles) > 0 {
		passphrase, havePass, err := c.Passphrase.Value()
		if err != nil {
			return fail(fmt.Errorf("passphrase: %w", err))
		}
		for _, f := range c.IdentityFiles {
			f = expandHome(f)
			s, err := loadSigner(f, passphrase, havePass)
			if err != nil {
				return fail(err)
			}
			signers = append(signers, s)
			keyNames = append(keyNames, filepath.Base(f))
		}
	}
	var agentSigners func() ([]gossh.Signer, error)
	if c.UseAgent {
		if c.AgentSocket == "" {
			return fail(errors.New("agent requested but SSH_AUTH_SOCK is not set"))
		}
		conn, err := net.Dial("unix", c.AgentSocket)
		if err != nil {
			return fail(fmt.Errorf("connect to ssh-agent %s: %w", c.AgentSocket, err))
		}
		a.closers = append(a.closers, func() { conn.Close() })
		agentSigners = agent.NewClient(conn).Signers
		keyNames = append(keyNames, "agent")
	}
	if len(signers) > 0 || agentSigners != nil {
		a.methods = append(a.methods, gossh.PublicKeysCallback(func() ([]gossh.Signer, error) {
			out := append([]gossh.Signer(nil), signers...)
			if agentSigners != nil {
				as, err := agentSigners()
				if err != nil {
					return nil, fmt.Errorf("ssh-agent: %w", err)
				}
				out = append(out, as...)
			}
			return out, nil
		}))
		a.names = append(a.names, fmt.Sprintf("publickey%v", keyNames))
	}

	if c.Password.IsSet() {
		pw, _, err := c.Password.Value()
		if err != nil {
			return fail(fmt.Errorf("password: %w", err))
		}
		if c.KeyboardInteractive {
			a.methods = append(a.methods, gossh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if !echos[i] { // a hidden prompt asks for the secret
						answers[i] = pw
					}
				}
				return answers, nil
			}))
			a.names = append(a.names, "keyboard-interactive")
		}
		a.methods = append(a.methods, gossh.Password(pw))
		a.names = append(a.names, "password")
	}
	if len(a.methods) == 0 {
		return fail(errors.New("no authentication method configured"))
	}
	return a, nil
}

func loadSigner(path, passphrase string, havePass bool) (gossh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	s, err := gossh.ParsePrivateKey(pem)
	var missing *gossh.PassphraseMissingError
	if errors.As(err, &missing) {
		if !havePass {
			return nil, fmt.Errorf("identity file %s is encrypted and no passphrase source is configured", path)
		}
		s, err = gossh.ParsePrivateKeyWithPassphrase(pem, []byte(passphrase))
		if err != nil {
			return nil, fmt.Errorf("identity file %s: decrypt with the configured passphrase: %w", path, err)
		}
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	return s, nil
}
