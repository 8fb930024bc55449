package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnusableCacheDirStillWorks: a home where the cache cannot be created
// (read-only, or a file in the way) costs a mint per call and a warning,
// never a failed kubectl.
func TestUnusableCacheDirStillWorks(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	blocker := filepath.Join(u.home, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	u.vars = append(u.vars, "KUBECONFIG="+kc, "XDG_CACHE_HOME="+filepath.Join(blocker, "cache"))
	before := tokenRequests(t)
	for i := range 2 {
		r := u.kubectl(t, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if r.code != 0 || r.stdout != "system:serviceaccount:ci:deployer" {
			t.Fatalf("call %d: exit %d, stdout %q, stderr %s", i, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "kubemint: warning: cannot use the cache") || !strings.Contains(r.stderr, "minting without it") {
			t.Errorf("call %d: no warning on stderr:\n%s", i, r.stderr)
		}
	}
	if got := tokenRequests(t) - before; got != 2 {
		t.Errorf("two calls without a cache made %v TokenRequests, want 2", got)
	}
}

// TestWorldReadableEntryIsReplaced: like ssh with a private key, a cache
// file others can read is not used; a new token replaces it, privately.
func TestWorldReadableEntryIsReplaced(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc}
	first := u.kubemint(t, info, args...)
	if first.code != 0 {
		t.Fatal(first.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(u.cache, "kubemint", "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	if err := os.Chmod(files[0], 0o644); err != nil {
		t.Fatal(err)
	}
	before := tokenRequests(t)
	second := u.kubemint(t, info, args...)
	if second.code != 0 {
		t.Fatal(second.stderr)
	}
	if !strings.Contains(second.stderr, "kubemint: warning: not using the cached token for ci/deployer") || !strings.Contains(second.stderr, "mode -rw-r--r--") {
		t.Errorf("no warning about the readable file:\n%s", second.stderr)
	}
	if tokenRequests(t)-before != 1 || tokenOf(t, first.stdout) == tokenOf(t, second.stdout) {
		t.Errorf("the readable token was served instead of a new one")
	}
	assertMode(t, files[0], 0o600)
}
