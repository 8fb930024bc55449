package e2e

import (
	"fmt"
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
