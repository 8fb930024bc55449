//go:build !linux

package controlplane

import "syscall"

// dieWithParent has no portable equivalent; Stop ends the processes.
func dieWithParent() *syscall.SysProcAttr { return nil }
