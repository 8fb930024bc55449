//go:build !linux

package nodump

// Set does nothing here: only Linux has PR_SET_DUMPABLE.
func Set() error { return nil }
