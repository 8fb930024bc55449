//go:build !unix

package product

// CheckExecutable: Windows directories carry access lists, which the
// installers (krew, the zip's instructions) set; nothing is checked here.
func CheckExecutable(path, front string) error { return nil }
