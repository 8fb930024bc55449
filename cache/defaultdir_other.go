//go:build !windows

package cache

import (
	"os"
	"path/filepath"
	"runtime"
)

// DefaultDir is kubemint's directory under the XDG cache home
// ($XDG_CACHE_HOME when absolute, else ~/.cache, ~/Library/Caches on
// macOS), or "" when there is none: with HOME unset and no absolute
// XDG_CACHE_HOME there is no directory of the user's, and kubemint does
// not invent /.cache. A Store with an empty Dir works without a cache and
// says why (ErrNoCacheDir).
//
// It follows adrg/xdg's rules without linking it: xdg reads
// ~/.config/user-dirs.dirs when it initialises, a file access on every
// cache hit of the lean front for a directory kubemint never uses.
func DefaultDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "kubemint")
	}
	home := os.Getenv("HOME")
	if !filepath.IsAbs(home) {
		return ""
	}
	if runtime.GOOS == "darwin" {
		return filepath.Join(home, "Library", "Caches", "kubemint")
	}
	return filepath.Join(home, ".cache", "kubemint")
}
