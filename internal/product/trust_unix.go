//go:build unix

package product

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// CheckExecutable reports why kubemint must not run the program at path
// (kubemint-full, which kubectl's credentials pass through), or nil: as
// the cache's directories are checked, the file and every directory above
// it, links resolved, must be owned by root, by this user or by the owner
// of the front (who installed both), and none may be writable by every
// user unless sticky (as /tmp): anyone could replace it there. A group
// that may write (Homebrew's admin group) is allowed: its members
// installed it.
func CheckExecutable(path, front string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	trusted := map[uint32]bool{0: true, uint32(os.Geteuid()): true}
	if fi, err := os.Stat(front); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			trusted[st.Uid] = true
		}
	}
	for p := real; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		what := "its directory " + p
		if p == real {
			what = "it"
		}
		switch {
		case !trusted[st.Uid]:
			return fmt.Errorf("not running %s: %s is owned by uid %d, who could replace it", real, what, st.Uid)
		case fi.Mode().Perm()&0o002 != 0 && fi.Mode()&os.ModeSticky == 0:
			return fmt.Errorf("not running %s: %s is writable by every user (mode %v), who could replace it", real, what, fi.Mode())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
