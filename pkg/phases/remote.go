package phases

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/edgeops/edgeops/pkg/inventory"
)

// Remote is what the phases need from a connection to one host. Commands run
// as root (through sudo when the SSH user is not root). The SSH transport
// (pkg/ssh) provides it; see sshremote.go.
type Remote interface {
	// Run runs a shell command as root; output lines also go to out (may be nil).
	// A non-zero exit is an error carrying the exit code and stderr's tail.
	Run(ctx context.Context, cmd string, out io.Writer) (stdout []byte, err error)
	// RunSplit is Run with the streams apart: each stdout line goes to
	// stdout, each stderr line to out (may be nil). edgeadm's progress
	// protocol travels on stdout (see runEdgeadm).
	RunSplit(ctx context.Context, cmd string, stdout func(line string), out io.Writer) error
	// Upload copies a local file to path, skipping the transfer when the remote
	// sha256 already matches (skipped=true).
	Upload(ctx context.Context, local, path string, mode os.FileMode, progress func(done, total int64)) (skipped bool, err error)
	// UploadBytes writes data to path with mode, atomically.
	UploadBytes(ctx context.Context, data []byte, path string, mode os.FileMode) error
	// Download reads a (root-only) file.
	Download(ctx context.Context, path string) ([]byte, error)
	Close() error
}

// Dialer opens a Remote to a host of the inventory.
type Dialer func(ctx context.Context, h *inventory.Host) (Remote, error)

// quote makes s one word for a POSIX shell.
func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// command joins argv into one shell command line.
func command(argv ...string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = quote(a)
	}
	return strings.Join(q, " ")
}
