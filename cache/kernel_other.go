//go:build !linux

package cache

import (
	"errors"
	"time"
)

// kernelSupported: the kernel keyring is Linux's.
const kernelSupported = false

const maxKernelPayload = 0

var (
	errKernelRefused  = errors.New("the kernel keyring is Linux only")
	errKernelQuota    = errors.New("the kernel keyring quota is full")
	errKernelTooLarge = errors.New("the entry is larger than a kernel keyring key holds")
)

func kernelFind(string) (int, error)                              { return 0, errKernelRefused }
func kernelRead(int, int) ([]byte, error)                         { return nil, errKernelRefused }
func kernelUpdate(int, []byte, time.Time, time.Time) error        { return errKernelRefused }
func kernelAdd(string, []byte, time.Time, time.Time) (int, error) { return 0, errKernelRefused }
func kernelRemove(string) error                                   { return errKernelRefused }

// KernelProbe: there is no kernel keyring here.
func KernelProbe() (KernelStatus, error) { return KernelStatus{}, errKernelRefused }
