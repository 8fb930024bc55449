//go:build unix

package main

import (
	"errors"
	"syscall"
)

var errNoExec = errors.New("exec is not supported on this platform")

// execve replaces the process with path. It returns only on failure.
func execve(path string, argv, env []string) error {
	return syscall.Exec(path, argv, env)
}
