package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestCAPathAndDataShareAnEntry: the Python client (since v32) sends the
// cluster's CA as a path in KUBERNETES_EXEC_INFO where kubectl sends its
// bytes. Both name one cluster, so they share one cache entry and one
// TokenRequest; before, each kept its own entry and minted its own token.
func TestCAPathAndDataShareAnEntry(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc}
	byPath := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":%q,"certificate-authority":%q},"interactive":false}}`, w.cp.Server, w.cp.CAFile)
	before := tokenRequests(t)
	first := u.kubemint(t, byPath, args...)
	if first.code != 0 {
		t.Fatalf("with the CA by path: %s", first.stderr)
	}
	second := u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), args...)
	if second.code != 0 {
		t.Fatalf("with the CA's bytes: %s", second.stderr)
	}
	third := u.kubemint(t, byPath, args...)
	if tokenOf(t, first.stdout) != tokenOf(t, second.stdout) || tokenOf(t, third.stdout) != tokenOf(t, first.stdout) {
		t.Errorf("the CA by path and by bytes got different tokens")
	}
	if n := len(u.cacheEntries()); n != 1 {
		t.Errorf("%d cache entries, want 1", n)
	}
	if got := tokenRequests(t) - before; got != 1 {
		t.Errorf("%v TokenRequests, want 1", got)
	}
	// A path that is not a regular file is refused, not read.
	bad := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":%q,"certificate-authority":"/dev/zero"},"interactive":false}}`, w.cp.Server)
	oneErrorLine(t, u.kubemint(t, bad, args...), "/dev/zero", "not a regular file")
}

// TestVerbosityOneAndCleanLeavesNothing: at -v=1 (its help: cache misses,
// mints and failures) a miss and its mint say so; kubemint clean then
// leaves nothing of the entry it forgot, its lock file included.
func TestVerbosityOneAndCleanLeavesNothing(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	r := u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc, "-v=1")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, want := range []string{"no cached token for ci/deployer; minting one", "minted a token for ci/deployer, valid until"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("-v=1 lacks %q:\n%s", want, r.stderr)
		}
	}
	dir := filepath.Join(u.cache, "kubemint")
	if locks, _ := filepath.Glob(filepath.Join(dir, "*.lock")); len(locks) != 1 {
		t.Fatalf("lock files after a mint: %v", locks)
	}
	if r := u.kubemint(t, "", "clean", "--service-account=ci/deployer"); r.code != 0 || !strings.Contains(r.stdout, "Forgot 1 cached credentials of ci/deployer") {
		t.Fatalf("clean: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range left {
		if strings.HasSuffix(f, ".lock") || strings.HasSuffix(f, ".json") || strings.HasSuffix(f, ".info") {
			t.Errorf("clean left %s", filepath.Base(f))
		}
	}
}

// TestStatusTellsBoundFromUnbound: a bound and an unbound token of one
// account are two rows that say which is which (revoke kills only the
// bound one), each with its issue time.
func TestStatusTellsBoundFromUnbound(t *testing.T) {
	mustAdmin(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: status-binding, namespace: ci}\n", "apply", "-f", "-")
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	base := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc}
	for _, extra := range [][]string{nil, {"--bound-object-kind=Secret", "--bound-object-name=status-binding"}} {
		if r := u.kubemint(t, info, append(base, extra...)...); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	r := u.kubemint(t, "", "status", "--service-account=ci/deployer")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.Contains(lines[0], "BOUND TO") || !strings.Contains(lines[0], "ISSUED") {
		t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	body := strings.Join(lines[1:], "\n")
	if !strings.Contains(body, "Secret/status-binding") || !strings.Contains(body, "unbound") {
		t.Errorf("status does not tell the bound entry from the unbound one:\n%s", r.stdout)
	}
}
