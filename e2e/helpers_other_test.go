//go:build !linux

package e2e

// testHelperMain: the helper modes (a seccomp filter, a planted key) are
// Linux's; see kernelkeyring_test.go.
func testHelperMain() bool { return false }
