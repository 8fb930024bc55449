//go:build unix

package exchange

import (
	"os"
	"syscall"
)

// openNonblocking opens path for reading without waiting for a writer,
// which opening a named pipe otherwise does forever. O_NONBLOCK does
// nothing to a regular file, the only kind then read.
func openNonblocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
