package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Info describes a cached entry without its secret. Keyrings cannot list
// their items (the kernel keyring can, but only its owner's process, and
// it names keys, not what they are for), so kubemint keeps an Info file
// beside the cache for every entry, wherever the entry itself lives; `kubemint status` and
// `kubemint clean` read them.
type Info struct {
	Key string `json:"key"`
	// Labels name what the entry is for (account, server, ...); the cache
	// does not interpret them.
	Labels    map[string]string `json:"labels"`
	Backend   Backend           `json:"backend"`
	Issued    time.Time         `json:"issued"`
	Expiry    time.Time         `json:"expiry"`
	RefreshAt time.Time         `json:"refreshAt"`
}

func (s *Store) infoPath(key string) string { return filepath.Join(s.Dir, key+".info") }

// SaveInfo records info for its key. It holds no secret.
func (s *Store) SaveInfo(info Info) error {
	if err := s.ensureDir(); err != nil {
		return err
	}
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encoding cache info: %w", err)
	}
	return s.writeFileAtomic(s.infoPath(info.Key), b)
}

// List returns the Info of every entry in the cache directory, skipping
// unreadable ones.
// A cache directory that does not exist holds none; one kubemint does not
// trust is an error.
func (s *Store) List() ([]Info, error) {
	if err := s.checkDir(false); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	all, err := s.dir.names()
	if err != nil {
		return nil, err
	}
	var infos []Info
	for _, n := range all {
		if !strings.HasSuffix(n, ".info") || strings.HasPrefix(n, ".") {
			continue
		}
		n = filepath.Join(s.Dir, n)
		b, err := s.readPrivate(n, maxEntrySize)
		if err != nil {
			continue
		}
		var info Info
		if json.Unmarshal(b, &info) != nil || info.Key != strings.TrimSuffix(filepath.Base(n), ".info") {
			continue
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// Forget deletes the entry described by info from the backend that holds
// it, its Info file and, where lock files can be removed safely
// (lockFilesRemovable), its lock file: only when no process holds it, and
// while Forget holds it, so that a process that waited on it notices and
// locks the name afresh.
func (s *Store) Forget(info Info) error {
	if err := s.checkDir(false); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	backend := &Store{Mode: File, Dir: s.Dir, KeyringTimeout: s.KeyringTimeout}
	switch info.Backend {
	case BackendKeyring:
		backend.Mode = Keyring
	case BackendKernel:
		if !kernelSupported {
			return fmt.Errorf("the entry %s is in the kernel keyring of a Linux machine; run kubemint clean there", info.Key)
		}
		backend.Mode = Kernel
	}
	var errs []error
	// Temporary files of this entry too: a writer killed before its
	// rename left a live token in one.
	var temps []string
	if s.dir != nil {
		all, _ := s.dir.names()
		for _, n := range all {
			if isTempName(n) && strings.HasPrefix(n, "."+info.Key+".") {
				temps = append(temps, filepath.Join(s.Dir, n))
			}
		}
	}
	paths := append([]string{s.entryPath(info.Key), s.servedPath(info.Key), s.failedPath(info.Key)}, temps...)
	// A Secret Service entry may have a kernel keyring copy, and a kernel
	// keyring entry found by Load may be that copy (see copyToKernel):
	// forget the other place too, or it would be served again.
	switch {
	case info.Backend == BackendKeyring && kernelSupported:
		if err := (&Store{Mode: Kernel, Dir: s.Dir}).deleteKernel(info.Key); err != nil && !errors.Is(err, errKernelRefused) {
			errs = append(errs, err)
		}
	case info.Backend == BackendKernel && hasSessionBus():
		ss := &Store{Mode: Keyring, Dir: s.Dir, KeyringTimeout: s.KeyringTimeout}
		if err := ss.Delete(info.Key); err != nil {
			s.logf(1, "could not check the Secret Service for a copy of the entry: %v", err)
		}
	}
	switch err := backend.Delete(info.Key); {
	case errors.Is(err, ErrNoSessionBus):
		errs = append(errs, fmt.Errorf("%w; run kubemint clean where the keyring is reachable (the desktop session that stored it)", err))
	case err != nil:
		errs = append(errs, err)
	default:
		// The index goes last, and only with the entry: status and a
		// later clean must still see an entry that could not be deleted.
		paths = append(paths, s.infoPath(info.Key))
	}
	for _, p := range paths {
		if err := s.remove(p); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errDirNotOpen) {
			errs = append(errs, err)
		}
	}
	if lockFilesRemovable && len(errs) == 0 && s.dir != nil {
		// Held: a mint is under way, which will write the entry anew; its
		// lock file stays with it.
		if unlock, ok, err := s.TryLock(info.Key); err == nil && ok {
			if err := s.remove(s.lockPath(info.Key)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			unlock()
		}
	}
	return errors.Join(errs...)
}
