package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/internal/controlplane"
)

// TestRevoke: an account set up with --revocable loses every outstanding
// token when kubemint revoke deletes the binding Secret; setup restores it.
func TestRevoke(t *testing.T) {
	podReaderClusterRole(t)
	u := newUserEnv(t)
	u.adminKubeconfig(t)
	setup := []string{"setup", "--service-account=rev/bot", "--source-context=admin", "--cluster-role=e2e-pod-reader", "--revocable", "--context-name=bot"}
	r := u.mustKubemint(t, setup...)
	if !strings.Contains(r.stdout, "created    secret rev/bot-kubemint") {
		t.Fatalf("setup output:\n%s", r.stdout)
	}
	if r := u.kubectl(t, "--context=bot", "get", "pods"); r.code != 0 {
		t.Fatalf("before revoke: %s", r.stderr)
	}
	// The token kubectl holds, as a client that cached it would.
	tok := tokenOf(t, u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=rev/bot", "--source-context=admin",
		"--bound-object-kind=Secret", "--bound-object-name=bot-kubemint").stdout)
	withToken := func() result { return u.kubectlWithToken(t, tok, "get", "pods", "-n", "rev") }
	if r := withToken(); r.code != 0 {
		t.Fatalf("the bound token does not work before revoke: %s", r.stderr)
	}

	r = u.mustKubemint(t, "revoke", "--service-account=rev/bot", "--source-context=admin")
	if !strings.Contains(r.stdout, "Deleted Secret rev/bot-kubemint") || !strings.Contains(r.stdout, "Forgot 1 cached credentials of rev/bot") {
		t.Errorf("revoke output:\n%s", r.stdout)
	}
	start := time.Now()
	for {
		r := withToken()
		if r.code != 0 && strings.Contains(r.stderr, "Unauthorized") {
			t.Logf("the revoked token was refused after %v", time.Since(start).Round(100*time.Millisecond))
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the token still works %v after revoke: exit %d %s", time.Since(start), r.code, r.stderr)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if r := u.kubectl(t, "--context=bot", "get", "pods"); r.code == 0 {
		t.Errorf("kubectl through the exec entry still works after revoke")
	}

	u.mustKubemint(t, setup...)
	if r := u.kubectl(t, "--context=bot", "get", "pods"); r.code != 0 {
		t.Errorf("a new setup does not restore access: %s", r.stderr)
	}
}

// TestRevokeWithoutRevocable explains the choices instead of pretending.
func TestRevokeWithoutRevocable(t *testing.T) {
	u := newUserEnv(t)
	u.adminKubeconfig(t)
	r := u.kubemint(t, "", "revoke", "--service-account=ci/deployer", "--source-context=admin")
	if r.code == 0 || !strings.Contains(r.stderr, "ci/deployer is already revoked") || !strings.Contains(r.stderr, "was not set up with --revocable") || !strings.Contains(r.stderr, "delete and recreate the service account") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestRevokedCachedTokenIsReplaced: when the token in the cache is revoked
// behind kubemint's back (its binding Secret deleted and recreated), client-go
// gets 401 and runs the plugin again; kubemint notices the repeat, confirms
// the refusal with one SelfSubjectReview and mints a new token, so calls
// work again at once instead of failing until the old token expires.
func TestRevokedCachedTokenIsReplaced(t *testing.T) {
	mustAdmin(t, controlplane.PodReader("rot", "bot")+`---
apiVersion: v1
kind: Secret
metadata: {name: bot-binding, namespace: rot}
`, "apply", "-f", "-")
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account=rot/bot", "--source-context=admin", "--bound-object-kind=Secret", "--bound-object-name=bot-binding", "-v=1")
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	if r := u.kubectl(t, "get", "pods", "-n", "rot"); r.code != 0 {
		t.Fatalf("first call: %s", r.stderr)
	}
	old := tokenOf(t, u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=rot/bot", "--source-context=admin",
		"--source-kubeconfig="+kc, "--bound-object-kind=Secret", "--bound-object-name=bot-binding").stdout)

	// Revoke behind kubemint's back: the cache still holds the old token.
	mustAdmin(t, "", "-n", "rot", "delete", "secret", "bot-binding")
	mustAdmin(t, `apiVersion: v1
kind: Secret
metadata: {name: bot-binding, namespace: rot}
`, "apply", "-f", "-")
	for start := time.Now(); ; time.Sleep(500 * time.Millisecond) {
		r := u.kubectlWithToken(t, old, "get", "pods", "-n", "rot")
		if r.code != 0 && strings.Contains(r.stderr, "Unauthorized") {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the old token still works 20s after its Secret was deleted")
		}
	}

	// client-go does not retry the request that got 401; it runs the
	// plugin again for the next one. So this call may fail, but kubemint
	// must have replaced the token within it.
	before := tokenRequests(t)
	r := u.kubectl(t, "get", "pods", "-n", "rot")
	if !strings.Contains(r.stderr, "the API server refuses the cached token for rot/bot") {
		t.Errorf("-v=1 does not say why it re-minted:\n%s", r.stderr)
	}
	if got := tokenRequests(t) - before; got != 1 {
		t.Errorf("recovering made %v TokenRequests, want 1", got)
	}
	if r := u.kubectl(t, "get", "pods", "-n", "rot"); r.code != 0 {
		t.Fatalf("the call after recovery: exit %d: %s", r.code, r.stderr)
	}
	// A healthy cache is not second-guessed: the next call is a plain hit.
	before = tokenRequests(t)
	if r := u.kubectl(t, "get", "pods", "-n", "rot"); r.code != 0 || tokenRequests(t)-before != 0 {
		t.Errorf("the call after recovery: exit %d, %v TokenRequests", r.code, tokenRequests(t)-before)
	}
}

// TestScriptLoopIsNotSecondGuessed: a script that runs kubemint itself in
// a loop (same parent process, calls seconds apart) looks like client-go's
// retry after a 401; one check vouches for the token, and the rest of the
// loop is plain cache hits.
func TestScriptLoopIsNotSecondGuessed(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	reviews := func() float64 {
		n, err := w.cp.Metric("apiserver_request_total", `resource="selfsubjectreviews"`, `verb="POST"`)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := reviews()
	var first string
	for i := range 6 {
		r := u.kubemint(t, info, "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc)
		if r.code != 0 {
			t.Fatal(r.stderr)
		}
		if i == 0 {
			first = r.stdout
		} else if r.stdout != first {
			t.Errorf("call %d answered differently from the first", i)
		}
	}
	if got := reviews() - before; got > 1 {
		t.Errorf("6 calls from one process made %v SelfSubjectReviews, want at most 1", got)
	}
}
