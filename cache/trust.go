package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// The rule, as ssh's StrictModes and gpg's home directory checks have it:
// kubemint uses a cache directory only when it is a real directory (not a
// link) owned by the user running kubemint, and opens a file in it only
// without following a link, then checks what it opened: a regular file of
// that user's, with one name, that no one else may read or write. A file
// that fails is not used; one kubemint replaces anyway (entry, served
// record, lock) is removed and made anew. A directory that fails is not
// used at all, nor written to, nor chmodded: kubemint works as
// --cache=none would.

// ErrUntrusted reports a cache directory kubemint does not use: a link, not
// a directory, or owned by another user. Callers work without a cache.
var ErrUntrusted = errors.New("untrusted cache directory")

// ErrNoCacheDir reports that there is nowhere to put a cache: HOME and
// XDG_CACHE_HOME are both unset, and kubemint does not invent /.cache.
var ErrNoCacheDir = errors.New("no cache directory: neither XDG_CACHE_HOME nor HOME is set; set one of them to cache tokens between calls")

// UntrustedDirError says which directory kubemint refused, why, and what
// to do about it.
type UntrustedDirError struct {
	Dir, Why string
}

func (e *UntrustedDirError) Error() string {
	return fmt.Sprintf("not using the cache directory %s: %s; remove it, or set XDG_CACHE_HOME to a directory of your own", e.Dir, e.Why)
}

// Is makes errors.Is(err, ErrUntrusted) true.
func (e *UntrustedDirError) Is(target error) bool { return target == ErrUntrusted }

// effectiveUID is read once: the hit path checks the owner of the
// directory and of each file it opens, and each os.Geteuid is a system
// call.
var effectiveUID = sync.OnceValue(os.Geteuid)

func insecureLink(path string) error {
	return fmt.Errorf("%w: %s is a symbolic link; kubemint does not follow links in its cache", ErrInsecure, path)
}

// openPrivate opens a file in the cache directory without following a
// link and checks, on the open file, that it is private to the user.
func openPrivate(path string, flag int, perm os.FileMode) (*os.File, os.FileInfo, error) {
	if err := refuseReparse(path); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, flag|openFlags, perm)
	if isLink(err) {
		return nil, nil, insecureLink(path)
	}
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkPrivate(path, f, fi)
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// untrustedDir says why the cache directory, as Lstat found it, is not
// one kubemint uses ("" when it is).
func untrustedDir(fi os.FileInfo) string {
	switch {
	case isReparse(fi):
		return "it is a symbolic link, and kubemint does not follow a link at its cache directory"
	case !fi.IsDir():
		return "it is not a directory"
	}
	if uid, _, ok := fileOwner(fi); ok && uid != effectiveUID() {
		return fmt.Sprintf("it is owned by uid %d, not you (uid %d)", uid, effectiveUID())
	}
	return ""
}

// checkDir checks the cache directory before anything in it is read or
// written, creating it when create is set (a miss need not create it), and
// repairs a loose mode on it (the directory is the user's own). The answer
// is kept: a call checks once.
func (s *Store) checkDir(create bool) error {
	if s.dirOK {
		return nil
	}
	if s.Dir == "" {
		return ErrNoCacheDir
	}
	fi, err := os.Lstat(s.Dir)
	if errors.Is(err, os.ErrNotExist) && create {
		fi, err = s.mkdir()
	}
	if err != nil {
		return err
	}
	if why := untrustedDir(fi); why != "" {
		return &UntrustedDirError{Dir: s.Dir, Why: why}
	}
	// Repair rather than refuse: the directory is ours, and a mode or an
	// access list made by a lax umask, a copy or a shared XDG_CACHE_HOME
	// should not break kubectl.
	was, err := makeDirPrivate(s.Dir, fi)
	if err != nil {
		return fmt.Errorf("the cache directory %s %s and cannot be made private: %w", s.Dir, was, err)
	}
	if was != "" {
		s.logf(0, "warning: the cache directory %s %s", s.Dir, was)
	}
	s.dirOK = true
	return nil
}

// mkdir creates the cache directory (its parents too, private), and
// Lstats what is there after: another process may have made it first.
func (s *Store) mkdir() (os.FileInfo, error) {
	if err := os.MkdirAll(filepath.Dir(s.Dir), 0o700); err != nil {
		return nil, fmt.Errorf("creating the cache directory: %w", err)
	}
	if err := os.Mkdir(s.Dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("creating the cache directory: %w", err)
	}
	fi, err := os.Lstat(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("creating the cache directory: %w", err)
	}
	return fi, nil
}
