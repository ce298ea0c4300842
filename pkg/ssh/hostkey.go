package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys checks server keys against known_hosts files under a policy.
type hostKeys struct {
	host   string
	files  []string // all configured files; accept-new appends to files[0]
	policy HostKeyPolicy
}

// existing returns the configured files that exist (knownhosts.New fails on
// missing files, and a missing file simply knows no host).
func (h hostKeys) existing() ([]string, error) {
	var out []string
	for _, f := range h.files {
		if _, err := os.Stat(f); err == nil {
			out = append(out, f)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("known_hosts %s: %w", f, err)
		}
	}
	return out, nil
}

func (h hostKeys) db() (gossh.HostKeyCallback, error) {
	files, err := h.existing()
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return func(string, net.Addr, gossh.PublicKey) error { return &knownhosts.KeyError{} }, nil
	}
	cb, err := knownhosts.New(files...)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}
	return cb, nil
}

// algorithms lists the host key algorithms already known for addr so the
// handshake negotiates a key type we can verify (as OpenSSH does); nil when
// the host is unknown.
func (h hostKeys) algorithms(addr string) []string {
	cb, err := h.db()
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := cb(addr, fakeAddr(addr), probeKey{}); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		for _, a := range algorithmsForKeyType(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsForKeyType(t string) []string {
	if t == gossh.KeyAlgoRSA {
		return []string{gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256, gossh.KeyAlgoRSA}
	}
	return []string{t}
}

// callback verifies a server key for the host dialed as addr.
func (h hostKeys) callback(addr string) gossh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key gossh.PublicKey) error {
		cb, err := h.db()
		if err != nil {
			return &HostKeyError{Host: h.host, Addr: addr, Files: h.files, Err: err}
		}
		err = cb(addr, remote, key)
		if err == nil {
			return nil
		}
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) {
			return &HostKeyError{Host: h.host, Addr: addr, Files: h.files, Err: err}
		}
		hkErr := &HostKeyError{
			Host: h.host, Addr: addr, Files: h.files,
			Offered: gossh.FingerprintSHA256(key), KeyType: key.Type(),
		}
		if len(ke.Want) > 0 {
			hkErr.Changed = true
			for _, w := range ke.Want {
				hkErr.Expected = append(hkErr.Expected, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), gossh.FingerprintSHA256(w.Key), w.Filename, w.Line))
			}
			hkErr.Err = errors.New("host key mismatch")
			return hkErr
		}
		line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key)
		hkErr.AcceptCommand = fmt.Sprintf("printf '%%s\\n' %s >> %s", shellQuote(line), shellQuote(firstOr(h.files, "~/.ssh/known_hosts")))
		if h.policy != HostKeyAcceptNew {
			hkErr.Err = errors.New("host key not in known_hosts (policy strict)")
			return hkErr
		}
		if err := h.appendHashed(addr, key); err != nil {
			hkErr.Err = fmt.Errorf("accept-new: %w", err)
			return hkErr
		}
		return nil
	}
}

// appendHashed records key for addr as a hashed entry (like HashKnownHosts).
func (h hostKeys) appendHashed(addr string, key gossh.PublicKey) error {
	if len(h.files) == 0 {
		return errors.New("no known_hosts file configured")
	}
	path := h.files[0]
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	line := knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(addr))}, key) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	// A known_hosts file without a final newline would glue our line to the last one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		if last, err := lastByte(path); err == nil && last != '\n' {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func lastByte(path string) (byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	b := make([]byte, 1)
	_, err = f.ReadAt(b, st.Size()-1)
	return b[0], err
}

// knownHostsPattern is how OpenSSH names addr in known_hosts and ssh-keygen -R.
func knownHostsPattern(addr string) string { return knownhosts.Normalize(addr) }

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// probeKey matches no real key; checking it yields the recorded keys.
type probeKey struct{}

func (probeKey) Type() string                          { return "edgeops-probe" }
func (probeKey) Marshal() []byte                       { return []byte("edgeops-probe") }
func (probeKey) Verify([]byte, *gossh.Signature) error { return errors.New("probe key") }

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
