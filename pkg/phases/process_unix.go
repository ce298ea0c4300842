//go:build unix

package phases

import (
	"errors"
	"syscall"
)

// processAlive reports whether a local process with pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
