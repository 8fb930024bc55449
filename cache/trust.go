package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	// Fix, when set, replaces the default advice (remove it, or set
	// XDG_CACHE_HOME).
	Fix string
}

func (e *UntrustedDirError) Error() string {
	fix := e.Fix
	if fix == "" {
		fix = "remove it, or set XDG_CACHE_HOME to a directory of your own"
	}
	return fmt.Sprintf("not using the cache directory %s: %s; %s", e.Dir, e.Why, fix)
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

// openPrivate opens a file of the cache directory (path is Dir joined
// with its name) through the open directory, without following a link,
// and checks, on the open file, that it is private to the user. checkDir
// must have passed.
func (s *Store) openPrivate(path string, flag int, perm os.FileMode) (*os.File, os.FileInfo, error) {
	if s.dir == nil {
		return nil, nil, errDirNotOpen
	}
	f, err := s.dir.open(filepath.Base(path), flag, perm)
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

// errDirNotOpen is what a file operation returns when the cache directory
// was not opened (checkDir failed or was not called): a miss.
var errDirNotOpen = fmt.Errorf("the cache directory is not open: %w", os.ErrNotExist)

// remove removes a file of the cache directory through the open directory.
func (s *Store) remove(path string) error {
	if s.dir == nil {
		return errDirNotOpen
	}
	return s.dir.remove(filepath.Base(path))
}

// replacePlanted runs try and, when it fails because something was planted
// at path while the cache directory was open to others (ErrInsecure: a
// link, a file not private to the user, a directory), warns, removes it
// with what it holds, and runs try once more. The lock, the served record
// and every atomic write of the cache come here: each is a file kubemint
// makes anew anyway.
func (s *Store) replacePlanted(path string, try func() error) error {
	err := try()
	if !errors.Is(err, ErrInsecure) {
		return err
	}
	s.logf(0, "warning: %v; replacing it", err)
	if rerr := s.remove(path); rerr != nil {
		return fmt.Errorf("%w; kubemint cannot remove it (%v); fix: rm -rf %s (as its owner, or root, if it is not yours)", err, rerr, path)
	}
	return try()
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
// repairs a loose mode on it (the directory is the user's own). The
// directory is opened once, without following a link at it, and every
// later operation goes through that descriptor; its ancestors are checked
// first (checkAncestors). The answer is kept: a call checks once.
func (s *Store) checkDir(create bool) error {
	if s.dir != nil {
		return nil
	}
	if s.Dir == "" {
		return ErrNoCacheDir
	}
	parent, err := s.checkAncestors(create)
	if err != nil {
		return err
	}
	base := filepath.Base(s.Dir)
	d, fi, err := openCacheDir(filepath.Join(parent, base))
	if errors.Is(err, os.ErrNotExist) && create {
		if err = mkdirIn(parent, base); err != nil {
			return fmt.Errorf("creating the cache directory: %w", err)
		}
		d, fi, err = openCacheDir(filepath.Join(parent, base))
	}
	if err != nil {
		return err
	}
	if why := untrustedDir(fi); why != "" || d == nil {
		if why == "" {
			why = "it is not a directory"
		}
		return &UntrustedDirError{Dir: s.Dir, Why: why}
	}
	d.path = s.Dir
	// Repair rather than refuse: the directory is ours, and a mode or an
	// access list made by a lax umask, a copy or a shared XDG_CACHE_HOME
	// should not break kubectl.
	was, err := makeDirPrivate(d, fi)
	if err != nil {
		return fmt.Errorf("the cache directory %s %s and cannot be made private: %w", s.Dir, was, err)
	}
	if was != "" {
		s.logf(0, "warning: the cache directory %s %s", s.Dir, was)
	}
	s.dir = d
	return nil
}

// checkAncestors resolves the parent of the cache directory and checks it
// and every directory above it as OpenSSH's secure_path does (see
// trustedAncestor): one that another user could write to could swap the
// cache directory for one of their choosing. It returns the resolved
// parent, in which the cache directory is then opened without following a
// link. With create, missing parents are made (0700) once the existing
// ones passed, and the whole chain is checked again.
func (s *Store) checkAncestors(create bool) (string, error) {
	parent := filepath.Dir(s.Dir)
	resolved, err := s.walkParent(parent)
	if errors.Is(err, os.ErrNotExist) && create {
		existing := parent
		for {
			existing = filepath.Dir(existing)
			_, err := s.walkParent(existing)
			if err == nil {
				break
			}
			if !errors.Is(err, os.ErrNotExist) || existing == filepath.Dir(existing) {
				return "", err
			}
		}
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return "", fmt.Errorf("creating the cache directory: %w", err)
		}
		resolved, err = s.walkParent(parent)
	}
	return resolved, err
}

// walkParent checks dir and each directory above it, up to the root, and
// returns dir resolved. The usual path has no link in it: one Lstat per
// component, bottom up. A link found on the way is resolved once
// (resolveLinks, which follows only links of the user's or root's: another
// user's link, as XDG_CACHE_HOME in a sticky /tmp, would put the cache
// where they chose, and flip it to force mints) and the walk starts again
// from the resolved path, which must then hold no link: one that appears
// there changed while kubemint looked.
func (s *Store) walkParent(dir string) (string, error) {
	if !checkParents {
		// Not walked here (Windows), but a missing parent must still say
		// so, for checkAncestors to create it.
		if _, err := os.Lstat(dir); err != nil {
			return "", err
		}
		return dir, nil
	}
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("the cache directory %s is not an absolute path", s.Dir)
	}
	resolved := false
	for p := dir; ; {
		fi, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		if isReparse(fi) {
			if resolved {
				return "", &UntrustedDirError{Dir: s.Dir, Why: fmt.Sprintf("its parent directory %s changed into a link while kubemint looked at it", p)}
			}
			if dir, err = s.resolveLinks(dir); err != nil {
				return "", err
			}
			p, resolved = dir, true
			continue
		}
		if err := s.untrustedAncestor(p, fi); err != nil {
			return "", err
		}
		if p == filepath.Dir(p) {
			return dir, nil
		}
		p = filepath.Dir(p)
	}
}

// maxLinks bounds the links resolveLinks follows, as the kernel's ELOOP.
const maxLinks = 40

// resolveLinks resolves every symbolic link in the absolute path dir,
// component by component from the root, as EvalSymlinks does, but refuses
// a link that belongs to neither this user nor root (OpenSSH's secure_path
// rule, applied to links).
func (s *Store) resolveLinks(dir string) (string, error) {
	cur, rest := "/", strings.Split(strings.TrimPrefix(filepath.Clean(dir), "/"), "/")
	for links := 0; len(rest) > 0; {
		if rest[0] == "" {
			rest = rest[1:]
			continue
		}
		next := filepath.Join(cur, rest[0])
		rest = rest[1:]
		fi, err := os.Lstat(next)
		if err != nil {
			return "", err
		}
		if !isReparse(fi) {
			cur = next
			continue
		}
		if uid, _, ok := fileOwner(fi); ok && uid != effectiveUID() && uid != 0 {
			return "", &UntrustedDirError{Dir: s.Dir, Why: fmt.Sprintf("%s is a symbolic link of uid %d, who could point it elsewhere", next, uid),
				Fix: "set XDG_CACHE_HOME to a directory of your own (where the link points, if that is yours)"}
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("the cache directory %s: too many levels of symbolic links", s.Dir)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(cur, target)
		}
		cur, rest = "/", append(strings.Split(strings.TrimPrefix(filepath.Clean(target), "/"), "/"), rest...)
	}
	return cur, nil
}

// untrustedAncestor says, as an *UntrustedDirError, why the ancestor p is
// not safe (nil when it is).
func (s *Store) untrustedAncestor(p string, fi os.FileInfo) error {
	why := trustedAncestor(fi)
	if why == "" {
		return nil
	}
	fix := "set XDG_CACHE_HOME to a directory of your own"
	if strings.Contains(why, "writable by others") {
		fix = fmt.Sprintf("run chmod go-w %s (or chmod +t, as /tmp is), or %s", p, fix)
	}
	return &UntrustedDirError{Dir: s.Dir, Why: fmt.Sprintf("its parent directory %s is not safe: %s", p, why), Fix: fix}
}
