package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// adminKubeconfig copies the admin kubeconfig into the user's home, where
// setup may edit it, and points KUBECONFIG at it.
func (u *userEnv) adminKubeconfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(w.cp.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(u.home, ".kube", "config")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	u.vars = append(u.vars, "KUBECONFIG="+path)
	return path
}

func mustAdmin(t *testing.T, stdin string, args ...string) {
	t.Helper()
	if _, stderr, err := admin(stdin, args...); err != nil {
		t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, stderr)
	}
}

func (u *userEnv) mustKubemint(t *testing.T, args ...string) result {
	t.Helper()
	r := u.kubemint(t, "", args...)
	if r.code != 0 {
		t.Fatalf("kubemint %s: exit %d: %s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func whoami(t *testing.T, u *userEnv, args ...string) string {
	t.Helper()
	r := u.kubectl(t, append(args, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")...)
	if r.code != 0 {
		t.Fatalf("kubectl auth whoami: exit %d: %s", r.code, r.stderr)
	}
	return r.stdout
}

// TestSetupNamespaceLevel: from nothing, the namespace flow of the seed
// guides in one command, proved by kubectl; a second run changes nothing.
func TestSetupNamespaceLevel(t *testing.T) {
	podReaderClusterRole(t)
	u := newUserEnv(t)
	kc := u.adminKubeconfig(t)
	args := []string{"setup", "--service-account=team-a/alice", "--source-context=admin", "--cluster-role=e2e-pod-reader"}
	r := u.mustKubemint(t, args...)
	for _, want := range []string{
		"created    namespace team-a",
		"created    serviceaccount team-a/alice",
		"created    rolebinding team-a/kubemint:alice:e2e-pod-reader (ClusterRole e2e-pod-reader)",
		"created    context team-a-alice@local in " + kc,
		"kubectl --context team-a-alice@local acts as system:serviceaccount:team-a:alice.",
		"get, list, watch: ", "pods\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("setup output lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := whoami(t, u, "--context", "team-a-alice@local"); got != "system:serviceaccount:team-a:alice" {
		t.Errorf("whoami = %q", got)
	}
	if r := u.kubectl(t, "--context", "team-a-alice@local", "get", "pods"); r.code != 0 {
		t.Errorf("get pods in team-a (the context's namespace): %s", r.stderr)
	}
	if r := u.kubectl(t, "--context", "team-a-alice@local", "get", "pods", "-n", "default"); r.code == 0 || !strings.Contains(r.stderr, "forbidden") {
		t.Errorf("get pods -n default: exit %d %s; want forbidden", r.code, r.stderr)
	}

	before, _ := os.ReadFile(kc)
	again := u.mustKubemint(t, args...)
	if strings.Contains(again.stdout, "created ") || !strings.Contains(again.stdout, "Nothing changed: everything was already set up.") {
		t.Errorf("second run:\n%s", again.stdout)
	}
	after, _ := os.ReadFile(kc)
	if string(before) != string(after) {
		t.Errorf("second run rewrote the kubeconfig")
	}
}

// TestSetupClusterWideToStandaloneKubeconfig: the cluster-level flow,
// written to a standalone kubeconfig that a kubectl with no other
// configuration uses.
func TestSetupClusterWideToStandaloneKubeconfig(t *testing.T) {
	mustAdmin(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-namespace-reader}
rules:
- {apiGroups: [""], resources: [namespaces], verbs: [get, list]}
`, "apply", "-f", "-")
	u := newUserEnv(t)
	u.adminKubeconfig(t)
	out := filepath.Join(t.TempDir(), "oncall.kubeconfig")
	r := u.mustKubemint(t, "setup", "--service-account=ops/oncall", "--source-context=admin",
		"--cluster-role=e2e-namespace-reader", "--cluster-wide", "--context-name=oncall", "--kubeconfig-out="+out)
	if !strings.Contains(r.stdout, "created    clusterrolebinding kubemint:ops:oncall:e2e-namespace-reader") {
		t.Errorf("setup output:\n%s", r.stdout)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", out, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{"provideClusterInfo: true", "interactiveMode: Never", "installHint:", "command: " + filepath.Join(w.binDir, "kubemint"), "--source-kubeconfig=" + filepath.Join(u.home, ".kube", "config")} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the kubeconfig lacks %q:\n%s", want, b)
		}
	}

	// A kubectl that knows nothing but this file.
	bare := newUserEnv(t)
	bare.vars = append(bare.vars, "KUBECONFIG="+out)
	if got := whoami(t, bare); got != "system:serviceaccount:ops:oncall" {
		t.Errorf("whoami = %q", got)
	}
	if r := bare.kubectl(t, "get", "namespaces"); r.code != 0 || !strings.Contains(r.stdout, "ops") {
		t.Errorf("get namespaces (cluster-wide): exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if r := bare.kubectl(t, "get", "pods", "-n", "ops"); r.code == 0 {
		t.Errorf("get pods succeeded; the ClusterRole grants only namespaces")
	}
}

// TestSetupRefusesAMissingRole: binding a Role that does not exist names
// the fix instead of creating a dangling binding.
func TestSetupRefusesAMissingRole(t *testing.T) {
	u := newUserEnv(t)
	kubeconfig := u.adminKubeconfig(t)
	before, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	// A namespace of its own, so that what exists afterwards was made by
	// this setup or by nobody.
	r := u.kubemint(t, "", "setup", "--service-account=no-role/deployer", "--source-context=admin", "--role=no-such-role")
	if r.code == 0 || !strings.Contains(r.stderr, `the Role no-role/no-such-role was not found`) ||
		!strings.Contains(r.stderr, "kubectl create namespace no-role, then kubectl create role no-such-role -n no-role") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	// Nothing was created: no namespace, service account or binding on the
	// cluster, no context, user or backup in the kubeconfig.
	for _, obj := range [][]string{
		{"get", "namespace", "no-role"},
		{"get", "serviceaccount", "deployer", "-n", "no-role"},
		{"get", "rolebinding", "kubemint:deployer:no-such-role", "-n", "no-role"},
	} {
		if _, stderr, err := admin("", obj...); err == nil || !strings.Contains(stderr, "NotFound") {
			t.Errorf("kubectl %s: %v %s; want NotFound: setup created it before its checks passed", strings.Join(obj, " "), err, stderr)
		}
	}
	after, err := os.ReadFile(kubeconfig)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the kubeconfig changed (%v):\n%s", err, after)
	}
	if backups, _ := filepath.Glob(kubeconfig + ".kubemint-backup-*"); len(backups) != 0 {
		t.Errorf("setup backed up the kubeconfig, as if to change it: %q", backups)
	}
	if r.stdout != "" {
		t.Errorf("setup reported steps: %q", r.stdout)
	}
}

// TestSetupWithRole: the namespace flow with a Role the admin wrote, as in
// the seed guides' Role + RoleBinding.
func TestSetupWithRole(t *testing.T) {
	mustAdmin(t, `apiVersion: v1
kind: Namespace
metadata: {name: team-r}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: configmap-editor, namespace: team-r}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get, list, create, delete]}
`, "apply", "-f", "-")
	u := newUserEnv(t)
	u.adminKubeconfig(t)
	r := u.mustKubemint(t, "setup", "--service-account=team-r/robot", "--source-context=admin", "--role=configmap-editor")
	for _, want := range []string{"unchanged  namespace team-r", "created    rolebinding team-r/kubemint:robot:configmap-editor (Role configmap-editor)", "create, delete, get, list: configmaps"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("setup output lacks %q:\n%s", want, r.stdout)
		}
	}
	ctx := "--context=team-r-robot@local"
	if r := u.kubectl(t, ctx, "create", "configmap", "made-by-robot"); r.code != 0 {
		t.Errorf("create configmap: %s", r.stderr)
	}
	if r := u.kubectl(t, ctx, "get", "pods"); r.code == 0 {
		t.Errorf("get pods succeeded; the Role grants configmaps only")
	}
}

// podReaderClusterRole makes the ClusterRole several tests bind: read pods.
// There is no controller manager, so the aggregated view role is empty.
func podReaderClusterRole(t *testing.T) {
	t.Helper()
	mustAdmin(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-pod-reader}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
`, "apply", "-f", "-")
}

// kubectlWithToken runs kubectl with a bare token and no kubeconfig, as a
// client that holds a copy of the token would.
func (u *userEnv) kubectlWithToken(t *testing.T, token string, args ...string) result {
	t.Helper()
	empty := filepath.Join(u.home, "empty-kubeconfig")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return u.kubectl(t, append([]string{"--kubeconfig=" + empty, "--server=" + w.cp.Server, "--certificate-authority=" + w.cp.CAFile, "--token=" + token}, args...)...)
}
