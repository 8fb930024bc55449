package cache

import (
	"fmt"
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
// secret. A torn or lost record only misses one retry.
type Served struct {
	PID  int
	Last time.Time
	// VerifiedUntil is when a check that found the token good for PID
	// stops sparing further checks.
	VerifiedUntil time.Time
}

// Repeat reports whether serving the entry to pid at now would be a retry
// that deserves a check: the same process asked moments ago, and no recent
// check vouches for the token.
func (s Served) Repeat(pid int, now time.Time) bool {
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

// ReadServed reads the record of the entry under key; a missing or torn
// one is the zero Served.
func (s *Store) ReadServed(key string) Served {
	b, err := os.ReadFile(s.servedPath(key))
	if err != nil {
		return Served{}
	}
	var pid int
	var last, verified int64
	if _, err := fmt.Sscanf(string(b), "%d %d %d", &pid, &last, &verified); err != nil {
		return Served{}
	}
	return Served{PID: pid, Last: time.Unix(0, last), VerifiedUntil: time.Unix(0, verified)}
}

// WriteServed stores the record of the entry under key. The record has a
// fixed width and overwrites the old one in place: no truncation, no new
// blocks, so the write costs the cache hit as little as a write can.
func (s *Store) WriteServed(key string, r Served) {
	f, err := os.OpenFile(s.servedPath(key), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	_, _ = fmt.Fprintf(f, "%10d %20d %20d\n", r.PID, r.Last.UnixNano(), r.VerifiedUntil.UnixNano())
	_ = f.Close()
}
