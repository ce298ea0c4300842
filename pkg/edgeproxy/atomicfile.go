package edgeproxy

import (
	"os"

	"github.com/edgeops/edgeops/internal/atomicfile"
)

// writeFileAtomic writes a file so that a crash leaves either the old or
// the new content: temp file in the same directory, fsync, rename, fsync dir.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	return atomicfile.Write(path, data, perm)
}
