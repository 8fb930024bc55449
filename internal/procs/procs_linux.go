//go:build linux

package procs

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// adoptOrphans makes this process a child subreaper: a process below it
// whose parent dies (a plugin's daemon, double-forked and setsid'd to
// leave the tree) is re-parented to it instead of to init, so that
// stopDescendants still finds it. No privilege is needed.
func adoptOrphans() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// proc is one process found below this one: its PID, its start time (in
// clock ticks since boot, from /proc/PID/stat), which together name it
// even once the PID is reused, and a pidfd on it where the kernel has them
// (5.3+), through which it is signalled.
type proc struct {
	pid   int
	start uint64
	fd    int // -1: no pidfd; the start time is checked before each signal
}

// open takes a handle on pid if it is still the process that started at
// start: a pidfd opened, then the start time read again, so the pidfd
// cannot name a process that took the PID meanwhile.
func open(pid int, start uint64) (*proc, bool) {
	p := &proc{pid: pid, start: start, fd: -1}
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		p.fd = fd
	}
	if !p.same() {
		p.close()
		return nil, false
	}
	return p, true
}

// same reports whether p's PID still names the process p was found as.
func (p *proc) same() bool {
	st, ok := stat(p.pid)
	return ok && st.start == p.start
}

// signal sends sig to p, never to a process that reused its PID: through
// the pidfd, or, without one, only while the start time still matches.
func (p *proc) signal(sig syscall.Signal) {
	if p.fd >= 0 {
		_ = unix.PidfdSendSignal(p.fd, sig, nil, 0)
		return
	}
	if p.same() {
		_ = syscall.Kill(p.pid, sig)
	}
}

// alive reports whether p is still running: not ended, not a zombie.
func (p *proc) alive() bool {
	st, ok := stat(p.pid)
	return ok && st.start == p.start && st.state != 'Z' && st.state != 'X'
}

func (p *proc) close() {
	if p.fd >= 0 {
		_ = unix.Close(p.fd)
		p.fd = -1
	}
}

// stopDescendants freezes the whole tree first (SIGSTOP, repeated until no
// new process appears), so that a process cannot fork a child we have not
// seen. Then each gets SIGTERM and SIGCONT, and after grace SIGKILL. A
// process whose parent dies stays in the tree (adoptOrphans made this
// process their subreaper), so a daemon the plugin started is found too;
// every signal goes to the process found, never to a reused PID.
func stopDescendants(grace time.Duration) int {
	self := os.Getpid()
	seen := map[int]*proc{}
	defer func() {
		for _, p := range seen {
			p.close()
		}
	}()
	for range 10 {
		added := 0
		for pid, start := range descendants(self, seen) {
			if seen[pid] != nil {
				continue
			}
			p, ok := open(pid, start)
			if !ok {
				continue // ended since /proc was read
			}
			seen[pid] = p
			added++
			p.signal(syscall.SIGSTOP)
		}
		if added == 0 {
			break
		}
	}
	if len(seen) == 0 {
		return 0
	}
	signal := func(sig syscall.Signal) {
		for _, p := range seen {
			p.signal(sig)
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

// waitGone waits up to d for every process in procs to end.
func waitGone(procs map[int]*proc, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && anyAlive(procs) {
		time.Sleep(10 * time.Millisecond)
	}
}

func anyAlive(procs map[int]*proc) bool {
	for _, p := range procs {
		if p.alive() {
			return true
		}
	}
	return false
}

// descendants maps each process below root in the tree of parents read
// from /proc to its start time. Processes in also (seen before) are roots
// too while their start time matches: a child may have been re-parented
// since its parent died, before this process was its subreaper.
func descendants(root int, also map[int]*proc) map[int]uint64 {
	children := map[int][]int{}
	starts := map[int]uint64{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := stat(pid); ok && st.state != 'Z' && st.state != 'X' {
			// A zombie has ended: nothing to stop, no children.
			children[st.ppid] = append(children[st.ppid], pid)
			starts[pid] = st.start
		}
	}
	queue := []int{root}
	for pid, p := range also {
		if starts[pid] == p.start {
			queue = append(queue, pid)
		}
	}
	out := map[int]uint64{}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if _, ok := out[c]; !ok && c != root {
				out[c] = starts[c]
				queue = append(queue, c)
			}
		}
	}
	return out
}

// procStat is what kubemint reads of /proc/PID/stat.
type procStat struct {
	state byte
	ppid  int
	start uint64 // field 22, starttime: clock ticks after boot
}

// stat reads /proc/PID/stat, whose second field (the command name, in
// parentheses) may itself hold spaces and parentheses: the fields that
// follow start after the last ')'.
func stat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	// After the name: state (3), ppid (4), ... starttime (22).
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 20 || len(fields[0]) != 1 {
		return procStat{}, false
	}
	ppid, err1 := strconv.Atoi(string(fields[1]))
	start, err2 := strconv.ParseUint(string(fields[19]), 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, false
	}
	return procStat{state: fields[0][0], ppid: ppid, start: start}, true
}

// identity names pid as "PID:START", or "" when it cannot be read.
func identity(pid int) string {
	st, ok := stat(pid)
	if !ok {
		return ""
	}
	return strconv.Itoa(pid) + ":" + strconv.FormatUint(st.start, 10)
}

// parseIdentity splits an identity (PID:START) into its PID and start time.
func parseIdentity(id string) (pid int, start uint64, ok bool) {
	pidS, startS, ok := bytes.Cut([]byte(id), []byte(":"))
	if !ok {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(string(pidS))
	start, err2 := strconv.ParseUint(string(startS), 10, 64)
	return pid, start, err1 == nil && err2 == nil
}

// running reports whether the process named by identity (PID:START) still
// runs: the PID is alive and started at that time.
func running(id string) bool {
	pid, start, ok := parseIdentity(id)
	if !ok {
		return false
	}
	p := proc{pid: pid, start: start, fd: -1}
	return p.alive()
}

// stopped reports whether the process named by identity is stopped (by
// SIGSTOP, Ctrl-Z or a debugger): it holds what it holds until resumed.
func stopped(id string) bool {
	pid, start, ok := parseIdentity(id)
	if !ok {
		return false
	}
	st, ok := stat(pid)
	return ok && st.start == start && (st.state == 'T' || st.state == 't')
}
