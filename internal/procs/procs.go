// Package procs stops the processes that kubemint-full started without
// knowing it: the source context's exec plugin, which client-go runs with
// exec.Command and no context, so neither a deadline nor Ctrl-C reaches it,
// and whatever that plugin started in turn (a wrapper script's children).
//
// client-go offers no hook to learn the plugin's process, so the only handle
// kubemint has is the process tree: every descendant of kubemint-full while
// it mints is the plugin or one of its children, because kubemint-full
// starts nothing else during a mint. On Linux the tree is read from /proc;
// elsewhere StopDescendants does nothing and the plugin runs on until it
// ends by itself (kubemint's exit still releases its lock).
package procs

import "time"

// Grace is how long a stopped process has to exit after SIGTERM before it
// gets SIGKILL: enough for a plugin to remove a temporary file, short
// enough that kubectl, which waits on kubemint, is not held.
const Grace = 500 * time.Millisecond

// StopDescendants ends every descendant of this process: SIGTERM, then
// SIGKILL to what is left after grace. It returns how many it found; 0 on
// platforms where it cannot see them.
func StopDescendants(grace time.Duration) int {
	return stopDescendants(grace)
}
