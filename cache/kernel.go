package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// KernelStatus is what doctor reports of the kernel keyring: the user
// keyring's id, and the user's key quota and use.
type KernelStatus struct {
	Keyring                        int
	Keys, MaxKeys, Bytes, MaxBytes int
}

// kernelName is the description of key's item in the kernel keyring: the
// entry (ext ""), its served record ("served") or its failure ("failed").
// kubemint's namespace, then a tag of the cache directory: the keyring is
// one per uid, and a cache directory of its own (another XDG_CACHE_HOME)
// keeps entries of its own, as it does with files, so that its index
// (status, clean) and its keys stay one set.
func (s *Store) kernelName(key, ext string) string {
	if s.dirTag == "" {
		s.dirTag = KernelKeyName(s.Dir, "")
	}
	name := s.dirTag + key
	if ext != "" {
		name += "." + ext
	}
	return name
}

// KernelKeyName is the name of the kernel keyring key that holds the
// entry under key for the cache directory dir (see kernelName).
func KernelKeyName(dir, key string) string {
	sum := sha256.Sum256([]byte(dir))
	return "kubemint:" + hex.EncodeToString(sum[:6]) + ":" + key
}

// kernelOn reports whether the kernel keyring holds entries in this mode:
// --cache=kernel, and auto on Linux.
func (s *Store) kernelOn() bool {
	return kernelSupported && (s.Mode == Kernel || s.Mode == Auto)
}

// recordsInKernel reports whether the served and failure records of key go
// to the kernel keyring: they live where the entry was found or stored in
// this process; before that, where the mode puts entries first.
func (s *Store) recordsInKernel(key string) bool {
	if b, ok := s.held[key]; ok {
		return b == BackendKernel
	}
	return kernelSupported && s.Mode == Kernel
}

// hold records where the entry under key lives, for its records.
func (s *Store) hold(key string, b Backend) {
	if s.held == nil {
		s.held = map[string]Backend{}
		s.expiry = map[string]time.Time{}
	}
	s.held[key] = b
}

// kernelFind is the package's kernelFind, remembering the id of a trusted
// key so that a later write in this process updates it in place.
func (s *Store) kernelFind(name string) (int, error) {
	if id, ok := s.kernelIDs[name]; ok {
		return id, nil
	}
	id, err := kernelFind(name)
	if err == nil {
		if s.kernelIDs == nil {
			s.kernelIDs = map[string]int{}
		}
		s.kernelIDs[name] = id
	}
	return id, err
}

func (s *Store) loadKernel(key string) (Entry, error) {
	id, err := s.kernelFind(s.kernelName(key, ""))
	if err != nil {
		return Entry{}, err
	}
	b, err := kernelRead(id, maxKernelPayload)
	if err != nil {
		return Entry{}, err
	}
	e, err := Decode(key, b)
	if err == nil {
		s.hold(key, BackendKernel)
		s.expiry[key] = e.Expiry
	}
	return e, err
}

// saveKernel stores e, and a blank served record beside it (read as
// Unknown until the caller writes it): the record must fit in the quota
// too, or the entry goes elsewhere whole. Both time out at e's expiry.
func (s *Store) saveKernel(key string, e Entry) error {
	b := e.Encode(key)
	now := s.now()
	if _, err := kernelAdd(s.kernelName(key, ""), b, e.Expiry, now); err != nil {
		return err
	}
	delete(s.kernelIDs, s.kernelName(key, ""))
	served := s.kernelName(key, "served")
	id, err := kernelAdd(served, blankServed(), e.Expiry, now)
	if err != nil {
		_ = kernelRemove(s.kernelName(key, ""))
		return err
	}
	if s.kernelIDs == nil {
		s.kernelIDs = map[string]int{}
	}
	s.kernelIDs[served] = id
	s.hold(key, BackendKernel)
	s.expiry[key] = e.Expiry
	return nil
}

// deleteKernel removes key's entry and records from the kernel keyring.
func (s *Store) deleteKernel(key string) error {
	var errs []error
	for _, ext := range []string{"", "served", "failed"} {
		name := s.kernelName(key, ext)
		delete(s.kernelIDs, name)
		if err := kernelRemove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// kernelFallback says, for the -v=1 line, why an entry did not go to the
// kernel keyring.
func kernelFallback(err error) string {
	switch {
	case errors.Is(err, errKernelRefused):
		return fmt.Sprintf("the kernel keyring cannot be used here: %v", err)
	case errors.Is(err, errKernelQuota):
		return fmt.Sprintf("this entry does not fit in the kernel keyring: %v", err)
	case errors.Is(err, errKernelTooLarge):
		return fmt.Sprintf("this entry does not fit in the kernel keyring: %v", err)
	}
	return fmt.Sprintf("the kernel keyring failed: %v", err)
}

// blankServed is a served record that reads as Unknown.
func blankServed() []byte { return []byte(strings.Repeat(" ", servedSize-1) + "\n") }

// orphanRecordLife is how long a served record written without its entry
// is kept in the kernel keyring.
const orphanRecordLife = 24 * time.Hour

// failureKeyLife is how long a failure record is kept in the kernel keyring:
// past it, the failure is no longer recalled anyway.
const failureKeyLife = time.Minute
