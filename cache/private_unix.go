//go:build !windows

package cache

import (
	"fmt"
	"os"
)

// checkPrivate refuses a cache file that is not a regular file of the
// user's own, or that others may read or write. As ssh does with a private
// key, a group or other permission bit is enough.
func checkPrivate(path string, _ *os.File, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file (%v)", ErrInsecure, path, fi.Mode().Type())
	}
	if err := checkOwned(path, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %v, readable by others", ErrInsecure, path, fi.Mode().Perm())
	}
	return nil
}

// makeDirPrivate makes the cache directory private to its owner if it is
// not already, and reports what it found wrong ("" when nothing was). It
// changes the directory it opened (fchmod), which checkDir checked: never
// a target someone swapped in.
func makeDirPrivate(d *cacheDir, fi os.FileInfo) (string, error) {
	if fi.Mode().Perm()&0o077 == 0 {
		return "", nil
	}
	was := fmt.Sprintf("had mode %v, readable by others", fi.Mode())
	if err := d.chmod(0o700); err != nil {
		return was, err
	}
	return was + "; made it drwx------", nil
}

// checkOwned refuses what another user owns, or what has another name
// (a hard link to a file of the user's elsewhere) where fi's platform
// reports owners (Unix).
func checkOwned(path string, fi os.FileInfo) error {
	uid, links, ok := fileOwner(fi)
	if !ok {
		return nil
	}
	if euid := effectiveUID(); uid != euid {
		return fmt.Errorf("%w: %s is owned by uid %d, not you (uid %d)", ErrInsecure, path, uid, euid)
	}
	if links > 1 && !fi.IsDir() {
		return fmt.Errorf("%w: %s has %d hard links", ErrInsecure, path, links)
	}
	return nil
}
