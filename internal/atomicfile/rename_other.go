//go:build !unix && !windows

package atomicfile

import "os"

// rename replaces newpath atomically.
func rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
