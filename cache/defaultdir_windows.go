package cache

import (
	"path/filepath"

	"github.com/adrg/xdg"
)

// DefaultDir is kubemint's directory under the XDG cache home
// (%XDG_CACHE_HOME%, else %LOCALAPPDATA%\cache), or "" when there is none.
// A Store with an empty Dir works without a cache and says why
// (ErrNoCacheDir).
func DefaultDir() string {
	if !filepath.IsAbs(xdg.CacheHome) {
		return ""
	}
	return filepath.Join(xdg.CacheHome, "kubemint")
}
