package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubemint/kubemint/internal/hint"
)

// maxLinks bounds the links followed for one path, as the kernel's
// ELOOP does.
const maxLinks = 40

// resolveLinks returns the file path leads to, following each symbolic
// link on the way (in the last component or in a directory above it) only
// when it belongs to this process's user or to root, as ssh trusts the
// files it reads: a link another user placed in a shared directory (/tmp)
// must not aim a kubeconfig write at a file of their choosing, and the
// kernel's protected_symlinks does not stop a link kubemint reads and
// follows itself. What does not exist yet is returned as named.
func resolveLinks(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	links := 0
	cur := filepath.VolumeName(abs) + string(filepath.Separator)
	rest := strings.Split(strings.TrimPrefix(abs[len(filepath.VolumeName(abs)):], string(filepath.Separator)), string(filepath.Separator))
	for len(rest) > 0 {
		next := filepath.Join(cur, rest[0])
		rest = rest[1:]
		fi, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.Join(append([]string{next}, rest...)...), nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("%s: too many levels of symbolic links", path)
		}
		if owner, ok := foreignOwner(fi); ok {
			return "", hint.Wrap(fmt.Errorf("%s is a symbolic link of uid %d: kubemint follows only links of its own user or root, so that another user cannot aim it at a file of their choosing", next, owner),
				"name the file it points at, if it is yours to write, or a path of your own")
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(cur, target)
		}
		target = filepath.Clean(target)
		cur = filepath.VolumeName(target) + string(filepath.Separator)
		parts := strings.Split(strings.TrimPrefix(target[len(filepath.VolumeName(target)):], string(filepath.Separator)), string(filepath.Separator))
		if len(parts) == 1 && parts[0] == "" {
			parts = nil
		}
		rest = append(parts, rest...)
	}
	return cur, nil
}
