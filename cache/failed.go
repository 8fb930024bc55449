package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Failure is a failed mint remembered for a few seconds: kubectl runs a
// failing plugin several times for one command, and each run would wait
// for the same server again. It holds no secret: the error line, already
// redacted, when the mint failed, and for which client (the parent
// process, as in Served).
type Failure struct {
	PID     int
	At      time.Time
	Message string
}

// maxFailureSize bounds what RecallFailure reads: a timestamp and one line.
const maxFailureSize = 8 << 10

func (s *Store) failedPath(key string) string { return filepath.Join(s.Dir, key+".failed") }

// RememberFailure records a failed mint of the entry under key, written as
// entries are (a private temporary file renamed into place).
func (s *Store) RememberFailure(key string, f Failure) error {
	msg := strings.ReplaceAll(f.Message, "\n", " ")
	if len(msg) > maxFailureSize-64 {
		msg = msg[:maxFailureSize-64]
	}
	b := []byte(strconv.Itoa(f.PID) + " " + strconv.FormatInt(f.At.UnixNano(), 10) + "\n" + msg + "\n")
	if s.recordsInKernel(key) {
		if _, err := kernelAdd(s.kernelName(key, "failed"), b, s.now().Add(failureKeyLife), s.now()); err != nil {
			return fmt.Errorf("remembering the failed mint: %w", err)
		}
		return nil
	}
	if err := s.ensureDir(); err != nil {
		return err
	}
	return s.writeFileAtomic(s.failedPath(key), b)
}

// RecallFailure reads the failure remembered for key. ok is false when
// there is none, or it cannot be trusted (a link, another user's file, a
// loose mode) or read: the caller then mints as if there were none.
func (s *Store) RecallFailure(key string) (f Failure, ok bool) {
	var b []byte
	var err error
	if s.kernelOn() {
		// Looked up before the entry: it may be in either place.
		var id int
		if id, err = s.kernelFind(s.kernelName(key, "failed")); err == nil {
			b, err = kernelRead(id, maxFailureSize)
		}
	}
	if !s.kernelOn() || errors.Is(err, os.ErrNotExist) || errors.Is(err, errKernelRefused) {
		if s.Mode == Kernel || s.checkDir(false) != nil {
			return Failure{}, false
		}
		b, err = s.readPrivate(s.failedPath(key), maxFailureSize)
	}
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.logf(1, "not using the remembered failure of the last mint: %v", err)
		}
		return Failure{}, false
	}
	head, msg, found := strings.Cut(strings.TrimSuffix(string(b), "\n"), "\n")
	var pid int
	var ns int64
	if _, err := fmt.Sscanf(head, "%d %d", &pid, &ns); err != nil || !found || msg == "" {
		return Failure{}, false
	}
	return Failure{PID: pid, At: time.Unix(0, ns), Message: msg}, true
}

// ForgetFailure deletes the failure remembered for key: a mint succeeded.
func (s *Store) ForgetFailure(key string) error {
	if s.kernelOn() {
		if err := kernelRemove(s.kernelName(key, "failed")); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errKernelRefused) {
			return fmt.Errorf("removing the remembered failure: %w", err)
		}
		if s.Mode == Kernel {
			return nil
		}
	}
	if err := s.checkDir(false); err != nil {
		return nil // no directory we use: nothing remembered in it
	}
	if err := s.remove(s.failedPath(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the remembered failure: %w", err)
	}
	return nil
}
