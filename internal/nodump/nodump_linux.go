package nodump

import "golang.org/x/sys/unix"

// Set marks the process not dumpable: no core dump, and /proc/PID/mem,
// environ and ptrace are closed to the user's other processes. An exec
// resets it, so each binary calls Set at start.
func Set() error {
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
