//go:build unix

package kubeconfig

import (
	"io/fs"
	"os"
	"syscall"
)

// foreignOwner returns the owner of fi when it is neither this process's
// user nor root.
func foreignOwner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	uid := int(st.Uid)
	return uid, uid != os.Geteuid() && uid != 0
}
