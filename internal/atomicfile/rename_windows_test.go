package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// windowsTempDir is t.TempDir without its strict clean-up, which Wine's
// file API cannot yet serve for Go 1.26's RemoveAll; what is left lies in a
// throwaway Wine prefix or the user's temp folder.
func windowsTempDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "kubemint-cache-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

// heldEntry writes an entry and a replacement for it, and holds the entry
// open as a concurrent kubemint or a virus scanner would.
func heldEntry(t *testing.T) (path, replacement string, held *os.File) {
	dir := windowsTempDir(t)
	path = filepath.Join(dir, "k.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	held, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	replacement = filepath.Join(dir, "new")
	if err := os.WriteFile(replacement, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, replacement, held
}

// TestWindowsRenameWaitsForAReader holds the entry open, as a concurrent
// kubemint or a virus scanner would; Windows refuses to replace an open
// file, and the save must wait for it rather than fail the call.
func TestWindowsRenameWaitsForAReader(t *testing.T) {
	path, tmp, held := heldEntry(t)
	if err := os.Rename(tmp, path); err == nil {
		held.Close()
		t.Skip("this file system replaces open files; nothing to wait for")
	} else if !transient(err) {
		t.Fatalf("renaming over an open file: %v, which rename would not retry", err)
	}
	go func() {
		time.Sleep(60 * time.Millisecond)
		held.Close()
	}()
	if err := rename(tmp, path); err != nil {
		t.Fatalf("rename with the reader gone after 60ms: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("entry holds %q after the rename, want new", b)
	}
}

// TestWindowsRenameGivesUp holds the entry open for longer than the retry
// budget: the save fails instead of hanging kubectl.
func TestWindowsRenameGivesUp(t *testing.T) {
	path, tmp, held := heldEntry(t)
	defer held.Close()
	start := time.Now()
	err := rename(tmp, path)
	if err == nil {
		t.Skip("this file system replaces open files; nothing to wait for")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("rename gave up after %v, want well under 2s", d)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("entry holds %q after a failed rename, want the old content", b)
	}
}
