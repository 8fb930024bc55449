// Package procs stops the processes that kubemint-full started without
// knowing it: the source context's exec plugin, which client-go runs with
// exec.Command and no context, so neither a deadline nor Ctrl-C reaches it,
// and whatever that plugin started in turn (a wrapper script's children, a
// daemon it double-forked into a session of its own).
//
// client-go offers no hook to learn the plugin's process, so the only handle
// kubemint has is the process tree: every descendant of kubemint-full while
// it mints is the plugin or one of its children, because kubemint-full
// starts nothing else during a mint. On Linux kubemint-full makes itself a
// child subreaper first (AdoptOrphans), so a process that leaves the tree
// by losing its parent comes back to it; the tree is read from /proc, and
// each process is signalled through a pidfd, never by a PID that another
// process may have taken since. Elsewhere StopDescendants does nothing and
// the plugin runs on until it ends by itself (kubemint's exit still
// releases its lock).
package procs

import "time"

// Grace is how long a stopped process has to exit after SIGTERM before it
// gets SIGKILL: enough for a plugin to remove a temporary file, short
// enough that kubectl, which waits on kubemint, is not held.
const Grace = 500 * time.Millisecond

// AdoptOrphans makes every process that this one starts, and their
// descendants, stay below it when their parent dies (Linux: a child
// subreaper), so that StopDescendants finds a daemon a plugin left. Call
// it before the plugin runs. Elsewhere it does nothing.
func AdoptOrphans() error { return adoptOrphans() }

// StopDescendants ends every descendant of this process: SIGTERM, then
// SIGKILL to what is left after grace. It returns how many it found; 0 on
// platforms where it cannot see them.
func StopDescendants(grace time.Duration) int {
	return stopDescendants(grace)
}

// Identity names process pid as "PID:START" (its start time), which no
// later process that reuses the PID shares; "" where it cannot be read
// (not Linux).
func Identity(pid int) string { return identity(pid) }

// Running reports whether the process Identity named is still running.
// Where start times cannot be read it answers true: the caller cannot
// tell, and keeps to its guard.
func Running(id string) bool { return running(id) }

// Stopped reports whether the process Identity named is stopped (SIGSTOP,
// Ctrl-Z, a debugger); false where that cannot be read.
func Stopped(id string) bool { return stopped(id) }
