//go:build !unix

package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Write replaces path with data, atomically and without fsync (see the
// package comment). perm is the new file's mode. Without openat, the cache
// on these platforms writes by path, each path checked first.
func Write(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, false)
}

// WriteDurable replaces path with data atomically, and flushes the file to
// disk before returning (see the package comment).
func WriteDurable(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, true)
}

func write(path string, data []byte, perm os.FileMode, durable bool) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	fail := func(err error) error {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp makes the file 0600 already; say what is wanted where
	// modes exist. Windows has no mode bits to set.
	if err := f.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// A directory is not flushed here: Windows cannot open one for it.
	return nil
}
