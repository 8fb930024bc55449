//go:build linux

package procs

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// stopDescendants freezes the whole tree first (SIGSTOP, repeated until no
// new child appears), so that a process cannot fork a child we have not
// seen, nor lose one to init by dying before we read it. Then each process,
// and the process group of each that leads one (a plugin that made its own
// group may have members outside our tree), gets SIGTERM and SIGCONT, and
// after grace SIGKILL. PIDs are remembered across the steps because a
// child whose parent died is re-parented away from our tree.
func stopDescendants(grace time.Duration) int {
	self := os.Getpid()
	seen := map[int]bool{}
	for range 10 {
		added := 0
		for _, pid := range descendants(self, seen) {
			if !seen[pid] {
				seen[pid] = true
				added++
				_ = syscall.Kill(pid, syscall.SIGSTOP)
			}
		}
		if added == 0 {
			break
		}
	}
	if len(seen) == 0 {
		return 0
	}
	ownGroup := syscall.Getpgrp()
	signal := func(sig syscall.Signal) {
		for pid := range seen {
			_ = syscall.Kill(pid, sig)
			if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid && pgid != ownGroup {
				_ = syscall.Kill(-pgid, sig)
			}
		}
	}
	signal(syscall.SIGTERM)
	signal(syscall.SIGCONT)
	waitGone(seen, grace)
	if anyAlive(seen) {
		signal(syscall.SIGKILL)
		// SIGKILL lands asynchronously: wait until it has, so that the
		// caller, and whoever runs next, finds the plugin gone.
		waitGone(seen, time.Second)
	}
	return len(seen)
}

// waitGone waits up to d for every process in pids to end.
func waitGone(pids map[int]bool, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && anyAlive(pids) {
		time.Sleep(10 * time.Millisecond)
	}
}

// descendants lists the processes below root in the tree of parents read
// from /proc, and below any PID in also (processes seen before, whose
// children may have been re-parented since their parent died).
func descendants(root int, also map[int]bool) []int {
	children := map[int][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	queue := []int{root}
	for pid := range also {
		queue = append(queue, pid)
	}
	var out []int
	visited := map[int]bool{}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if !visited[c] {
				visited[c] = true
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// stat reads the state and parent PID of pid from /proc/PID/stat, whose
// second field (the command name, in parentheses) may itself hold spaces
// and parentheses: the fields that follow start after the last ')'.
func stat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 2 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(fields[1]))
	return fields[0][0], ppid, err == nil
}

func parentOf(pid int) (int, bool) {
	_, ppid, ok := stat(pid)
	return ppid, ok
}

// alive reports whether pid is a running process: a zombie (dead, not yet
// reaped by its parent) is not.
func alive(pid int) bool {
	state, _, ok := stat(pid)
	return ok && state != 'Z' && state != 'X'
}

func anyAlive(pids map[int]bool) bool {
	for pid := range pids {
		if alive(pid) {
			return true
		}
	}
	return false
}
