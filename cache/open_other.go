//go:build !unix

package cache

import (
	"fmt"
	"os"
)

// openEntry opens a cache file for reading, refusing a symbolic link.
// Without O_NOFOLLOW this costs an Lstat first.
func openEntry(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%w: %s is a symbolic link; kubemint does not follow links in its cache", ErrInsecure, path)
	}
	return os.Open(path)
}
