package cache

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Served records who was last served an entry, and when; it holds no
// secret. The cache only stores it; package credential decides what a
// repeat means (credential.Repeat, credential.Next).
type Served struct {
	PID  int
	Last time.Time
	// VerifiedUntil is when a check that found the token good for PID
	// stops sparing further checks.
	VerifiedUntil time.Time
	// Unknown says the record could not be read (missing, torn, or not a
	// private file of the user's). What that means for the token (a check
	// with the API server) is package credential's policy: see
	// credential.Repeat.
	Unknown bool
}

func (s *Store) servedPath(key string) string { return filepath.Join(s.Dir, key+".served") }

// servedSize is the length of a record: fixed, see WriteServed.
const servedSize = 10 + 1 + 20 + 1 + 20 + 1

// ReadServed reads the record of the entry under key; one that cannot be
// read is Unknown.
func (s *Store) ReadServed(key string) Served {
	var b []byte
	if s.recordsInKernel(key) {
		id, err := s.kernelFind(s.kernelName(key, "served"))
		if err == nil {
			b, err = kernelRead(id, servedSize)
		}
		if err != nil || len(b) != servedSize {
			return Served{Unknown: true}
		}
	} else {
		if s.checkDir(false) != nil {
			return Served{Unknown: true}
		}
		f, _, err := s.openPrivate(s.servedPath(key), os.O_RDONLY, 0)
		if err != nil {
			return Served{Unknown: true}
		}
		defer f.Close()
		b = make([]byte, servedSize)
		if _, err := io.ReadFull(f, b); err != nil {
			return Served{Unknown: true}
		}
	}
	return parseServed(b)
}

// formatServed is the stored form of r: fixed width (servedSize), as
// fmt's "%10d %20d %20d\n" writes it (TestServedFormat holds the two
// equal), without fmt's reflection on every hit.
func formatServed(r Served) []byte {
	b := make([]byte, 0, servedSize)
	b = appendPadded(b, int64(r.PID), 10)
	b = append(b, ' ')
	b = appendPadded(b, r.Last.UnixNano(), 20)
	b = append(b, ' ')
	b = appendPadded(b, r.VerifiedUntil.UnixNano(), 20)
	return append(b, '\n')
}

// appendPadded appends n right-aligned in width columns, as %<width>d does.
func appendPadded(b []byte, n int64, width int) []byte {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	for i := len(d); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, d...)
}

// parseServed reads a record as fmt.Sscanf(b, "%d %d %d") does. A record
// as formatServed writes it (the three numbers read back write the same
// bytes) is read without fmt's scanner; anything else goes through it.
func parseServed(b []byte) Served {
	if f := strings.Fields(string(b)); len(f) == 3 {
		pid, err1 := strconv.Atoi(f[0])
		last, err2 := strconv.ParseInt(f[1], 10, 64)
		verified, err3 := strconv.ParseInt(f[2], 10, 64)
		r := Served{PID: pid, Last: time.Unix(0, last), VerifiedUntil: time.Unix(0, verified)}
		if err1 == nil && err2 == nil && err3 == nil && string(formatServed(r)) == string(b) {
			return r
		}
	}
	var pid int
	var last, verified int64
	if _, err := fmt.Sscanf(string(b), "%d %d %d", &pid, &last, &verified); err != nil {
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
	if s.recordsInKernel(key) {
		return s.writeServedKernel(key, r)
	}
	if err := s.checkDir(false); err != nil {
		return err
	}
	path := s.servedPath(key)
	var f *os.File
	flag := os.O_WRONLY | os.O_CREATE
	err := s.replacePlanted(path, func() error {
		var err error
		f, _, err = s.openPrivate(path, flag, 0o600)
		if isPlantedDir(err) {
			err = fmt.Errorf("%w: %s is a directory", ErrInsecure, path)
		}
		flag |= os.O_EXCL // made anew after a planted one was removed
		return err
	})
	if err != nil {
		return s.servedFailed(path, err)
	}
	_, err = f.Write(formatServed(r))
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
	if rerr := s.remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return fmt.Errorf("writing %s: %w (and it could not be removed: %v)", path, err, rerr)
	}
	return fmt.Errorf("writing %s: %w", path, err)
}

// writeServedKernel updates the record in the kernel keyring: in place
// when this process found it trusted (the hit path: one keyctl), else
// added anew, timing out with its entry.
func (s *Store) writeServedKernel(key string, r Served) error {
	name := s.kernelName(key, "served")
	// Its entry's expiry; a record written without an entry in this
	// process (its save failed) is kept a day, not for ever.
	expiry := s.expiry[key]
	if expiry.IsZero() {
		expiry = s.now().Add(orphanRecordLife)
	}
	if id, ok := s.kernelIDs[name]; ok {
		if err := kernelUpdate(id, formatServed(r), expiry, s.now()); err == nil {
			return nil
		}
		delete(s.kernelIDs, name)
	}
	if _, err := kernelAdd(name, formatServed(r), expiry, s.now()); err != nil {
		_ = kernelRemove(name)
		return fmt.Errorf("writing the served record: %w", err)
	}
	return nil
}
