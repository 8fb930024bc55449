package cache

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kubemint/kubemint/internal/procs"
)

// Holder is the process that holds an entry's lock, as it wrote itself
// into the lock file once it had the lock (a PID and times: no secret).
// A caller that waits names it instead of blaming the API server, and
// tells whether it is stopped or stuck.
type Holder struct {
	PID int
	// ID is procs.Identity of the holder (PID and start time), which a
	// process that reuses the PID does not share; "" where it cannot be
	// read.
	ID string
	// Since is when it took the lock.
	Since time.Time
	// Stuck is set when a caller gave up waiting for this holder
	// (MarkStuck): the next caller need not wait the full time again.
	Stuck bool
}

// maxLockRecord bounds what LockHolder reads: two short lines.
const maxLockRecord = 512

// holderRecord is the lock file's content for this process, taking the
// lock at now.
func holderRecord(now time.Time) []byte {
	id := procs.Identity(os.Getpid())
	if id == "" {
		id = "-"
	}
	return []byte("holder " + strconv.Itoa(os.Getpid()) + " " + id + " " + strconv.FormatInt(now.UnixNano(), 10) + "\n")
}

// LockHolder reads who holds the lock of key, as it recorded itself. ok is
// false when the lock file names no holder (none yet, a kubemint that did
// not write one, Windows), cannot be trusted, or names a process that no
// longer runs: the record outlives its writer, and whoever holds the lock
// now (a process that writes no record) is not that one.
func (s *Store) LockHolder(key string) (h Holder, ok bool) {
	if s.checkDir(false) != nil {
		return Holder{}, false
	}
	b, err := s.readPrivate(s.lockPath(key), maxLockRecord)
	if err != nil {
		return Holder{}, false
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := strings.Fields(string(line))
		switch {
		case len(f) == 4 && f[0] == "holder":
			pid, err1 := strconv.Atoi(f[1])
			ns, err2 := strconv.ParseInt(f[3], 10, 64)
			if err1 != nil || err2 != nil || pid <= 0 {
				return Holder{}, false
			}
			h = Holder{PID: pid, ID: strings.TrimPrefix(f[2], "-"), Since: time.Unix(0, ns)}
			ok = true
		case len(f) == 2 && f[0] == "stuck" && ok:
			h.Stuck = f[1] == strconv.Itoa(h.PID)+"/"+h.ID
		}
	}
	if ok && h.ID != "" && !procs.Running(h.ID) {
		return Holder{}, false
	}
	return h, ok
}

// MarkStuck records, in the lock file, that a caller gave up waiting for
// holder h. The holder line stays; the next holder's record replaces both.
func (s *Store) MarkStuck(key string, h Holder) error {
	if err := s.checkDir(false); err != nil {
		return err
	}
	f, _, err := s.openPrivate(s.lockPath(key), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("stuck " + strconv.Itoa(h.PID) + "/" + h.ID + "\n")
	return err
}
