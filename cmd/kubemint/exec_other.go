//go:build !unix

package main

import "errors"

var errNoExec = errors.New("exec is not supported on this platform")

// execve is not available here; handOff runs a child process instead.
func execve(path string, argv, env []string) error {
	return errNoExec
}
