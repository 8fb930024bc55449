// Package atomicfile replaces a file's content atomically: the data goes to
// a temporary file in the same directory, which is then renamed over the
// target, so that a reader sees the old content or the new, never a torn
// one, even if the writer is killed mid-write. The cache's entries and
// index and the kubeconfigs that setup and convert edit all go through it.
//
// # What is flushed to disk (the fsync policy, stated once)
//
// The rename alone makes a write atomic against a crash of the process. An
// fsync adds durability against a crash of the machine (power loss, kernel
// panic), at the cost of a disk flush: 0.3 to 6 ms each on a laptop, more
// than the rest of a cache miss's local work. So:
//
//   - Write does not fsync. It is for data whose loss is harmless: a cache
//     entry or its status record that a machine crash loses (or leaves
//     empty, on a file system that orders data after the rename) is read
//     back as a miss or a corrupt entry, which the cache treats as a miss
//     and mints again. Nothing the user wrote is at stake.
//   - WriteDurable fsyncs the temporary file before the rename and, on
//     Unix, the directory after it. It is for files a user cannot get back
//     from a server: a kubeconfig setup or convert edits, and convert's
//     backup of it. After a machine crash the file holds the old content or
//     the new, and the new one is not lost once WriteDurable returned.
//
// The one kubemint file not written here is the cache's served record
// (cache.Store.WriteServed): fixed-size, overwritten in place on the hit
// path, and not fsynced either: a record a machine crash loses reads as
// Unknown, as after any failed write of it.
//
// The package uses only the standard library: the lean front links it
// through the cache.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Write replaces path with data, atomically and without fsync (see the
// package comment). perm is the new file's mode; the temporary file is
// created 0600 and keeps that mode until it is set, so data is never
// readable by others on the way.
func Write(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, false)
}

// WriteDurable replaces path with data atomically, and flushes the file and
// its directory to disk before returning (see the package comment).
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
	// CreateTemp makes the file 0600 already; say what is wanted for
	// platforms and umasks that differ. Windows has no mode bits to set.
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
	if durable {
		syncDir(filepath.Dir(path))
	}
	return nil
}

// syncDir flushes a directory, so that a rename in it survives a machine
// crash. Best effort: Windows cannot open a directory for this, and the
// file's own content is already on disk.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
