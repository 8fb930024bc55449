package controlplane

import "syscall"

// dieWithParent makes the control plane die with the test process, even
// when that is killed.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
