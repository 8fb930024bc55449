package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRevokeDespiteAFinalizer: a finalizer on the revocation Secret would
// make kubemint revoke's delete only mark it terminating, and the API
// server keeps honouring tokens bound to a terminating object for a minute
// (its JWT leeway), and mints new ones bound to it meanwhile. The account,
// with the rules edit has on a real cluster (update on secrets), may not
// put one there (the policy refuses); one that is there anyway (put before
// the policy stood) is taken off by revoke: every token of the account
// stops within the 20 s docs/security.md promises, and the Secret is gone.
func TestRevokeDespiteAFinalizer(t *testing.T) {
	editClusterRole(t)
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	adm.mustKubemint(t, "setup", "--service-account=fin/app", "--source-context=admin", "--cluster-role=e2e-edit",
		"--revocable", "--duration=10m", "--context-name=fin")
	self := tokenOf(t, adm.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=fin/app", "--source-context=admin",
		"--duration=10m", "--bound-object-kind=Secret", "--bound-object-name=app-kubemint").stdout)
	keep := []string{"patch", "secret", "app-kubemint", "-n", "fin", "--type=merge", "-p", `{"metadata":{"finalizers":["example.com/keep-me"]}}`}
	if r := adm.kubectlWithToken(t, self, keep...); r.code == 0 || !strings.Contains(r.stderr, "kubemint-revocable.fin.app") {
		t.Errorf("the account put a finalizer on its revocation Secret: exit %d %s", r.code, r.stderr)
	}
	if _, stderr, err := admin("", keep...); err != nil {
		t.Fatalf("the admin could not put a finalizer on the Secret: %s", stderr)
	}
	t.Cleanup(func() {
		admin("", "patch", "secret", "app-kubemint", "-n", "fin", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
	})

	adm.mustKubemint(t, "revoke", "--service-account=fin/app", "--source-context=admin")
	start := time.Now()
	// Were the Secret left terminating, the account could mint itself a
	// fresh token bound to it, as the policy allows.
	fresh := ""
	if r := adm.kubectlWithToken(t, self, "create", "token", "app", "-n", "fin", "--duration=10m",
		"--bound-object-kind=Secret", "--bound-object-name=app-kubemint"); r.code == 0 {
		fresh = strings.TrimSpace(r.stdout)
	}
	for _, tok := range []string{self, fresh} {
		for tok != "" && adm.kubectlWithToken(t, tok, "get", "secrets", "-n", "fin").code == 0 {
			if time.Since(start) > 20*time.Second {
				t.Fatalf("a token of fin/app still works 20s after kubemint revoke (its Secret had a finalizer)")
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	t.Logf("every token stopped %v after revoke", time.Since(start).Round(100*time.Millisecond))
	if _, stderr, err := admin("", "get", "secret", "app-kubemint", "-n", "fin"); err == nil || !strings.Contains(stderr, "NotFound") {
		t.Errorf("the revocation Secret is still there after revoke: %v %s", err, stderr)
	}
}

// TestRevokeDespiteARecreatedSecret: the account, with the rules edit has
// on a real cluster (create secrets, create its own serviceaccounts/token),
// watches its revocation Secret. The moment kubemint revoke deletes it,
// while the API server still honours the account's token from its
// authentication cache (about 10 s), the account creates a new Secret of
// that name and mints itself a token bound to the new one, which the
// policy's name check alone allows. That token must not outlive revoke.
func TestRevokeDespiteARecreatedSecret(t *testing.T) {
	editClusterRole(t)
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	adm.mustKubemint(t, "setup", "--service-account=recreate/app", "--source-context=admin", "--cluster-role=e2e-edit",
		"--revocable", "--duration=10m", "--context-name=recreate")
	self := tokenOf(t, adm.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=recreate/app", "--source-context=admin",
		"--duration=10m", "--bound-object-kind=Secret", "--bound-object-name=app-kubemint").stdout)
	// Used once before revoke, so that the API server caches it as valid.
	if r := adm.kubectlWithToken(t, self, "get", "secrets", "-n", "recreate"); r.code != 0 {
		t.Fatalf("the account's token: %s", r.stderr)
	}

	adm.mustKubemint(t, "revoke", "--service-account=recreate/app", "--source-context=admin")
	start := time.Now()
	created := adm.kubectlWithToken(t, self, "create", "secret", "generic", "app-kubemint", "-n", "recreate")
	var survivor string
	if created.code == 0 {
		if r := adm.kubectlWithToken(t, self, "create", "token", "app", "-n", "recreate", "--duration=10m",
			"--bound-object-kind=Secret", "--bound-object-name=app-kubemint"); r.code == 0 {
			survivor = strings.TrimSpace(r.stdout)
		}
	} else {
		t.Logf("recreating the Secret was refused: %s", created.stderr)
	}
	for _, tok := range []string{self, survivor} {
		for tok != "" && adm.kubectlWithToken(t, tok, "get", "secrets", "-n", "recreate").code == 0 {
			if time.Since(start) > 20*time.Second {
				t.Fatalf("a token of recreate/app still works 20s after kubemint revoke (the account recreated its Secret: %v)", created.code == 0)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	t.Logf("every token stopped %v after revoke", time.Since(start).Round(100*time.Millisecond))
	// setup, re-run by the admin, still makes the Secret again.
	adm.mustKubemint(t, "setup", "--service-account=recreate/app", "--source-context=admin", "--cluster-role=e2e-edit",
		"--revocable", "--duration=10m", "--context-name=recreate")
	if r := adm.kubectl(t, "--context=recreate", "get", "secrets", "-n", "recreate"); r.code != 0 {
		t.Errorf("setup's context after a re-run: %s", r.stderr)
	}
}

// TestRevocationPolicyOtherPaths: the other ways the rules edit has on a
// real cluster offer an account to get itself a token that revoke would
// not kill, each tried as the account with its own bound token: through
// impersonation (of itself, and of another account of its namespace that
// then recreates the revocation Secret), bound to a Pod it creates to run
// as itself, without expirationSeconds, as a legacy token Secret created
// as Opaque and then updated into that type, and by deleting or editing
// the policy and its binding. Every one is refused.
func TestRevocationPolicyOtherPaths(t *testing.T) {
	editClusterRole(t)
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	adm.mustKubemint(t, "setup", "--service-account=paths/app", "--source-context=admin", "--cluster-role=e2e-edit",
		"--revocable", "--duration=10m", "--context-name=paths")
	// Another account of the namespace, which edit lets the account
	// impersonate, with edit's rules too.
	mustAdmin(t, `apiVersion: v1
kind: ServiceAccount
metadata: {name: other, namespace: paths}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: other-edit, namespace: paths}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-edit}
subjects: [{kind: ServiceAccount, name: other, namespace: paths}]
`, "apply", "-f", "-")
	self := tokenOf(t, adm.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=paths/app", "--source-context=admin",
		"--duration=10m", "--bound-object-kind=Secret", "--bound-object-name=app-kubemint").stdout)
	policy := "kubemint-revocable.paths.app"
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: runs-as-app, namespace: paths}\nspec:\n  serviceAccountName: app\n  containers: [{name: c, image: busybox}]\n"
	opaque := "apiVersion: v1\nkind: Secret\nmetadata: {name: app-legacy, namespace: paths, annotations: {kubernetes.io/service-account.name: app}}\ntype: Opaque\n"
	for _, tt := range []struct {
		name  string
		stdin string
		args  []string
		// deny is what the refusal must say.
		deny string
	}{
		{name: "impersonating itself, unbound", args: []string{"--as=system:serviceaccount:paths:app", "create", "token", "app", "-n", "paths", "--duration=10m"}, deny: policy},
		{name: "impersonating another account, unbound", args: []string{"--as=system:serviceaccount:paths:other", "create", "token", "app", "-n", "paths", "--duration=10m"}, deny: policy},
		{name: "impersonating another account, changing the revocation Secret", args: []string{"--as=system:serviceaccount:paths:other", "label", "secret", "app-kubemint", "-n", "paths", "x=y"}, deny: policy},
		{name: "a pod running as the account", stdin: pod, args: []string{"create", "-f", "-"}},
		{name: "bound to that pod", args: []string{"create", "token", "app", "-n", "paths", "--duration=10m", "--bound-object-kind=Pod", "--bound-object-name=runs-as-app"}, deny: policy},
		{name: "bound, expirationSeconds unset (1h, over the cap)", args: []string{"create", "token", "app", "-n", "paths", "--bound-object-kind=Secret", "--bound-object-name=app-kubemint"}, deny: policy},
		{name: "an Opaque Secret naming the account", stdin: opaque, args: []string{"create", "-f", "-"}},
		{name: "updated into a legacy token Secret", stdin: strings.Replace(opaque, "type: Opaque", "type: kubernetes.io/service-account-token", 1), args: []string{"replace", "-f", "-"}, deny: "immutable"},
		{name: "delete the policy", args: []string{"delete", "validatingadmissionpolicy", policy}, deny: "forbidden"},
		{name: "delete the binding", args: []string{"delete", "validatingadmissionpolicybinding", policy}, deny: "forbidden"},
		{name: "edit the policy", args: []string{"label", "validatingadmissionpolicy", policy, "x=y"}, deny: "forbidden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.stdin != "" {
				file := filepath.Join(adm.home, "manifest.yaml")
				if err := os.WriteFile(file, []byte(tt.stdin), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args[:len(args)-1:len(args)-1], file)
			}
			r := adm.kubectlWithToken(t, self, args...)
			switch {
			case tt.deny == "" && r.code != 0:
				t.Errorf("refused: %s", r.stderr)
			case tt.deny != "" && r.code == 0:
				t.Errorf("allowed, want refused (%s): %s", tt.deny, r.stdout)
			case tt.deny != "" && !strings.Contains(r.stderr, tt.deny):
				t.Errorf("refused, but not with %q: %s", tt.deny, r.stderr)
			}
		})
	}
}

// TestServerPinChecksTheCA: a context with the pinned server's URL, but a
// certificate authority and a proxy-url of someone else's (a kubeconfig
// handed to the user, whose context reuses the kubemint exec user), gets no
// token. The pin compares URLs; before the CA check, kubemint minted, and
// kubectl sent the token through that proxy to a server holding that CA's
// key, which could use it on the real cluster.
func TestServerPinChecksTheCA(t *testing.T) {
	u := newUserEnv(t)
	capture := newCaptureServer(t)
	captureAddr := strings.TrimPrefix(capture.URL, "https://")
	// A proxy that answers CONNECT, to any host, with a tunnel to the
	// capture server, whose certificate is the context's CA.
	proxyAddr, _ := connectProxy(t, captureAddr, false)
	otherCA := filepath.Join(t.TempDir(), "other-ca.crt")
	if err := os.WriteFile(otherCA, capture.caPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	b, err := os.ReadFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "clusters:\n", fmt.Sprintf("clusters:\n- name: proxied\n  cluster: {server: %s, certificate-authority: %s, proxy-url: http://%s}\n", w.cp.Server, otherCA, proxyAddr), 1)
	cfg = strings.Replace(cfg, "contexts:\n", "contexts:\n- name: proxied\n  context: {cluster: proxied, user: deployer}\n", 1)
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	r := u.kubectl(t, "--context=proxied", "get", "pods")
	if r.code == 0 || !strings.Contains(r.stderr, `kubemint: error: the exec entry's cluster (`+w.cp.Server+`) trusts a certificate authority that context "admin" does not`) {
		t.Errorf("kubectl --context=proxied: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, a := range capture.got() {
		if a != "" {
			t.Fatalf("the proxy's server got a credential (%d bytes)", len(a))
		}
	}
	// The context kubemint wrote, with the cluster's own CA, still works.
	if got := whoami(t, u, "--context=deployer"); got != "system:serviceaccount:ci:deployer" {
		t.Errorf("the deployer context acts as %q", got)
	}
}
