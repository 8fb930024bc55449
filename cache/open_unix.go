//go:build unix

package cache

import (
	"errors"
	"os"
	"syscall"
)

// openFlags are added to every open of a file in the cache directory.
// O_NOFOLLOW: a symbolic link planted in the cache could point kubemint at
// a file of someone else's choosing (their token, or the victim's
// ~/.ssh/authorized_keys to write over). O_NONBLOCK: a named pipe planted
// in its place must not hang the open; the check after it refuses the pipe.
const openFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// isLink reports whether an open failed because the path is a symbolic link
// (O_NOFOLLOW's ELOOP; EMLINK on FreeBSD).
func isLink(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

// fileOwner returns the uid that owns fi and how many names it has.
func fileOwner(fi os.FileInfo) (uid int, links uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), uint64(st.Nlink), true
}

// isReparse reports a link at fi; Lstat says so on Unix.
func isReparse(fi os.FileInfo) bool { return fi.Mode()&os.ModeSymlink != 0 }
