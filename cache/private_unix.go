//go:build !windows

package cache

import (
	"fmt"
	"os"
)

// checkPrivate refuses a cache file that others may read or write. As ssh
// does with a private key, a group or other permission bit is enough.
func checkPrivate(f *os.File, fi os.FileInfo) error {
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %v, readable by others", ErrInsecure, f.Name(), fi.Mode().Perm())
	}
	return nil
}

// makeDirPrivate makes the cache directory private to its owner if it is
// not already, and reports what it found wrong ("" when nothing was).
func makeDirPrivate(dir string, fi os.FileInfo) (string, error) {
	if fi.Mode().Perm()&0o077 == 0 {
		return "", nil
	}
	was := fmt.Sprintf("had mode %v, readable by others", fi.Mode().Perm())
	if err := os.Chmod(dir, 0o700); err != nil {
		return was, err
	}
	return was + "; made it drwx------", nil
}
