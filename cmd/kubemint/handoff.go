package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// fullName is the binary that holds every command; it is built from
// ./cmd/kubemint-full and installed beside this one.
const fullName = "kubemint-full"

// findFull looks for kubemint-full beside this executable (symlinks such as
// kubectl-mint resolved), then on PATH.
func findFull() (string, error) {
	name := fullName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(fullName)
	if err != nil {
		return "", fmt.Errorf("%s is not installed beside kubemint nor on PATH", fullName)
	}
	return p, nil
}

// handOff runs kubemint-full with args. On Unix it replaces this process, so
// kubectl sees one process with one exit status; elsewhere it runs it as a
// child and exits with its status.
func handOff(args []string) error {
	full, err := findFull()
	if err != nil {
		return err
	}
	argv := append([]string{"kubemint"}, args...)
	if err := execve(full, argv, os.Environ()); err != nil && !errors.Is(err, errNoExec) {
		return fmt.Errorf("running %s: %w", full, err)
	}
	cmd := exec.Command(full, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		os.Exit(exitErr.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("running %s: %w", full, err)
	}
	os.Exit(0)
	return nil
}
