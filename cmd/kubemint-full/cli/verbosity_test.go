package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/resolve"
)

// TestStatusAndCleanUseVerbosity: -v on status and clean is read, not just
// accepted. The cache's own warnings reach stderr at every level (a cache
// directory whose loose mode was repaired), and clean at -v=4 names what it
// forgot. Before, neither command gave the store a logger: both were lost.
func TestStatusAndCleanUseVerbosity(t *testing.T) {
	t.Cleanup(xdg.Reload) // after the variable is restored
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	xdg.Reload()
	dir := cache.DefaultDir()
	now := time.Now()
	store := &cache.Store{Mode: cache.File, Dir: dir}
	if _, err := store.Save("k", cache.Entry{Token: "h.p.s", Issued: now, Expiry: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	info := cache.Info{Key: "k", Labels: map[string]string{resolve.LabelAccount: "ci/deployer", resolve.LabelServer: "https://k8s.example"}, Backend: cache.BackendFile, Issued: now, Expiry: now.Add(time.Hour)}
	if err := store.SaveInfo(info); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status"}, "warning: the cache directory " + dir + " had mode"},
		{[]string{"clean", "-v=4"}, "forgot the file entry k of ci/deployer on https://k8s.example"},
	} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		root := NewRootCmd("test", strings.NewReader(""), &stdout, &stderr)
		root.SetArgs(tc.args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, stderr.String(), tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "k.json")); !os.IsNotExist(err) {
		t.Errorf("clean left the entry: %v", err)
	}
}
