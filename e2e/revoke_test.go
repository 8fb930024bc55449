package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRevoke: an account set up with --revocable loses every outstanding
// token when kubemint revoke deletes the binding Secret; setup restores it.
func TestRevoke(t *testing.T) {
	mustAdmin(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-pod-reader}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
`, "apply", "-f", "-")
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
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	withToken := func() result {
		return u.kubectl(t, "--kubeconfig="+empty, "--server="+w.cp.Server, "--certificate-authority="+w.cp.CAFile, "--token="+tok, "get", "pods", "-n", "rev")
	}
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
	if r.code == 0 || !strings.Contains(r.stderr, "ci/deployer was not set up with --revocable") || !strings.Contains(r.stderr, "delete and recreate the service account") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
