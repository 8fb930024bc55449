package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/internal/product"
)

// findFull looks for kubemint-full beside this executable (symlinks such as
// kubectl-mint resolved), then on PATH (see product.FindFull).
func findFull() (string, error) {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	p, err := product.FindFull(self)
	if err != nil {
		return "", fmt.Errorf("%w: kubemint needs it for every command but version and a cached token", err)
	}
	if err := product.CheckExecutable(p, self); err != nil {
		return "", hint.Wrap(err, "chmod o-w (or chmod +t) the directory named, or reinstall kubemint into a directory of your own (install.md)")
	}
	return p, nil
}

// invokedAs is the absolute path this front was run by, links not
// resolved: argv[0] when it names a path, else where PATH finds it.
func invokedAs() string {
	p := os.Args[0]
	if !strings.ContainsRune(p, os.PathSeparator) {
		lp, err := exec.LookPath(p)
		if err != nil {
			return ""
		}
		p = lp
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	return abs
}

// handOff runs kubemint-full with args, telling it this front's version
// (product.VersionEnv) so that it refuses to run under a front of another
// release. On Unix it replaces this process, so kubectl sees one process
// with one exit status; elsewhere it runs it as a child and exits with its
// status.
func handOff(args []string, version string) error {
	full, err := findFull()
	if err != nil {
		return err
	}
	if err := os.Setenv(product.VersionEnv, version); err != nil {
		return err
	}
	if p := invokedAs(); p != "" {
		_ = os.Setenv(product.FrontPathEnv, p)
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
