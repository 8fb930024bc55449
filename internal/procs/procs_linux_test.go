//go:build linux

package procs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
			if isAlive(child) {
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

// isAlive reports a running process: not ended, not a zombie.
func isAlive(pid int) bool {
	st, ok := stat(pid)
	return ok && st.state != 'Z' && st.state != 'X'
}

// TestStopDescendantsEndsADaemon: a plugin that daemonizes a child (a
// double fork into a session of its own, as an agent does) and then hangs.
// The daemon left the tree when its parent exited; with AdoptOrphans it
// comes back to this process and is stopped with the rest. Before, it
// lived on, with KUBEMINT_MINTING in its environment.
func TestStopDescendantsEndsADaemon(t *testing.T) {
	if err := AdoptOrphans(); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	script := `(setsid sh -c 'echo $$ > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 600' sh "$1" &); sleep 600`
	cmd := exec.Command("sh", "-c", script, "sh", pidFile)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	daemon := waitPid(t, pidFile)
	t.Cleanup(func() { _ = syscall.Kill(daemon, syscall.SIGKILL) })
	if n := StopDescendants(200 * time.Millisecond); n < 2 {
		t.Errorf("found %d descendants, want the plugin and its daemon", n)
	}
	<-done
	if isAlive(daemon) {
		t.Errorf("the daemon %d is still running", daemon)
	}
}

// TestAReusedPIDIsNeverSignalled: a process found under a PID that now
// names another (its start time differs) is neither opened nor signalled.
func TestAReusedPIDIsNeverSignalled(t *testing.T) {
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	st, ok := stat(cmd.Process.Pid)
	if !ok {
		t.Fatal("no /proc stat for the child")
	}
	if _, ok := open(cmd.Process.Pid, st.start+1); ok {
		t.Errorf("opened a PID whose start time differs")
	}
	stale := &proc{pid: cmd.Process.Pid, start: st.start + 1, fd: -1}
	stale.signal(syscall.SIGKILL)
	time.Sleep(50 * time.Millisecond)
	if !isAlive(cmd.Process.Pid) {
		t.Errorf("a process that reused the PID got the signal")
	}
	p, ok := open(cmd.Process.Pid, st.start)
	if !ok {
		t.Fatal("could not open the child")
	}
	defer p.close()
	if p.fd < 0 {
		t.Logf("no pidfd on this kernel: the start time is checked before each signal")
	}
	p.signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if p.alive() {
		t.Errorf("the child survived SIGKILL")
	}
}

func TestIdentity(t *testing.T) {
	self := Identity(os.Getpid())
	if self == "" || !Running(self) {
		t.Fatalf("Identity(self) = %q, Running = %v", self, Running(self))
	}
	pid, _, _ := strings.Cut(self, ":")
	for _, id := range []string{pid + ":1", pid, "", "x:y", "999999999:1"} {
		if Running(id) {
			t.Errorf("Running(%q) = true", id)
		}
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if id := Identity(cmd.Process.Pid); id != "" && Running(id) {
		t.Errorf("an ended process is running: %q", id)
	}
}

// TestStopped: a process stopped with SIGSTOP is seen stopped; resumed, it
// is not; a PID with another start time is not.
func TestStopped(t *testing.T) {
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	id := Identity(cmd.Process.Pid)
	wait := func(want bool) {
		t.Helper()
		for range 200 {
			if Stopped(id) == want {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Errorf("Stopped = %v, want %v", !want, want)
	}
	wait(false)
	_ = cmd.Process.Signal(syscall.SIGSTOP)
	wait(true)
	pid, _, _ := strings.Cut(id, ":")
	if Stopped(pid + ":1") {
		t.Errorf("another start time is stopped")
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	wait(false)
}
