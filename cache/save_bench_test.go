package cache

import (
	"path/filepath"
	"testing"
)

// BenchmarkFileMissWrites is what a miss writes to the file cache: the
// entry and its status record. Run it with TMPDIR on a real disk, not a
// tmpfs, where an fsync is free.
func BenchmarkFileMissWrites(b *testing.B) {
	s := &Store{Mode: File, Dir: filepath.Join(b.TempDir(), "kubemint")}
	e := entry()
	info := Info{Key: "k", Labels: map[string]string{"account": "ci/deployer"}, Backend: BackendFile, Issued: e.Issued, Expiry: e.Expiry}
	for b.Loop() {
		if _, err := s.Save("k", e); err != nil {
			b.Fatal(err)
		}
		if err := s.SaveInfo(info); err != nil {
			b.Fatal(err)
		}
	}
}
