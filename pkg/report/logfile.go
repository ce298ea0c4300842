package report

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// OpenLog creates the run log file, owner-only (it names hosts and commands),
// as <dir>/edgeops-<command>-<UTC time>.log, and returns it with its path.
func OpenLog(dir, command string, now time.Time) (*os.File, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("run log: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("edgeops-%s-%s.log", command, now.UTC().Format("20060102T150405Z")))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("run log: %w", err)
	}
	return f, path, nil
}
