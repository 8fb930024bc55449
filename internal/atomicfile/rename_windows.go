package atomicfile

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// rename replaces newpath. On Windows a file another process has open (a
// concurrent kubemint reading the entry, a virus scanner) cannot be
// replaced for a moment: retry briefly instead of failing the call.
func rename(oldpath, newpath string) error {
	var err error
	for i := 0; i < 20; i++ {
		if err = os.Rename(oldpath, newpath); err == nil || !transient(err) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

const errorSharingViolation syscall.Errno = 32

func transient(err error) bool {
	return errors.Is(err, syscall.ERROR_ACCESS_DENIED) || errors.Is(err, errorSharingViolation)
}
