//go:build linux

package procs

import "syscall"

func setpgid() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
