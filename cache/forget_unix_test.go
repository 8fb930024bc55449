//go:build unix

package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestForgetRemovesTheLockFile: clean (Forget) leaves nothing of what it
// forgot, lock file included, unless a process holds that lock.
func TestForgetRemovesTheLockFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: File, Dir: dir}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	info := Info{Key: "k", Backend: BackendFile}
	if err := s.SaveInfo(info); err != nil {
		t.Fatal(err)
	}
	// Held: the lock file stays with the mint that holds it.
	if err := s.Forget(info); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.lock")); err != nil {
		t.Errorf("Forget removed a held lock file: %v", err)
	}
	unlock()
	if err := s.Forget(info); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "k.*"))
	if len(names) != 0 {
		t.Errorf("Forget left %v", names)
	}
}

// TestLockOfARemovedFileIsTakenAnew: a process that waited on a lock file
// that was removed meanwhile (by clean, holding it) locks the file the
// name holds now; otherwise it and a newcomer would each hold a lock.
func TestLockOfARemovedFileIsTakenAnew(t *testing.T) {
	s := &Store{Mode: File, Dir: filepath.Join(t.TempDir(), "kubemint")}
	first, err := s.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		unlock, err := s.Lock(context.Background(), "k")
		if err != nil {
			t.Error(err)
		}
		got <- unlock
	}()
	time.Sleep(100 * time.Millisecond) // the waiter has opened the old file
	if err := os.Remove(s.lockPath("k")); err != nil {
		t.Fatal(err)
	}
	first()
	waiter := <-got
	defer waiter()
	if _, ok, err := s.TryLock("k"); ok || err != nil {
		t.Errorf("a newcomer locked k while the waiter holds it: ok %v, %v", ok, err)
	}
	if _, err := os.Stat(s.lockPath("k")); errors.Is(err, os.ErrNotExist) {
		t.Errorf("the waiter holds a lock on no file")
	}
}
