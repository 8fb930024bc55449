//go:build unix

package atomicfile

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// WriteAt replaces name in the open directory dir with data, atomically
// and without fsync (see the package comment); perm is the new file's
// mode. Every step goes through dir's descriptor (openat, fchmod,
// renameat), never through a path: a link swapped into a parent of dir
// after the caller checked and opened it cannot redirect the write.
func WriteAt(dir *os.File, name string, data []byte, perm os.FileMode) error {
	err := writeAt(int(dir.Fd()), dir.Name(), name, data, perm, false)
	runtime.KeepAlive(dir)
	return err
}

// WriteDurable replaces path with data atomically, and flushes the file and
// its directory to disk before returning (see the package comment). A file
// it replaces keeps its owner and group, as kubectl keeps a kubeconfig's:
// root editing another user's kubeconfig must not take it over. When the
// owner cannot be kept (another user's file, and this process is not
// root) nothing is written and the error says so.
func WriteDurable(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	dfd, err := openat(unix.AT_FDCWD, dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, &os.PathError{Op: "open", Path: dir, Err: err})
	}
	defer unix.Close(dfd)
	return writeAt(dfd, dir, filepath.Base(path), data, perm, true)
}

func writeAt(dirfd int, dir, name string, data []byte, perm os.FileMode, durable bool) (err error) {
	path := filepath.Join(dir, name)
	// The owner to keep: only for the user's files (durable writes); the
	// cache's are its own by construction.
	var old unix.Stat_t
	keep := durable && unix.Fstatat(dirfd, name, &old, unix.AT_SYMLINK_NOFOLLOW) == nil && old.Mode&unix.S_IFMT == unix.S_IFREG
	var fd int
	var tmp string
	for range 100 {
		tmp = "." + name + ".tmp" + strconv.FormatUint(uint64(rand.Uint32()), 10)
		fd, err = openat(dirfd, tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != unix.EEXIST {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, &os.PathError{Op: "open", Path: filepath.Join(dir, tmp), Err: err})
	}
	defer func() {
		if err != nil {
			_ = unix.Unlinkat(dirfd, tmp, 0)
		}
	}()
	if keep {
		if err = keepOwner(fd, path, int(old.Uid), int(old.Gid)); err != nil {
			_ = unix.Close(fd)
			return err
		}
	}
	err = unix.Fchmod(fd, uint32(perm.Perm())) // whatever the umask, after a chown
	if err == nil {
		err = writeAll(fd, data)
	}
	if err == nil && durable {
		err = unix.Fsync(fd)
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, &os.PathError{Op: "write", Path: filepath.Join(dir, tmp), Err: err})
	}
	if err = unix.Renameat(dirfd, tmp, dirfd, name); err != nil {
		return fmt.Errorf("writing %s: %w", path, &os.LinkError{Op: "rename", Old: filepath.Join(dir, tmp), New: path, Err: err})
	}
	if durable {
		// Best effort: the file's own content is already on disk.
		_ = unix.Fsync(dirfd)
	}
	return nil
}

func openat(dirfd int, name string, flag int, perm uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flag, perm)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// keepOwner gives the new file fd the owner and group of the file it will
// replace. Another owner needs root; a group this user is not in is left
// as the directory gives it (best effort: the owner keeps the file).
func keepOwner(fd int, path string, uid, gid int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if int(st.Uid) != uid {
		if err := unix.Fchown(fd, uid, gid); err != nil {
			return fmt.Errorf("%s is owned by uid %d and replacing it would give it to uid %d (%v): run kubemint as its owner, or as root", path, uid, st.Uid, err)
		}
		return nil
	}
	if int(st.Gid) != gid {
		_ = unix.Fchown(fd, -1, gid)
	}
	return nil
}
