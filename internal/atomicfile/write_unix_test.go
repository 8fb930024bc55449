//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
)

// plainWrite is the plain (not durable) writer as the cache calls it: through
// the open directory.
func plainWrite(path string, data []byte, perm os.FileMode) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return WriteAt(d, filepath.Base(path), data, perm)
}
