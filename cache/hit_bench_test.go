package cache

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkFileHit is the cache's share of a lean-front hit: a new Store
// (a new process), the directory checked and opened, the entry read, the
// served record written.
func BenchmarkFileHit(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "a", "b", "kubemint")
	if _, err := (&Store{Mode: File, Dir: dir}).Save("k", entry()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s := &Store{Mode: File, Dir: dir}
		if _, _, err := s.Load("k"); err != nil {
			b.Fatal(err)
		}
		if err := s.WriteServed("k", Served{PID: 1, Last: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
}
