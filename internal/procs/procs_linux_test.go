//go:build linux

package procs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStopDescendantsEndsATreeThatIgnoresTERM: a shell that ignores SIGTERM
// and its background child (a grandchild of the test) both end, the child
// although its parent may die first and leave it to init.
func TestStopDescendantsEndsATreeThatIgnoresTERM(t *testing.T) {
	for _, tc := range []struct{ name, script string }{
		{"obeys TERM", `sleep 600 & echo $! > "$1"; wait`},
		{"ignores TERM", `trap '' TERM; sleep 600 & echo $! > "$1"; while :; do sleep 1; done`},
		{"own process group", `sleep 600 & echo $! > "$1"; wait`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			cmd := exec.Command("sh", "-c", tc.script, "sh", pidFile)
			if tc.name == "own process group" {
				cmd.SysProcAttr = setpgid()
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			child := waitPid(t, pidFile)
			start := time.Now()
			if n := StopDescendants(200 * time.Millisecond); n < 2 {
				t.Errorf("found %d descendants, want the shell and its child", n)
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the shell is still running")
			}
			if alive(child) {
				t.Errorf("the grandchild %d is still running", child)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestStopDescendantsWithoutAny(t *testing.T) {
	if n := StopDescendants(time.Millisecond); n != 0 {
		t.Errorf("found %d descendants of a test that started none", n)
	}
}

func waitPid(t *testing.T, path string) int {
	t.Helper()
	for range 200 {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the script did not write its child's PID")
	return 0
}
