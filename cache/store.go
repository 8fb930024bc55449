package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// Mode selects where entries are stored.
type Mode string

const (
	// Auto uses the OS keyring where one answers quickly, else the file cache.
	Auto Mode = "auto"
	// Keyring uses only the OS keyring and fails when it does not answer.
	Keyring Mode = "keyring"
	// Kernel uses only the Linux kernel keyring: nothing on disk.
	Kernel Mode = "kernel"
	// File uses only private files under the cache directory.
	File Mode = "file"
	// None stores nothing: every call mints.
	None Mode = "none"
)

// ParseMode checks a --cache value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Kernel:
		if !kernelSupported {
			return "", fmt.Errorf("--cache=kernel: the kernel keyring is Linux only; use auto, keyring or file")
		}
		return m, nil
	case Auto, Keyring, File, None:
		return m, nil
	}
	return "", fmt.Errorf("--cache must be one of auto, keyring, kernel, file, none, got %q", s)
}

// Backend names where an entry was found or stored, for logs and status.
type Backend string

const (
	BackendKeyring Backend = "keyring"
	BackendKernel  Backend = "kernel"
	BackendFile    Backend = "file"
)

// DefaultKeyringTimeout bounds every keyring call. A Secret Service that is
// locked and would prompt, or a D-Bus that does not answer, must not hang
// kubectl: past this the call falls back to the file cache.
const DefaultKeyringTimeout = time.Second

// keyringOffFor is how long a failed keyring probe is remembered, so that
// later calls go straight to the file cache instead of paying the probe.
const keyringOffFor = time.Hour

// Store reads and writes entries. The zero value is not usable: Dir is
// always needed, Mode for Load, Save and Delete (List, Forget and the lock
// read only Dir).
type Store struct {
	// Mode says where entries go.
	Mode Mode
	// Dir is the private cache directory: file entries, lock files and the
	// remembered keyring decision live here.
	Dir string
	// KeyringTimeout bounds each keyring call; zero means DefaultKeyringTimeout.
	KeyringTimeout time.Duration
	// Logf, when set, receives progress messages at a verbosity level. They
	// never contain a token.
	Logf func(level int, format string, args ...any)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// dir is the cache directory, open, once it passed checkDir.
	dir *cacheDir
	// keyringDown, once set, is why the keyring is not used again in this
	// process: one keyring call that hangs costs its timeout once, not
	// once per call (load, then save).
	keyringDown error

	// held says where the entry under a key was found or stored in this
	// process (its served and failure records go there too), expiry when
	// it expires (a kernel record times out with it).
	held   map[string]Backend
	expiry map[string]time.Time
	// kernelIDs are the kernel keyring keys found trusted in this process,
	// by name; dirTag names the cache directory there (kernelName).
	kernelIDs map[string]int
	dirTag    string
}

func (s *Store) logf(level int, format string, args ...any) {
	if s.Logf != nil {
		s.Logf(level, format, args...)
	}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) entryPath(key string) string { return filepath.Join(s.Dir, key+".json") }
func (s *Store) lockPath(key string) string  { return filepath.Join(s.Dir, key+".lock") }
func (s *Store) keyringOffPath() string      { return filepath.Join(s.Dir, "keyring-unavailable") }

// Load returns the entry stored under key and where it was found: in Auto
// mode on Linux the kernel keyring first (touching no file), then the file
// cache, then the OS keyring. A missing entry, in any backend and in mode
// None, returns an error that wraps os.ErrNotExist; an undecodable one
// wraps ErrCorrupt; a file that is not private to the user, or a link in
// its place, and a kernel keyring key that is not the user's own private
// one, wrap ErrInsecure. Each of these is a miss for the caller. A cache directory kubemint does not trust
// (*UntrustedDirError), an empty Dir (ErrNoCacheDir) and a keyring that
// fails or does not answer are errors of their own; in Auto mode the last
// is remembered, so that the Save that follows goes to the file cache
// without asking the keyring again.
func (s *Store) Load(key string) (Entry, Backend, error) {
	if s.Mode == None {
		return Entry{}, "", os.ErrNotExist
	}
	if s.kernelOn() {
		// First, and without touching the file system: a kernel keyring
		// hit reads its served record from the keyring too. An empty Dir
		// has no cache, as with files.
		if s.Dir == "" {
			return Entry{}, "", ErrNoCacheDir
		}
		e, err := s.loadKernel(key)
		if s.Mode == Kernel || err == nil || !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errKernelRefused) {
			return e, BackendKernel, err
		}
		if errors.Is(err, errKernelRefused) {
			s.logf(4, "%v; looking in the file cache", err)
		}
	}
	// Not even a keyring entry is served from an untrusted directory: the
	// served record beside it must be trusted too.
	if err := s.checkDir(false); err != nil {
		return Entry{}, "", err
	}
	switch s.Mode {
	case File:
		e, err := s.loadFile(key)
		if err == nil {
			s.hold(key, BackendFile)
		}
		return e, BackendFile, err
	case Keyring:
		e, err := s.loadKeyring(key)
		return e, BackendKeyring, err
	}
	// Auto: a file entry exists only when the keyring was unusable when it
	// was written, so look there first; it costs one open.
	e, err := s.loadFile(key)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		if err == nil {
			s.hold(key, BackendFile)
		}
		return e, BackendFile, err
	}
	if !s.keyringLikely() {
		return Entry{}, BackendFile, err
	}
	e, err = s.loadKeyring(key)
	if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, ErrCorrupt) {
		// Remembered at once, so that the save that follows (in the full
		// binary, or in this process) does not pay the timeout again.
		s.rememberKeyringOff(err)
	}
	return e, BackendKeyring, err
}

// Save stores e under key and returns where it went. In Auto mode a keyring
// that fails or does not answer in time is remembered as unavailable for a
// while and the entry goes to the kernel keyring (Linux) or the file cache
// instead; an entry the kernel keyring refuses (keyctl blocked, the quota
// full, too large) goes to the file cache alone, with one -v=1 line. In
// Kernel mode nothing is ever written to disk: a refused entry is an error.
func (s *Store) Save(key string, e Entry) (Backend, error) {
	switch s.Mode {
	case None:
		return "", nil
	case File:
		s.hold(key, BackendFile)
		return BackendFile, s.saveFile(key, e)
	case Keyring:
		if err := s.saveKeyring(key, e); err != nil {
			return "", err
		}
		s.hold(key, BackendKeyring)
		return BackendKeyring, nil
	case Kernel:
		if s.Dir == "" {
			return "", ErrNoCacheDir
		}
		if err := s.saveKernel(key, e); err != nil {
			return "", fmt.Errorf("not cached in the kernel keyring: %w", err)
		}
		return BackendKernel, nil
	}
	if s.keyringLikely() {
		err := s.saveKeyring(key, e)
		switch {
		case err == nil:
			// An older file entry would now shadow the keyring.
			s.dropShadows(key, BackendKeyring)
			s.hold(key, BackendKeyring)
			s.copyToKernel(key, e)
			return BackendKeyring, nil
		case errors.Is(err, keyring.ErrSetDataTooBig):
			// The keyring works; this entry is too large for it (Windows
			// Credential Manager, macOS security). Only it goes elsewhere.
			if s.kernelOn() {
				s.logf(1, "the OS keyring refused this entry as too large (%d bytes); storing it in the kernel keyring instead", len(e.Encode(key)))
			} else {
				s.logf(1, "the OS keyring refused this entry as too large (%d bytes); stored it in the file cache in %s", len(e.Encode(key)), s.Dir)
			}
		default:
			s.rememberKeyringOff(err)
		}
	}
	if s.kernelOn() {
		err := s.saveKernel(key, e)
		if err == nil {
			// An older file entry would hold a token on disk for nothing.
			s.dropShadows(key, BackendKernel)
			return BackendKernel, nil
		}
		s.logf(1, "%s; stored it in the file cache in %s", kernelFallback(err), s.Dir)
	}
	s.dropShadows(key, BackendFile)
	s.hold(key, BackendFile)
	return BackendFile, s.saveFile(key, e)
}

// copyToKernel keeps a copy of an entry the Secret Service holds in the
// kernel keyring (auto mode, Linux), which Load reads first: a hit then
// opens no D-Bus connection (4x a hello-world, for the authentication
// round trip alone) but costs a kernel keyring hit. The trade-off, in
// docs/security.md: while the copy lives (until the token's expiry or a
// reboot), a locked Secret Service collection no longer keeps the token
// from the user's own processes. A copy that fails costs nothing but
// speed: the next hit asks the Secret Service.
func (s *Store) copyToKernel(key string, e Entry) {
	if !s.kernelOn() {
		return
	}
	if err := s.saveKernel(key, e); err != nil {
		s.logf(4, "no kernel keyring copy of the entry: %v", err)
		_ = s.deleteKernel(key)
		s.hold(key, BackendKeyring)
	}
}

// dropShadows removes what an earlier save left of key in the backends
// that Load reads before kept: a kernel keyring entry (read first) when
// the entry goes to a file, a file entry (read before the OS keyring, and
// a token on disk) when it goes to a keyring. A Secret Service entry's
// kernel keyring copy is rewritten by copyToKernel.
func (s *Store) dropShadows(key string, kept Backend) {
	if kept == BackendFile && s.kernelOn() {
		if err := s.deleteKernel(key); err == nil {
			s.logf(4, "removed the kernel keyring entry now held by the %s cache", kept)
		}
	}
	if kept != BackendFile && s.checkDir(false) == nil {
		if err := s.remove(s.entryPath(key)); err == nil {
			s.logf(4, "removed the file cache entry now held by the %s cache", kept)
		}
	}
}

// Delete forgets the entry under key in every backend the mode uses.
func (s *Store) Delete(key string) error {
	var errs []error
	if s.kernelOn() {
		if err := s.deleteKernel(key); err != nil && !errors.Is(err, errKernelRefused) {
			errs = append(errs, err)
		}
	}
	if s.Mode == Auto || s.Mode == File {
		if err := s.checkDir(false); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := s.remove(s.entryPath(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if s.Mode == Keyring || (s.Mode == Auto && s.keyringLikely()) {
		err := s.keyringCall(func() error { return keyring.Delete(Service, key) })
		if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			errs = append(errs, fmt.Errorf("deleting keyring item: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Lock takes the cross-process lock for key, waiting until ctx is done. The
// lock is a flock(2) on a file beside the cache, so the kernel releases it
// when a holder dies: a killed kubemint never blocks the next call.
//
// The lock file is opened without following a link and checked once
// locked; a link or a foreign file in its place (planted while the
// directory was open to others) is removed and the lock taken anew.
func (s *Store) Lock(ctx context.Context, key string) (unlock func(), err error) {
	unlock, _, err = s.safeLock(ctx, key, true)
	return unlock, err
}

// TryLock takes the cross-process lock for key if no other process holds
// it, without waiting; ok is false when another process does. A caller
// with a still-valid token to serve uses it instead of Lock, so it never
// queues behind a mint that may hang (stale-while-revalidate). The lock
// file is checked as Lock checks it.
func (s *Store) TryLock(key string) (unlock func(), ok bool, err error) {
	return s.safeLock(context.Background(), key, false)
}

// safeLock takes the lock, waiting for it when wait is set, and replaces a
// planted lock file once.
func (s *Store) safeLock(ctx context.Context, key string, wait bool) (unlock func(), ok bool, err error) {
	if err := s.ensureDir(); err != nil {
		return nil, false, err
	}
	err = s.replacePlanted(s.lockPath(key), func() error {
		var err error
		unlock, ok, err = s.lock(ctx, key, wait)
		return err
	})
	return unlock, ok, err
}

func (s *Store) lock(ctx context.Context, key string, wait bool) (unlock func(), ok bool, err error) {
	path := s.lockPath(key)
	l, ok, err := s.dir.lockFile(ctx, filepath.Base(path), wait)
	if ctxErr := ctx.Err(); wait && !ok && ctxErr != nil {
		return nil, false, fmt.Errorf("waiting for another kubemint process to finish minting (lock %s): %w", path, ctxErr)
	}
	if err != nil {
		if isLink(err) {
			return nil, false, insecureLink(path)
		}
		if isPlantedDir(err) {
			return nil, false, fmt.Errorf("%w: %s is a directory", ErrInsecure, path)
		}
		return nil, false, fmt.Errorf("locking %s: %w", path, err)
	}
	if !ok {
		return nil, false, nil
	}
	fi, err := l.Stat()
	if err == nil {
		err = checkPrivate(path, nil, fi)
	}
	if err != nil {
		_ = l.Unlock()
		return nil, false, err
	}
	// Who holds it, for a caller that waits (LockHolder). Best effort: the
	// lock is taken either way.
	if err := l.record(holderRecord(s.now())); err != nil {
		s.logf(4, "could not record this process in the lock file: %v", err)
	}
	return func() { _ = l.Unlock() }, true, nil
}

// keyringLikely reports, without talking to the keyring, whether one may
// answer: a Secret Service needs a D-Bus session bus, and a recent failure is
// remembered so later calls skip the probe.
func (s *Store) keyringLikely() bool {
	if !hasSessionBus() || s.keyringDown != nil {
		return false
	}
	_, off := s.keyringOffMarker()
	return !off
}

// keyringOffMarker reports when the keyring was last found unusable, if
// that is recent. The marker is trusted only as a private regular file of
// the user's (Lstat: it is not opened here).
func (s *Store) keyringOffMarker() (time.Time, bool) {
	if s.checkDir(false) != nil {
		return time.Time{}, false
	}
	f, fi, err := s.openPrivate(s.keyringOffPath(), os.O_RDONLY, 0)
	if err != nil {
		return time.Time{}, false
	}
	_ = f.Close()
	return fi.ModTime(), s.now().Sub(fi.ModTime()) < keyringOffFor
}

// hasSessionBus reports whether a Secret Service could be reached. Without
// DBUS_SESSION_BUS_ADDRESS godbus would try to autolaunch a bus, which can
// hang or pop up a window; no session bus means no Secret Service. Other
// platforms' keyrings need no bus.
func hasSessionBus() bool {
	if runtime.GOOS == "linux" || strings.HasSuffix(runtime.GOOS, "bsd") {
		return os.Getenv("DBUS_SESSION_BUS_ADDRESS") != ""
	}
	return true
}

// ErrNoSessionBus says why a Linux keyring cannot be used at all.
var ErrNoSessionBus = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is empty), so no Secret Service")

// ProbeKeyring asks the OS keyring for an item that does not exist, as a
// health check, and reports how long it took to answer. It ignores any
// remembered failure.
func (s *Store) ProbeKeyring() (time.Duration, error) {
	if !hasSessionBus() {
		return 0, ErrNoSessionBus
	}
	start := time.Now()
	err := s.withKeyringTimeout(func() error {
		_, err := keyring.Get(Service, "kubemint-doctor-probe")
		return err
	})
	d := time.Since(start)
	if errors.Is(err, keyring.ErrNotFound) {
		err = nil
	}
	return d, err
}

// KeyringOffSince reports when auto mode last judged the keyring unusable,
// and why, if that decision is still in force.
func (s *Store) KeyringOffSince() (time.Time, string, bool) {
	since, off := s.keyringOffMarker()
	if !off {
		return time.Time{}, "", false
	}
	b, _ := s.readPrivate(s.keyringOffPath(), 4<<10)
	return since, strings.TrimSpace(string(b)), true
}

// rememberKeyringOff records that the keyring failed, so the next calls go
// straight to the kernel keyring (Linux) or the file cache, and says so once,
// naming the one they go to.
func (s *Store) rememberKeyringOff(cause error) {
	s.keyringDown = cause
	instead := "the file cache in " + s.Dir
	if s.kernelOn() {
		instead = "the kernel keyring (the file cache in " + s.Dir + " for an entry it refuses)"
	}
	s.logf(1, "the OS keyring is not usable (%v); using %s for the next %v", cause, instead, keyringOffFor)
	if err := s.ensureDir(); err != nil {
		return
	}
	_ = s.writeFileAtomic(s.keyringOffPath(), []byte(cause.Error()+"\n"))
}

var errKeyringTimeout = errors.New("the keyring did not answer in time (is it locked, waiting for a password prompt?)")

// keyringCall runs one call to the keyring. Every call passes here, so
// that none starts without a session bus (godbus would try to autolaunch
// one with dbus-launch), and none starts once a call in this process has
// timed out: the whole keyring budget of a call is one timeout.
func (s *Store) keyringCall(f func() error) error {
	if !hasSessionBus() {
		return ErrNoSessionBus
	}
	if s.keyringDown != nil {
		return fmt.Errorf("the keyring is not used again in this process: %w", s.keyringDown)
	}
	err := s.withKeyringTimeout(f)
	if errors.Is(err, errKeyringTimeout) {
		s.keyringDown = err
	}
	return err
}

// withKeyringTimeout runs f, giving up after the keyring timeout. A call
// that times out is left running: go-keyring offers no way to cancel it, and
// the process is short-lived.
func (s *Store) withKeyringTimeout(f func() error) error {
	d := s.KeyringTimeout
	if d <= 0 {
		d = DefaultKeyringTimeout
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errKeyringTimeout
	}
}

func (s *Store) loadKeyring(key string) (Entry, error) {
	var secret string
	err := s.keyringCall(func() error {
		var err error
		secret, err = keyring.Get(Service, key)
		return err
	})
	if err != nil {
		if errors.Is(err, keyring.ErrNotFound) {
			return Entry{}, fmt.Errorf("keyring: %w", os.ErrNotExist)
		}
		return Entry{}, fmt.Errorf("reading the keyring: %w", err)
	}
	return Decode(key, []byte(secret))
}

func (s *Store) saveKeyring(key string, e Entry) error {
	err := s.keyringCall(func() error { return keyring.Set(Service, key, string(e.Encode(key))) })
	if err != nil {
		return fmt.Errorf("writing to the keyring: %w", err)
	}
	return nil
}

// ErrInsecure reports a cache file that others may read, or a symbolic
// link in its place. Like ssh with a private key, kubemint does not use it:
// the entry is a miss, and the next save replaces it with a private file.
var ErrInsecure = errors.New("cache file is not private")

// maxEntrySize bounds what loadFile reads: the largest TokenRequest token
// is a few kilobytes.
const maxEntrySize = 64 << 10

func (s *Store) loadFile(key string) (Entry, error) {
	// Open, stat, read: the syscalls os.ReadFile makes anyway, with the
	// checks in between.
	f, fi, err := s.openPrivate(s.entryPath(key), os.O_RDONLY, 0)
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	if fi.Size() > maxEntrySize {
		return Entry{}, ErrCorrupt
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return Entry{}, ErrCorrupt
	}
	return Decode(key, b)
}

func (s *Store) saveFile(key string, e Entry) error {
	b := e.Encode(key)
	if len(b) > maxEntrySize {
		// It would be refused on every read: a mint per call, and a token
		// left on disk for nothing.
		return fmt.Errorf("the entry is %d bytes, more than the %d the file cache reads back; not caching it", len(b), maxEntrySize)
	}
	if err := s.ensureDir(); err != nil {
		return err
	}
	if err := s.writeFileAtomic(s.entryPath(key), b); err != nil {
		return err
	}
	s.removeTemps(staleTempAge)
	return nil
}

// readPrivate reads a small private file of the cache, at most limit
// bytes of it.
func (s *Store) readPrivate(path string, limit int64) ([]byte, error) {
	f, fi, err := s.openPrivate(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// staleTempAge is how old a temporary file must be before it is taken for
// the leftover of a killed writer rather than a write in progress.
const staleTempAge = time.Minute

// removeTemps deletes temporary files older than age that a kubemint
// killed between writing and renaming left behind. They may hold a token.
// Only kubemint's own temporary files are touched: a name of the pattern
// writeFileAtomic makes (isTempName), a private regular file of the
// user's, opened through the directory without following a link.
func (s *Store) removeTemps(age time.Duration) {
	if s.dir == nil {
		return
	}
	names, _ := s.dir.names()
	for _, n := range names {
		if !isTempName(n) {
			continue
		}
		p := filepath.Join(s.Dir, n)
		f, fi, err := s.openPrivate(p, os.O_RDONLY, 0)
		if err != nil {
			continue
		}
		_ = f.Close()
		if s.now().Sub(fi.ModTime()) >= age {
			_ = s.remove(p)
		}
	}
}

// isTempName reports whether name is one of kubemint's temporary files:
// ".<file>.tmp<digits>" (atomicfile's pattern, as os.CreateTemp's on
// Windows) where <file> is an entry's file (<key>.<ext>: the
// key is 64 hex digits, letters in tests; ext one of the cache's) or the
// keyring marker.
func isTempName(name string) bool {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok {
		return false
	}
	i := strings.LastIndex(rest, ".tmp")
	if i < 0 {
		return false
	}
	file, digits := rest[:i], rest[i+len(".tmp"):]
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return false
	}
	if file == "keyring-unavailable" {
		return true
	}
	key, ext, ok := strings.Cut(file, ".")
	if !ok || key == "" || strings.Trim(key, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-") != "" {
		return false
	}
	switch ext {
	case "json", "info", "failed", "served", "lock":
		return true
	}
	return false
}

// RemoveTemps deletes every temporary file in the cache directory, of any
// age, for `kubemint clean`: a writer killed before its rename left it,
// with a live token in it. A write in progress at that moment fails its
// rename and says so; the next call writes again.
func (s *Store) RemoveTemps() error {
	if err := s.checkDir(false); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	s.removeTemps(0)
	return nil
}

// ensureDir creates the cache directory, private to the user, or checks
// the one that is there (see checkDir).
func (s *Store) ensureDir() error { return s.checkDir(true) }

// writeFileAtomic replaces a private file of the cache atomically and
// without fsync: a cache file that a machine crash loses is a miss (see
// package atomicfile for the policy). The temporary file is created
// exclusively (O_EXCL, so never through a planted link) and 0600, through
// the open directory; a directory planted in the file's place is replaced
// once (replacePlanted). checkDir must have passed.
func (s *Store) writeFileAtomic(path string, data []byte) error {
	if s.dir == nil {
		return errDirNotOpen
	}
	return s.replacePlanted(path, func() error { return s.dir.writeAtomic(filepath.Base(path), data) })
}
