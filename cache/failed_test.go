//go:build unix

package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFailureTrust: a remembered failure is read only from a private file
// of the user's, never through a link.
func TestFailureTrust(t *testing.T) {
	at := time.Unix(1_800_000_000, 5)
	for _, tc := range []struct {
		name   string
		spoil  func(t *testing.T, path string)
		wantOK bool
	}{
		{"as written", func(*testing.T, string) {}, true},
		{"readable by others", func(t *testing.T, p string) { chmod(t, p, 0o644) }, false},
		{"a link", func(t *testing.T, p string) {
			real := p + ".real"
			if err := os.Rename(p, real); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, p); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"torn", func(t *testing.T, p string) { writeFile(t, p, "12") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Store{Mode: File, Dir: filepath.Join(t.TempDir(), "kubemint")}
			if err := s.RememberFailure("k", Failure{PID: 7, At: at, Message: "the API server did not answer"}); err != nil {
				t.Fatal(err)
			}
			tc.spoil(t, s.failedPath("k"))
			f, ok := s.RecallFailure("k")
			if ok != tc.wantOK || ok && (f.PID != 7 || !f.At.Equal(at) || f.Message != "the API server did not answer") {
				t.Errorf("RecallFailure = %+v, %v; want ok=%v", f, ok, tc.wantOK)
			}
			if err := s.ForgetFailure("k"); err != nil {
				t.Error(err)
			}
		})
	}
}

func chmod(t *testing.T, p string, m os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
