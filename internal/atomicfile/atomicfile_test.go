package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		old     string // "" for no file yet
		perm    os.FileMode
		durable bool
	}{
		{name: "new file", perm: 0o600},
		{name: "replaces", old: "old content", perm: 0o600},
		{name: "durable new file", perm: 0o600, durable: true},
		{name: "durable replaces", old: "old content", perm: 0o640, durable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w := plainWrite
			if tc.durable {
				w = WriteDurable
			}
			if err := w(path, []byte("new"), tc.perm); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil || string(b) != "new" {
				t.Fatalf("file holds %q (%v), want new", b, err)
			}
			if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != tc.perm {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tc.perm)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("directory holds %d files, want only the target (no temporary file left)", len(ents))
			}
		})
	}
}

// TestWriteFailsWithoutTouchingTarget: a directory in the target's place
// cannot be replaced; the write fails, names the file and leaves no
// temporary file behind.
func TestWriteFailsWithoutTouchingTarget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "inside"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := plainWrite(path, []byte("new"), 0o600); err == nil {
		t.Fatal("write over a non-empty directory succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want the target only", len(ents))
	}
}

// BenchmarkWrite and BenchmarkWriteDurable show what the fsyncs cost on
// the disk the test runs on (t.TempDir: use TMPDIR to pick one that is not
// a tmpfs).
func BenchmarkWrite(b *testing.B)        { benchWrite(b, plainWrite) }
func BenchmarkWriteDurable(b *testing.B) { benchWrite(b, WriteDurable) }

func benchWrite(b *testing.B, w func(string, []byte, os.FileMode) error) {
	path := filepath.Join(b.TempDir(), "entry.json")
	data := make([]byte, 1500)
	for b.Loop() {
		if err := w(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}
