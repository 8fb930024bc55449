//go:build !unix

package cache

import "os"

// openFlags: Windows has no O_NOFOLLOW; refuseReparse looks first.
const openFlags = 0

func isLink(error) bool { return false }

// refuseReparse refuses a symbolic link or another reparse point (a
// junction) at path, which the open that follows would otherwise follow.
func refuseReparse(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil // missing: the open creates or reports it
	}
	if isReparse(fi) {
		return insecureLink(path)
	}
	return nil
}

// fileOwner: Windows files are checked by their access list instead (see
// checkPrivate); the owner is not a uid.
func fileOwner(os.FileInfo) (uid int, links uint64, ok bool) { return 0, 0, false }

// isReparse reports a symbolic link or a junction: since Go 1.23 Lstat
// marks a junction ModeIrregular rather than ModeSymlink.
func isReparse(fi os.FileInfo) bool { return fi.Mode()&(os.ModeSymlink|os.ModeIrregular) != 0 }
