package e2e

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// minter makes service account pods/minter, allowed to mint tokens for
// ci/deployer and nothing else, and returns a fresh token of it: what a
// pod's projected token or a CI system's token would be.
func minter(t *testing.T) string {
	t.Helper()
	mustAdmin(t, `apiVersion: v1
kind: Namespace
metadata: {name: pods}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: minter, namespace: pods}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: mint-deployer, namespace: ci}
rules:
- {apiGroups: [""], resources: [serviceaccounts/token], verbs: [create], resourceNames: [deployer]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pods-minter-mints-deployer, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: mint-deployer}
subjects:
- {kind: ServiceAccount, name: minter, namespace: pods}
`, "apply", "-f", "-")
	tok, stderr, err := admin("", "create", "token", "minter", "-n", "pods", "--duration=1h")
	if err != nil {
		t.Fatalf("kubectl create token: %v: %s", err, stderr)
	}
	return strings.TrimSpace(tok)
}

// TestInClusterSource: in a pod, the pod's own projected token mints a
// token for another account, for a tool that takes a kubeconfig. A
// directory stands in for the kubelet's mount.
func TestInClusterSource(t *testing.T) {
	u := newUserEnv(t)
	mount := t.TempDir()
	ca, _ := os.ReadFile(w.cp.CAFile)
	for name, content := range map[string]string{"token": minter(t), "ca.crt": string(ca), "namespace": "pods"} {
		if err := os.WriteFile(filepath.Join(mount, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	server, _ := url.Parse(w.cp.Server)
	u.vars = append(u.vars, "KUBEMINT_TEST_SERVICEACCOUNT_DIR="+mount, "KUBERNETES_SERVICE_HOST="+server.Hostname(), "KUBERNETES_SERVICE_PORT="+server.Port())
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-in-cluster", "--cache=none")
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	if got := whoami(t, u); got != "system:serviceaccount:ci:deployer" {
		t.Errorf("whoami = %q", got)
	}

	// The kubelet rotates the projected token: the next mint reads the new one.
	rotated, stderr, err := admin("", "create", "token", "minter", "-n", "pods", "--duration=1h")
	if err != nil {
		t.Fatal(stderr)
	}
	if err := os.WriteFile(filepath.Join(mount, "token"), []byte(strings.TrimSpace(rotated)), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := whoami(t, u); got != "system:serviceaccount:ci:deployer" {
		t.Errorf("whoami after rotation = %q", got)
	}
	if err := os.WriteFile(filepath.Join(mount, "token"), []byte("not-a-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := u.kubemint(t, "", "token", "--service-account=ci/deployer", "--source-in-cluster", "--cache=none")
	if r.code == 0 || !strings.Contains(r.stderr, "rejected the credentials of the pod's service account (401 Unauthorized)") {
		t.Errorf("with a bad pod token: exit %d, stderr %q", r.code, r.stderr)
	}

	// Outside a pod: the mount or the environment is missing.
	if err := os.Remove(filepath.Join(mount, "token")); err != nil {
		t.Fatal(err)
	}
	r = u.kubemint(t, "", "token", "--service-account=ci/deployer", "--source-in-cluster", "--cache=none")
	if r.code == 0 || !strings.Contains(r.stderr, "the pod's service-account token "+filepath.Join(mount, "token")+" does not exist") {
		t.Errorf("without the token: exit %d, stderr %q", r.code, r.stderr)
	}
	bare := newUserEnv(t)
	r = bare.kubemint(t, "", "token", "--service-account=ci/deployer", "--source-in-cluster", "--cache=none")
	if r.code == 0 || !strings.Contains(r.stderr, "--source-in-cluster needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT") {
		t.Errorf("outside a pod: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestTokenFileSource: any bearer token the API server accepts, in a file,
// mints; the API server comes from the exec info or from flags.
func TestTokenFileSource(t *testing.T) {
	u := newUserEnv(t)
	file := filepath.Join(t.TempDir(), "ci-token")
	if err := os.WriteFile(file, []byte(minter(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"token", "--service-account=ci/deployer", "--source-token-file=" + file, "--cache=none"}
	// The exec info's server is used once --allow-server pins it
	// (TestServerPinTokenSources: not before).
	r := u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), append(args, "--allow-server="+w.cp.Server)...)
	if r.code != 0 {
		t.Fatalf("with exec info: %s", r.stderr)
	}
	tokenOf(t, r.stdout)

	r = u.kubemint(t, "", args...)
	if r.code == 0 || !strings.Contains(r.stderr, "the API server for --source-token-file is unknown") {
		t.Errorf("without a server: exit %d, stderr %q", r.code, r.stderr)
	}
	r = u.kubemint(t, "", append(args, "--source-server="+w.cp.Server, "--source-certificate-authority="+w.cp.CAFile)...)
	if r.code != 0 {
		t.Errorf("with --source-server: %s", r.stderr)
	}
	r = u.kubemint(t, "", "token", "--service-account=ci/deployer", "--source-token-file=/nonexistent/token", "--source-server="+w.cp.Server)
	if r.code == 0 || !strings.Contains(r.stderr, "--source-token-file /nonexistent/token does not exist") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
	r = u.kubemint(t, "", "token", "--service-account=ci/deployer", "--source-token-file="+file, "--source-context=admin")
	if r.code == 0 || !strings.Contains(r.stderr, "choose one source") {
		t.Errorf("two sources: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestSelfRenewingChain: a token renews itself three times with its
// configured source gone, and the chain dies within seconds of kubemint
// revoke.
func TestSelfRenewingChain(t *testing.T) {
	podReaderClusterRole(t)
	u := newUserEnv(t)
	good := u.adminKubeconfig(t)
	r := u.mustKubemint(t, "setup", "--service-account=chain/runner", "--source-context=admin", "--cluster-role=e2e-pod-reader", "--revocable", "--self-renew", "--duration=10m")
	for _, want := range []string{"created    role chain/runner-self-renew", "created    rolebinding chain/kubemint:runner:runner-self-renew"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("setup output lacks %q:\n%s", want, r.stdout)
		}
	}
	info := execInfo(t, "client.authentication.k8s.io/v1")
	args := []string{"token", "--service-account=chain/runner", "--source-context=admin", "--duration=10m", "--refresh-before=9m58s",
		"--bound-object-kind=Secret", "--bound-object-name=runner-kubemint", "--self-renew", "-v=4"}
	first := u.kubemint(t, info, append(args, "--source-kubeconfig="+good)...)
	if first.code != 0 {
		t.Fatal(first.stderr)
	}
	prev := tokenOf(t, first.stdout)
	// The source gone: its kubeconfig (the same path, part of the cache
	// key) moved away.
	gone := good
	moveAway := func() { mustRename(t, good, good+".away") }
	moveAway()
	for i := 1; i <= 3; i++ {
		time.Sleep(2200 * time.Millisecond) // due for a re-mint
		before := tokenRequests(t)
		r := u.kubemint(t, info, append(args, "--source-kubeconfig="+gone)...)
		if r.code != 0 {
			t.Fatalf("renewal %d without a source: exit %d: %s", i, r.code, r.stderr)
		}
		tok := tokenOf(t, r.stdout)
		if tok == prev || !strings.Contains(r.stderr, "the token of chain/runner renewed itself") || tokenRequests(t)-before != 1 {
			t.Fatalf("renewal %d did not mint a successor with the old token:\n%s", i, r.stderr)
		}
		prev = tok
	}
	withToken := func() result { return u.kubectlWithToken(t, prev, "get", "pods", "-n", "chain") }
	if r := withToken(); r.code != 0 {
		t.Fatalf("the third successor does not work: %s", r.stderr)
	}

	mustRename(t, good+".away", good)
	u.mustKubemint(t, "revoke", "--service-account=chain/runner", "--source-context=admin")
	moveAway()
	start := time.Now()
	for withToken().code == 0 {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the chain's token still works 20s after revoke")
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("the chain died %v after revoke", time.Since(start).Round(100*time.Millisecond))
	if r := u.kubemint(t, info, append(args, "--source-kubeconfig="+gone)...); r.code == 0 {
		t.Errorf("a call after revoke, without a source, still got a token")
	}
}

// TestSelfRenewNotAllowedFallsBack: an account without the right to renew
// itself is minted by its source, and -v=1 says how to grant the right.
func TestSelfRenewNotAllowedFallsBack(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc, "--duration=10m", "--refresh-before=9m58s", "--self-renew", "-v=1"}
	if r := u.kubemint(t, info, args...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	time.Sleep(2200 * time.Millisecond)
	r := u.kubemint(t, info, args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "the token of ci/deployer could not renew itself") || !strings.Contains(r.stderr, "kubemint setup --self-renew grants the right to renew") {
		t.Errorf("-v=1 does not explain the fallback:\n%s", r.stderr)
	}

	// Neither the chain nor the source: the still-valid token is served,
	// and -v=1 names both causes in one line.
	time.Sleep(2200 * time.Millisecond)
	mustRename(t, kc, kc+".gone") // the same path: the source is part of the cache key
	r = u.kubemint(t, info, args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "before that, the cached token could not renew itself") || !strings.Contains(r.stderr, "may not mint tokens for ci/deployer") {
		t.Errorf("the failure does not name both causes:\n%s", r.stderr)
	}
}

// TestSourceContextWithAnExecPlugin: a source context that authenticates
// with another exec credential plugin (a cloud login, kubelogin) works,
// because client-go runs that plugin for kubemint.
func TestSourceContextWithAnExecPlugin(t *testing.T) {
	u := newUserEnv(t)
	plugin := filepath.Join(u.home, "cloud-login")
	script := "#!/bin/sh\ncat <<'EOF'\n" + `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"` + minter(t) + `"}}` + "\nEOF\n"
	if err := os.WriteFile(plugin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(u.home, "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: ` + w.cp.Server + `, certificate-authority: ` + w.cp.CAFile + `}
users:
- name: cloud-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ` + plugin + `
      interactiveMode: Never
contexts:
- name: cloud
  context: {cluster: local, user: cloud-user}
current-context: cloud
`
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r := u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=ci/deployer", "--source-context=cloud", "--source-kubeconfig="+kc, "--cache=none")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	tok := tokenOf(t, r.stdout)
	if got := u.kubectlWithToken(t, tok, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); got.stdout != "system:serviceaccount:ci:deployer" {
		t.Errorf("the minted token is %q, want ci/deployer's", got.stdout)
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}
