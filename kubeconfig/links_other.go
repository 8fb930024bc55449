//go:build !unix

package kubeconfig

import "io/fs"

// foreignOwner: Windows links need a privilege (or developer mode) to
// create; their owner is not checked.
func foreignOwner(fs.FileInfo) (int, bool) { return 0, false }
