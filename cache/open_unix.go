//go:build unix

package cache

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openEntry opens a cache file for reading without following a symbolic
// link: a link planted in the cache directory could point kubemint at a
// file of someone else's choosing.
func openEntry(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%w: %s is a symbolic link; kubemint does not follow links in its cache", ErrInsecure, path)
	}
	return f, err
}
