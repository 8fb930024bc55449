package cache

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// RepeatWindow is how soon a second request for the same entry from the
// same parent process counts as a retry. client-go runs the plugin once and
// keeps the credential in memory until its expirationTimestamp; it runs the
// plugin again early only when the API server answered 401 Unauthorized,
// that is, when the token was revoked (a binding Secret deleted, the
// service account recreated) before it expired.
const RepeatWindow = 10 * time.Second

// VerifiedFor is how long a check that found the token good spares the
// same process further checks: a script that runs kubemint itself in a
// loop pays for one check a minute, not one per call.
const VerifiedFor = time.Minute

// Served records who was last served an entry, and when; it holds no
// secret.
type Served struct {
	PID  int
	Last time.Time
	// VerifiedUntil is when a check that found the token good for PID
	// stops sparing further checks.
	VerifiedUntil time.Time
	// Unknown says the record could not be read (missing, torn, or not a
	// private file of the user's). Every mint and every hit writes it, so
	// an entry without one means the last write failed: without a record a
	// retry after a 401 cannot be told from a first call, so the call
	// counts as a retry and the full binary checks the token with the API
	// server, rather than serving a revoked token until its refresh point.
	Unknown bool
}

// Repeat reports whether serving the entry to pid at now would be a retry
// that deserves a check: the same process asked moments ago, and no recent
// check vouches for the token; or the record is unknown.
func (s Served) Repeat(pid int, now time.Time) bool {
	if s.Unknown {
		return true
	}
	since := now.Sub(s.Last)
	return s.PID == pid && since >= 0 && since < RepeatWindow && !now.Before(s.VerifiedUntil)
}

// Next is the record after serving the entry to pid at now: it keeps a
// check's vouching for the same process.
func (s Served) Next(pid int, now time.Time) Served {
	n := Served{PID: pid, Last: now}
	if s.PID == pid {
		n.VerifiedUntil = s.VerifiedUntil
	}
	return n
}

func (s *Store) servedPath(key string) string { return filepath.Join(s.Dir, key+".served") }

// servedSize is the length of a record: fixed, see WriteServed.
const servedSize = 10 + 1 + 20 + 1 + 20 + 1

// ReadServed reads the record of the entry under key; one that cannot be
// read is Unknown.
func (s *Store) ReadServed(key string) Served {
	if s.checkDir(false) != nil {
		return Served{Unknown: true}
	}
	f, _, err := openPrivate(s.servedPath(key), os.O_RDONLY, 0)
	if err != nil {
		return Served{Unknown: true}
	}
	defer f.Close()
	var b [servedSize]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return Served{Unknown: true}
	}
	var pid int
	var last, verified int64
	if _, err := fmt.Sscanf(string(b[:]), "%d %d %d", &pid, &last, &verified); err != nil {
		return Served{Unknown: true}
	}
	return Served{PID: pid, Last: time.Unix(0, last), VerifiedUntil: time.Unix(0, verified)}
}

// WriteServed stores the record of the entry under key. The record has a
// fixed width and overwrites the old one in place: no truncation, no new
// blocks, so the write costs the cache hit as little as a write can. A
// link or a foreign file in its place (planted while the directory was
// open to others) is never written through: it is removed, and the record
// made anew. An error means the next call finds the record Unknown.
func (s *Store) WriteServed(key string, r Served) error {
	if err := s.checkDir(false); err != nil {
		return err
	}
	path := s.servedPath(key)
	f, _, err := openPrivate(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if errors.Is(err, ErrInsecure) {
		s.logf(0, "warning: %v; replacing it", err)
		if rerr := os.Remove(path); rerr == nil {
			f, _, err = openPrivate(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		}
	}
	if err != nil {
		return s.servedFailed(path, err)
	}
	_, err = fmt.Fprintf(f, "%10d %20d %20d\n", r.PID, r.Last.UnixNano(), r.VerifiedUntil.UnixNano())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s.servedFailed(path, err)
	}
	return nil
}

// servedFailed removes a record that could not be updated: a stale one
// would make a retry after a 401 look like a first call, while no record
// at all (Unknown) has the next call checked.
func (s *Store) servedFailed(path string, err error) error {
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return fmt.Errorf("writing %s: %w (and it could not be removed: %v)", path, err, rerr)
	}
	return fmt.Errorf("writing %s: %w", path, err)
}
