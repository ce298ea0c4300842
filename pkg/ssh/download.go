package ssh

import (
	"context"
	"fmt"
	"io"
)

// Download reads a remote file. With sudo a non-root user reads it through
// `sudo cat` (for root-only files such as admin.conf); the content never
// reaches a sink or log.
func (c *Client) Download(ctx context.Context, remotePath string, sudo bool) ([]byte, error) {
	if sudo && c.cfg.User != "root" {
		res, err := c.Run(ctx, "cat -- "+shellQuote(remotePath), WithSudo(), withQuietOutput())
		if err != nil {
			return nil, fmt.Errorf("host %s: download %s: %w", c.cfg.Name, remotePath, err)
		}
		return res.Stdout, nil
	}
	sc, err := c.sftpClient(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.resetSFTP(sc) })
	defer stop()
	f, err := sc.Open(remotePath)
	if err != nil {
		return nil, fmt.Errorf("host %s: download %s: %w", c.cfg.Name, remotePath, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("host %s: download %s: %w", c.cfg.Name, remotePath, err)
	}
	return b, nil
}
