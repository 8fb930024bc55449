//go:build !unix

package cache

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/kubemint/kubemint/internal/atomicfile"
)

// cacheDir is the cache directory. Without openat, operations go by path,
// each checked for a reparse point first (refuseReparse).
type cacheDir struct{ path string }

func openCacheDir(path string) (*cacheDir, os.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, nil, err
	}
	if isReparse(fi) || !fi.IsDir() {
		return nil, fi, nil
	}
	return &cacheDir{path: path}, fi, nil
}

func mkdirIn(parent, name string) error {
	if err := os.Mkdir(filepath.Join(parent, name), 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	return nil
}

func (d *cacheDir) join(name string) string { return filepath.Join(d.path, name) }

func (d *cacheDir) open(name string, flag int, perm os.FileMode) (*os.File, error) {
	p := d.join(name)
	if err := refuseReparse(p); err != nil {
		return nil, err
	}
	return os.OpenFile(p, flag|openFlags, perm)
}

func (d *cacheDir) remove(name string) error { return os.Remove(d.join(name)) }

func (d *cacheDir) names() ([]string, error) {
	f, err := os.Open(d.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// writeAtomic replaces name with data (see atomicfile).
func (d *cacheDir) writeAtomic(name string, data []byte) error {
	return atomicfile.Write(d.join(name), data, 0o600)
}

// lockFilesRemovable: Windows locks name no file identity to check after
// locking, so a lock file stays (see Forget).
const lockFilesRemovable = false

type fileLock struct{ l *flock.Flock }

func (l *fileLock) Unlock() error              { return l.l.Unlock() }
func (l *fileLock) Stat() (os.FileInfo, error) { return l.l.Stat() }

// record: a Windows lock is a byte-range lock that bars other processes
// from reading what it covers, so no holder is recorded there.
func (l *fileLock) record([]byte) error { return nil }

func (d *cacheDir) lockFile(ctx context.Context, name string, wait bool) (*fileLock, bool, error) {
	path := d.join(name)
	if err := refuseReparse(path); err != nil {
		return nil, false, err
	}
	l := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR|openFlags), flock.SetPermissions(0o600))
	var ok bool
	var err error
	if wait {
		ok, err = l.TryLockContext(ctx, 25*time.Millisecond)
		if !ok && err == nil {
			err = ctx.Err()
		}
	} else {
		ok, err = l.TryLock()
	}
	if err != nil || !ok {
		return nil, false, err
	}
	return &fileLock{l: l}, true, nil
}

// trustedAncestor: Windows directories carry access lists, checked on the
// cache directory itself (makeDirPrivate); parents are not walked.
func trustedAncestor(os.FileInfo) string { return "" }

// isPlantedDir: Windows keeps its path-based checks.
func isPlantedDir(error) bool { return false }

// checkParents: Windows has access lists, checked on the cache directory
// itself; its parents are not walked.
const checkParents = false
