//go:build unix

package cache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubemint/kubemint/internal/procs"
)

// TestLockRecordsItsHolder: the lock file names the process that holds
// it, with its start time and when it took the lock (no secret); a caller
// that gave up on it marks it stuck, and the next holder's record replaces
// the mark.
func TestLockRecordsItsHolder(t *testing.T) {
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	s := &Store{Mode: File, Dir: filepath.Join(t.TempDir(), "kubemint"), Now: func() time.Time { return now }}
	if _, ok := s.LockHolder("k"); ok {
		t.Errorf("a holder before any lock")
	}
	unlock, err := s.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	h, ok := s.LockHolder("k")
	want := Holder{PID: os.Getpid(), ID: procs.Identity(os.Getpid()), Since: now}
	if !ok || h.PID != want.PID || h.ID != want.ID || !h.Since.Equal(now) || h.Stuck {
		t.Fatalf("LockHolder = %+v, %v; want %+v", h, ok, want)
	}
	if err := s.MarkStuck("k", h); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.LockHolder("k"); !h.Stuck {
		t.Errorf("not stuck after MarkStuck")
	}
	unlock()
	now = now.Add(time.Minute)
	unlock, err = s.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if h, _ := s.LockHolder("k"); h.Stuck || !h.Since.Equal(now) {
		t.Errorf("the next holder's record kept the mark: %+v", h)
	}
	if fi, err := os.Stat(s.lockPath("k")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v %v", fi, err)
	}
}

// TestLockRecordOfAnEndedProcessNamesNoHolder: the record outlives the
// kubemint that wrote it; whoever holds the lock later (here a process that
// writes no record) must not be reported as that one, long gone.
func TestLockRecordOfAnEndedProcessNamesNoHolder(t *testing.T) {
	s := &Store{Mode: File, Dir: filepath.Join(t.TempDir(), "kubemint")}
	unlock, err := s.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	gone := exec.Command("sleep", "60")
	if err := gone.Start(); err != nil {
		t.Fatal(err)
	}
	id := procs.Identity(gone.Process.Pid)
	_ = gone.Process.Kill()
	_ = gone.Wait()
	if id == "" {
		t.Skip("no process identities here")
	}
	record := fmt.Sprintf("holder %d %s %d\n", gone.Process.Pid, id, time.Now().UnixNano())
	if err := os.WriteFile(s.lockPath("k"), []byte(record), 0o600); err != nil {
		t.Fatal(err)
	}
	if h, ok := s.LockHolder("k"); ok {
		t.Errorf("LockHolder = %+v for a process that ended", h)
	}
}
