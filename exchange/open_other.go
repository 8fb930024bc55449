//go:build !unix

package exchange

import "os"

// openNonblocking opens path for reading. Windows has no named pipes in
// the file system's namespace to wait on; the checks after opening apply.
func openNonblocking(path string) (*os.File, error) {
	return os.Open(path)
}
