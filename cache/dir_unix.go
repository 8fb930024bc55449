//go:build unix

package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kubemint/kubemint/internal/atomicfile"
)

// cacheDir is the cache directory, open. Every file operation in it goes
// through the descriptor (openat, unlinkat, renameat), never through the
// path again: a link swapped into a parent of the directory after it was
// checked cannot redirect a write, a chmod or a removal.
type cacheDir struct {
	f    *os.File
	fd   int
	path string
}

// openCacheDir opens path as a directory without following a link at it,
// and returns what the open descriptor is (fstat, not a second lookup).
func openCacheDir(path string) (*cacheDir, os.FileInfo, error) {
	fd, err := openNoEINTR(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if isLink(err) || errors.Is(err, unix.ENOTDIR) {
			// Lstat to say which: a link, or not a directory.
			fi, lerr := os.Lstat(path)
			if lerr == nil {
				return nil, fi, nil
			}
		}
		return nil, nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return &cacheDir{f: f, fd: fd, path: path}, fi, nil
}

// mkdirIn creates name, 0700, in the directory at parent, opened without
// following a link (the caller checked parent and its ancestors).
func mkdirIn(parent, name string) error {
	fd, err := openNoEINTR(unix.AT_FDCWD, parent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: parent, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Mkdirat(fd, name, 0o700); err != nil && err != unix.EEXIST {
		return &os.PathError{Op: "mkdir", Path: filepath.Join(parent, name), Err: err}
	}
	return nil
}

func openNoEINTR(dirfd int, name string, flag int, perm uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flag, perm)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func (d *cacheDir) join(name string) string { return filepath.Join(d.path, name) }

// open opens name in the directory, never following a link at it.
func (d *cacheDir) open(name string, flag int, perm os.FileMode) (*os.File, error) {
	fd, err := openNoEINTR(d.fd, name, flag|openFlags|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	// O_NONBLOCK only keeps a planted pipe from hanging the open. On a
	// regular file it is cleared before os.NewFile sees it: a non-blocking
	// descriptor would be registered with the runtime's poller, whose
	// set-up (epoll, eventfd) costs every cache hit more than this fcntl.
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
		_ = unix.SetNonblock(fd, false)
	}
	return os.NewFile(uintptr(fd), d.join(name)), nil
}

// remove removes name from the directory. A directory in the place of one
// of kubemint's files was planted (while the cache directory was open to
// others): it is removed with what it holds, as far as the user may.
func (d *cacheDir) remove(name string) error {
	if err := removeAllAt(d.fd, name, 0); err != nil {
		return &os.PathError{Op: "remove", Path: d.join(name), Err: err}
	}
	return nil
}

// removeAllAt removes name in the directory dirfd, and, if it is a
// directory, what it holds, never following a link (depth bounds a
// planted tree).
func removeAllAt(dirfd int, name string, depth int) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err != unix.EISDIR && err != unix.EPERM || depth > 16 {
		return err
	}
	fd, oerr := openNoEINTR(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if oerr != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), name)
	names, _ := f.Readdirnames(-1)
	for _, n := range names {
		_ = removeAllAt(fd, n, depth+1)
	}
	_ = f.Close()
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}

// isPlantedDir reports an error that a directory in the place of a file
// gives (open for writing, or rename over it).
func isPlantedDir(err error) bool {
	return errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST)
}

// names lists the directory through its descriptor.
func (d *cacheDir) names() ([]string, error) {
	f, err := d.open(".", os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// chmod changes the directory itself (fchmod).
func (d *cacheDir) chmod(mode os.FileMode) error { return d.f.Chmod(mode) }

// fileLock is a lock file held with flock(2).
type fileLock struct{ f *os.File }

func (l *fileLock) Unlock() error { return l.f.Close() }

func (l *fileLock) Stat() (os.FileInfo, error) { return l.f.Stat() }

// record replaces the lock file's content with b (the holder's record).
func (l *fileLock) record(b []byte) error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err := l.f.WriteAt(b, 0)
	return err
}

// lockFilesRemovable: a lock file can be removed while held, because
// lockFile checks, once locked, that the name still holds the locked file.
const lockFilesRemovable = true

// holds reports whether name in d is the file f (same device and inode),
// not a link, another file or nothing.
func (d *cacheDir) holds(f *os.File, name string) bool {
	var held, named unix.Stat_t
	if unix.Fstat(int(f.Fd()), &held) != nil {
		return false
	}
	if unix.Fstatat(d.fd, name, &named, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return false
	}
	return held.Dev == named.Dev && held.Ino == named.Ino
}

// lockFile opens name (created 0600, never through a link) and flocks it,
// waiting until ctx is done when wait is set.
func (d *cacheDir) lockFile(ctx context.Context, name string, wait bool) (*fileLock, bool, error) {
	f, err := d.open(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, err
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil && d.holds(f, name) {
			return &fileLock{f: f}, true, nil
		}
		if err == nil {
			// kubemint clean removed the file (holding its lock) while
			// this process waited on it: lock the file the name holds now,
			// or two processes would each hold a lock of their own.
			_ = f.Close()
			if f, err = d.open(name, os.O_CREATE|os.O_RDWR, 0o600); err != nil {
				return nil, false, err
			}
			continue
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			_ = f.Close()
			return nil, false, err
		}
		if !wait {
			_ = f.Close()
			return nil, false, nil
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, false, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// trustedAncestor says why the directory at path, an ancestor of the cache
// directory, would let someone else swap or plant what kubemint reaches
// through it ("" when it does not): as OpenSSH's secure_path, it must be
// owned by root or the user, and not writable by group or others unless
// the sticky bit is set (as on /tmp).
func trustedAncestor(fi os.FileInfo) string {
	uid, _, ok := fileOwner(fi)
	if !ok {
		return ""
	}
	if uid != 0 && uid != effectiveUID() {
		return fmt.Sprintf("it is owned by uid %d, who could swap the cache directory under it", uid)
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&os.ModeSticky == 0 {
		return fmt.Sprintf("it has mode %v, writable by others without the sticky bit", fi.Mode())
	}
	return ""
}

// writeAtomic replaces name with data through the open directory (see
// atomicfile.WriteAt). A directory in the way (planted while the cache
// directory was open to others) is ErrInsecure: Store.replacePlanted
// removes it and writes again.
func (d *cacheDir) writeAtomic(name string, data []byte) error {
	err := atomicfile.WriteAt(d.f, name, data, 0o600)
	if isPlantedDir(err) {
		return fmt.Errorf("%w: %s is a directory", ErrInsecure, d.join(name))
	}
	return err
}

// checkParents: the parent walk applies where owners and modes say who may
// write (Unix).
const checkParents = true
