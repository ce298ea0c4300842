package ssh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/pkg/sftp"
)

// remoteSum hashes stdin on the host: openssl uses the CPU's SHA
// extensions (~4x coreutils' sha256sum); sha256sum is the fallback.
// Both print the hex digest first.
const remoteSum = `{ if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r; else sha256sum; fi; }`

// SFTP tuning: 64 write requests in flight (as OpenSSH's sftp and scp),
// each small enough that the request (29 bytes of header with OpenSSH's
// 4-byte handles) fits one 32 KiB SSH channel packet; the window bounds how
// much of a cut transfer's tail we distrust when resuming.
const (
	sftpConcurrency = 64
	sftpPacket      = 32*1024 - 64
	resumeWindow    = sftpConcurrency * sftpPacket
	resumeAlign     = 1 << 20
)

// UploadOptions adjusts an upload.
type UploadOptions struct {
	// Sudo: the target needs root (e.g. under /etc or /usr/local/bin). A
	// non-root user uploads to a private staging folder (~/.edgeops/staging)
	// and moves the file into place with sudo.
	Sudo bool
	// Owner is "user:group" for the target (root uploads and Sudo only);
	// with Sudo it defaults to root:root.
	Owner string
	// Progress is called with bytes done (including resumed bytes) and total.
	Progress func(done, total int64)
}

// UploadResult says what an upload did.
type UploadResult struct {
	Skipped bool   // the target already had the same sha256; nothing sent
	Resumed int64  // bytes of an earlier cut transfer that were kept
	Sent    int64  // bytes sent this time
	SHA256  string // of the content, hex
}

// Upload copies localPath to remotePath with mode: concurrent SFTP writes
// to a temporary file (beside the target, or staged for Sudo), remote
// sha256 check, mode, atomic rename. It skips when the target already has
// the same content, and resumes a cut transfer of the same target.
func (c *Client) Upload(ctx context.Context, localPath, remotePath string, mode os.FileMode, opts UploadOptions) (*UploadResult, error) {
	f, err := os.Open(localPath)
	if err != nil {
		return nil, fmt.Errorf("host %s: upload %s: %w", c.cfg.Name, remotePath, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("host %s: upload %s: %w", c.cfg.Name, remotePath, err)
	}
	return c.upload(ctx, f, st.Size(), remotePath, mode, opts)
}

// UploadBytes writes data to remotePath with mode, like Upload. For small
// secret files (join information): the temporary file is made 0600 before
// any content is written and the content only travels over SFTP, never on
// a command line.
func (c *Client) UploadBytes(ctx context.Context, data []byte, remotePath string, mode os.FileMode, opts UploadOptions) (*UploadResult, error) {
	return c.upload(ctx, bytes.NewReader(data), int64(len(data)), remotePath, mode, opts)
}

func (c *Client) upload(ctx context.Context, src io.ReaderAt, size int64, remotePath string, mode os.FileMode, opts UploadOptions) (*UploadResult, error) {
	res, err := c.doUpload(ctx, src, size, remotePath, mode, opts)
	if err != nil {
		return res, fmt.Errorf("host %s: upload %s: %w", c.cfg.Name, remotePath, err)
	}
	return res, nil
}

func (c *Client) doUpload(ctx context.Context, src io.ReaderAt, size int64, remotePath string, mode os.FileMode, opts UploadOptions) (*UploadResult, error) {
	if !path.IsAbs(remotePath) {
		return nil, errors.New("remote path must be absolute")
	}
	res := &UploadResult{}
	staged := opts.Sudo && c.cfg.User != "root"
	var runOpts []RunOption
	if opts.Sudo {
		runOpts = append(runOpts, WithSudo())
	}
	owner := opts.Owner
	if owner == "" && staged {
		owner = "root:root"
	}

	sc, err := c.sftpClient(ctx)
	if err != nil {
		return nil, err
	}
	// SFTP calls take no context: closing the client ends them.
	stopSFTP := context.AfterFunc(ctx, func() { c.resetSFTP(sc) })
	defer stopSFTP()
	tmp, err := c.tempPath(sc, remotePath, staged)
	if err != nil {
		return nil, err
	}

	// A remote hash is only worth a command when the target may be the same.
	var probe []string // mode, size, sha256 of an existing target
	st, statErr := sc.Stat(remotePath)
	if statErr != nil && !errors.Is(statErr, os.ErrNotExist) || statErr == nil && st.Mode().IsRegular() && st.Size() == size {
		cmd := fmt.Sprintf(`t=%s; if [ -f "$t" ]; then stat -c '%%a %%s' -- "$t" && %s < "$t"; fi`, shellQuote(remotePath), remoteSum)
		out, err := c.Run(ctx, cmd, append(runOpts, withQuietOutput())...)
		if err != nil {
			return nil, fmt.Errorf("check target: %w", err)
		}
		probe = strings.Fields(string(out.Stdout))
	}

	// Skip when the target already has this content.
	var localSum string
	if len(probe) >= 3 {
		if rsize, _ := strconv.ParseInt(probe[1], 10, 64); rsize == size {
			if localSum, err = hashAll(src, size); err != nil {
				return nil, err
			}
			res.SHA256 = localSum
			if probe[2] == localSum {
				res.Skipped = true
				if probe[0] != strconv.FormatUint(uint64(mode.Perm()), 8) {
					if _, err := c.Run(ctx, fmt.Sprintf("chmod %o -- %s", mode.Perm(), shellQuote(remotePath)), runOpts...); err != nil {
						return res, fmt.Errorf("fix mode of unchanged file: %w", err)
					}
				}
				if opts.Progress != nil {
					opts.Progress(size, size)
				}
				return res, nil
			}
		}
	}

	offset, err := c.resumeOffset(ctx, sc, src, size, tmp)
	if err != nil {
		return nil, err
	}
	res.Resumed = offset
	// The local sum is computed beside the transfer, off its critical path.
	hashed := make(chan error, 1)
	go func() {
		if localSum != "" {
			hashed <- nil
			return
		}
		var err error
		localSum, err = hashAll(src, size)
		hashed <- err
	}()
	remote, err := c.send(ctx, sc, src, size, offset, tmp, opts.Progress)
	if herr := <-hashed; herr != nil && err == nil {
		err = herr
	}
	if err != nil {
		return res, err
	}
	res.Sent = size - offset
	res.SHA256 = localSum

	// Verify what arrived before it replaces anything. The sum taken while
	// the file grew normally matches; a full re-read settles any doubt.
	if remote != localSum {
		out, err := c.Run(ctx, remoteSum+" < "+shellQuote(tmp), withQuietOutput())
		if err != nil {
			return res, fmt.Errorf("verify: %w", err)
		}
		if got := strings.Fields(string(out.Stdout)); len(got) == 0 || got[0] != localSum {
			_ = sc.Remove(tmp)
			return res, fmt.Errorf("verify: remote sha256 %v differs from local %s; partial file removed", firstOr(got, "(none)"), localSum)
		}
	}

	if staged {
		own := strings.SplitN(owner, ":", 2)
		grp := own[0]
		if len(own) == 2 {
			grp = own[1]
		}
		dir, base := path.Split(remotePath)
		final := path.Join(dir, "."+base+".edgeops-tmp")
		// Owner and mode first, then a move to a name beside the target (a
		// rename when staging is on the same filesystem, else a copy) and
		// an atomic rename over the target.
		move := fmt.Sprintf("set -e; mkdir -p -- %[1]s; chown %[2]s:%[3]s -- %[4]s; chmod %[5]o -- %[4]s; mv -f -- %[4]s %[6]s; mv -f -- %[6]s %[7]s",
			shellQuote(dir), shellQuote(own[0]), shellQuote(grp), shellQuote(tmp), mode.Perm(), shellQuote(final), shellQuote(remotePath))
		if _, err := c.Run(ctx, move, runOpts...); err != nil {
			return res, fmt.Errorf("move into place: %w", err)
		}
		_ = sc.Remove(tmp)
		return res, nil
	}
	if err := sc.Chmod(tmp, mode.Perm()); err != nil {
		return res, fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if owner != "" {
		if _, err := c.Run(ctx, fmt.Sprintf("chown %s -- %s", shellQuote(owner), shellQuote(tmp)), runOpts...); err != nil {
			return res, fmt.Errorf("chown: %w", err)
		}
	}
	if err := sc.PosixRename(tmp, remotePath); err != nil {
		return res, fmt.Errorf("rename %s into place: %w", tmp, err)
	}
	return res, nil
}

// tempPath is where the content is written first: beside the target, or in
// the user's private staging folder. The name depends only on the target so
// that a later attempt finds a cut transfer.
func (c *Client) tempPath(sc *sftp.Client, remotePath string, staged bool) (string, error) {
	dir, base := path.Split(remotePath)
	if !staged {
		if err := sc.MkdirAll(dir); err != nil {
			return "", fmt.Errorf("create %s: %w", dir, err)
		}
		return path.Join(dir, "."+base+".edgeops-part"), nil
	}
	home, err := sc.Getwd()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w", err)
	}
	staging := path.Join(home, ".edgeops", "staging")
	if err := sc.MkdirAll(staging); err != nil {
		return "", fmt.Errorf("create %s: %w", staging, err)
	}
	for _, d := range []string{path.Join(home, ".edgeops"), staging} {
		if err := sc.Chmod(d, 0o700); err != nil {
			return "", fmt.Errorf("chmod %s: %w", d, err)
		}
	}
	sum := sha256.Sum256([]byte(remotePath))
	return path.Join(staging, hex.EncodeToString(sum[:8])+"-"+base+".part"), nil
}

// resumeOffset decides where to continue a cut transfer in tmp: the part
// before the last write window (which may have holes) is kept when its
// remote sha256 equals the local one.
func (c *Client) resumeOffset(ctx context.Context, sc *sftp.Client, src io.ReaderAt, size int64, tmp string) (int64, error) {
	st, err := sc.Stat(tmp)
	if err != nil || !st.Mode().IsRegular() {
		return 0, nil
	}
	n := min(st.Size(), size) - resumeWindow
	n -= n % resumeAlign
	if n <= 0 {
		return 0, nil
	}
	out, err := c.Run(ctx, fmt.Sprintf("t=%s; [ -r \"$t\" ] || exit 3; head -c %d -- \"$t\" | %s", shellQuote(tmp), n, remoteSum), withQuietOutput())
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		// Unreadable (say, left root-owned by a cut privileged move): start over.
		if rmErr := sc.Remove(tmp); rmErr != nil {
			return 0, fmt.Errorf("check partial %s: %w (and remove: %v)", tmp, err, rmErr)
		}
		return 0, nil
	}
	local := sha256.New()
	if _, err := io.Copy(local, io.NewSectionReader(src, 0, n)); err != nil {
		return 0, fmt.Errorf("read local file: %w", err)
	}
	if f := strings.Fields(string(out.Stdout)); len(f) == 0 || f[0] != hex.EncodeToString(local.Sum(nil)) {
		return 0, nil // another content: start over
	}
	return n, nil
}

// send writes src[offset:] to tmp with concurrent SFTP writes. Meanwhile a
// remote follower hashes tmp from the start as it grows, so the remote
// sha256 is ready when the last byte lands; it is returned (empty when the
// follower failed).
func (c *Client) send(ctx context.Context, sc *sftp.Client, src io.ReaderAt, size, offset int64, tmp string, progress func(done, total int64)) (string, error) {
	f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", tmp, err)
	}
	defer f.Close()
	// Private before any content arrives (the target's mode is set at the end).
	if err := f.Chmod(0o600); err != nil {
		return "", fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := f.Truncate(offset); err != nil {
		return "", fmt.Errorf("truncate %s: %w", tmp, err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", fmt.Errorf("seek %s: %w", tmp, err)
	}
	if progress != nil {
		progress(offset, size)
	}

	fctx, stopFollower := context.WithCancel(ctx)
	defer stopFollower()
	followed := make(chan string, 1)
	go func() {
		out, err := c.Run(fctx, followHash(tmp, size), withQuietOutput())
		if err != nil {
			followed <- ""
			return
		}
		followed <- firstOr(strings.Fields(string(out.Stdout)), "")
	}()

	r := &progressReader{ctx: ctx, r: io.NewSectionReader(src, offset, size-offset), done: offset, total: size, progress: progress}
	// Cancelling ctx stops the reader; closing the SFTP client fails the
	// writes in flight.
	stop := context.AfterFunc(ctx, func() { c.resetSFTP(sc) })
	defer stop()
	if _, err := f.ReadFromWithConcurrency(r, sftpConcurrency); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		c.resetSFTP(sc)
		return "", fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close %s: %w", tmp, err)
	}
	select {
	case sum := <-followed:
		return sum, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// followHash is a remote script printing the sha256 of the first size bytes
// of path, reading them as they are written. OpenSSH's sftp-server applies
// writes in order, so the file grows without holes; the caller re-reads
// the whole file if the sum disagrees anyway. It prefers openssl (SHA
// extensions, ~4x sha256sum) and GNU dd (one copy less than tail|head).
func followHash(path string, size int64) string {
	return fmt.Sprintf(`f=%s; size=%d
if dd if=/dev/null iflag=skip_bytes,count_bytes status=none 2>/dev/null; then
  part() { dd if="$f" bs=1M skip="$1" count="$2" iflag=skip_bytes,count_bytes status=none; }
else
  part() { tail -c +$(($1+1)) -- "$f" | head -c "$2"; }
fi
done=0; idle=0
while [ "$done" -lt "$size" ]; do
  cur=$(stat -c %%s -- "$f" 2>/dev/null || echo 0)
  [ "$cur" -gt "$size" ] && cur=$size
  if [ "$cur" -gt "$done" ]; then
    part "$done" $((cur-done))
    done=$cur; idle=0
  else
    # Orphaned by a lost connection: give up after a minute without growth.
    idle=$((idle+1)); [ "$idle" -gt 600 ] && exit 1
  fi
  # Big bites: each round forks stat and dd.
  [ "$done" -lt "$size" ] && sleep 0.1
done | %s`, shellQuote(path), size, remoteSum)
}

type progressReader struct {
	ctx      context.Context
	r        io.Reader
	done     int64
	total    int64
	progress func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	if n > 0 {
		p.done += int64(n)
		if p.progress != nil {
			p.progress(p.done, p.total)
		}
	}
	return n, err
}

// hashAll is the hex sha256 of src[:size].
func hashAll(src io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(src, 0, size)); err != nil {
		return "", fmt.Errorf("read local file: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
