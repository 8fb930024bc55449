package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// RepeatWindow is how soon a second request for the same entry from the
// same parent process counts as a retry. client-go runs the plugin once and
// keeps the credential in memory until its expirationTimestamp; it runs the
// plugin again early only when the API server answered 401 Unauthorized,
// that is, when the token was revoked (a binding Secret deleted, the
// service account recreated) before it expired.
const RepeatWindow = 10 * time.Second

func (s *Store) servedPath(key string) string { return filepath.Join(s.Dir, key+".served") }

// Repeated reports whether the entry under key was served to process pid
// within RepeatWindow before now: a sign that the client was refused the
// token. It reads one small file and writes nothing.
func (s *Store) Repeated(key string, pid int, now time.Time) bool {
	b, err := os.ReadFile(s.servedPath(key))
	if err != nil {
		return false
	}
	var lastPID int
	var lastNano int64
	if _, err := fmt.Sscanf(string(b), "%d %d", &lastPID, &lastNano); err != nil {
		return false
	}
	since := now.Sub(time.Unix(0, lastNano))
	return lastPID == pid && since >= 0 && since < RepeatWindow
}

// MarkServed records that the entry under key was served to process pid at
// now. It holds no secret; a torn or lost write only misses one retry.
func (s *Store) MarkServed(key string, pid int, now time.Time) {
	_ = os.WriteFile(s.servedPath(key), []byte(fmt.Sprintf("%d %d\n", pid, now.UnixNano())), 0o600)
}
