package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kubemint/kubemint/exchange"
)

// editRole is the ClusterRole e2e-edit with the rules that
// system:aggregate-to-edit has in Kubernetes 1.37 (bootstrappolicy's
// editRules with that release's default feature gates: DRA on, the alpha
// and beta scheduling and eviction APIs off), which a real cluster
// aggregates into edit. This control plane runs no controller manager, so
// its own edit stays empty: tests bind this one instead.
const editRole = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-edit}
rules:
- apiGroups: [""]
  resources: [pods/attach, pods/proxy, pods/exec, pods/portforward, secrets, services/proxy]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [impersonate]
- apiGroups: [""]
  resources: [pods, pods/attach, pods/proxy, pods/exec, pods/portforward]
  verbs: [create, update, patch, delete, deletecollection]
- apiGroups: [""]
  resources: [pods/eviction]
  verbs: [create]
- apiGroups: [""]
  resources: [replicationcontrollers, replicationcontrollers/scale, serviceaccounts, services, services/proxy, persistentvolumeclaims, configmaps, secrets]
  verbs: [create, update, patch, delete, deletecollection]
- apiGroups: [""]
  resources: [serviceaccounts/token]
  verbs: [create]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, update, patch, delete, deletecollection]
- apiGroups: [apps]
  resources: [statefulsets, statefulsets/scale, daemonsets, deployments, deployments/scale, deployments/rollback, replicasets, replicasets/scale]
  verbs: [create, update, patch, delete, deletecollection]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [create, update, patch, delete, deletecollection]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [create, update, patch, delete, deletecollection]
- apiGroups: [extensions]
  resources: [daemonsets, deployments, deployments/scale, deployments/rollback, ingresses, replicasets, replicasets/scale, replicationcontrollers/scale, networkpolicies]
  verbs: [create, update, patch, delete, deletecollection]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [create, update, patch, delete, deletecollection]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies, ingresses]
  verbs: [create, update, patch, delete, deletecollection]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, list, watch, create, update, patch, delete, deletecollection]
- apiGroups: [resource.k8s.io]
  resources: [resourceclaims, resourceclaimtemplates]
  verbs: [create, update, patch, delete, deletecollection]
`

func editClusterRole(t *testing.T) {
	t.Helper()
	mustAdmin(t, editRole, "apply", "-f", "-")
}

// adminClient is an exchange.Client with the control plane's admin.
func adminClient(t *testing.T) *exchange.Client {
	t.Helper()
	src, err := exchange.LoadSource(w.cp.AdminKubeconfig, "admin")
	if err != nil {
		t.Fatal(err)
	}
	c, err := exchange.NewClient(src.Config, src.Label, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRevocationPolicy: with kubemint's ValidatingAdmissionPolicy for
// pol/app, the account, bound to the rules edit has on a real cluster
// (create serviceaccounts/token, create secrets), cannot mint itself a
// token that revoke would not kill: unbound, bound elsewhere, longer than
// the cap, or a legacy token Secret. Neither can the admin. Bound tokens
// within the cap still mint, and nothing else is touched: other accounts'
// tokens and ordinary Secrets. Ensuring the policy twice changes nothing.
func TestRevocationPolicy(t *testing.T) {
	editClusterRole(t)
	mustAdmin(t, `apiVersion: v1
kind: Namespace
metadata: {name: pol}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: pol}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: other, namespace: pol}
---
apiVersion: v1
kind: Secret
metadata: {name: app-kubemint, namespace: pol}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-edit, namespace: pol}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-edit}
subjects: [{kind: ServiceAccount, name: app, namespace: pol}]
`, "apply", "-f", "-")
	ctx := context.Background()
	c := adminClient(t)
	served, err := c.ServesAdmissionPolicies(ctx)
	if err != nil || !served {
		t.Fatalf("the API server does not serve ValidatingAdmissionPolicies: %v, %v", served, err)
	}
	if err := c.ProbeRevocationPolicy(ctx, "pol", "app", 0); err != exchange.ErrNotEnforced {
		t.Fatalf("before the policy, the probe says %v, want ErrNotEnforced", err)
	}
	created, updated, err := c.EnsureRevocationPolicy(ctx, "pol", "app", 30*time.Minute, true)
	if err != nil || !created || updated {
		t.Fatalf("first ensure: created %v updated %v: %v", created, updated, err)
	}
	if err := c.ProbeRevocationPolicy(ctx, "pol", "app", 10*time.Second); err != nil {
		t.Fatalf("the API server does not enforce the policy: %v", err)
	}
	for i, apply := range []bool{false, true} {
		if created, updated, err := c.EnsureRevocationPolicy(ctx, "pol", "app", 30*time.Minute, apply); err != nil || created || updated {
			t.Errorf("ensure again (%d): created %v updated %v: %v", i, created, updated, err)
		}
	}
	if _, updated, err := c.EnsureRevocationPolicy(ctx, "pol", "app", 30*time.Minute+time.Second, false); err != nil || !updated {
		t.Errorf("a new cap, dry: updated %v: %v", updated, err)
	}

	u := newUserEnv(t)
	bound := []string{"--bound-object-kind=Secret", "--bound-object-name=app-kubemint"}
	adminTok, _, err := admin("", append([]string{"create", "token", "app", "-n", "pol", "--duration=30m"}, bound...)...)
	if err != nil {
		t.Fatalf("the admin cannot mint a bound token within the cap: %v", err)
	}
	self := strings.TrimSpace(adminTok)
	if who := u.kubectlWithToken(t, self, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); who.stdout != "system:serviceaccount:pol:app" {
		t.Fatalf("the bound token is %q: %s", who.stdout, who.stderr)
	}

	legacy := func(account string) string {
		return `apiVersion: v1
kind: Secret
metadata:
  name: ` + account + `-legacy
  namespace: pol
  annotations: {kubernetes.io/service-account.name: ` + account + `}
type: kubernetes.io/service-account-token
`
	}
	policy := exchange.RevocationPolicyName("pol", "app")
	for _, tt := range []struct {
		name  string
		stdin string
		args  []string
		// deny is what the refusal must say; empty: allowed.
		deny string
	}{
		{name: "unbound, the server's default duration", args: []string{"create", "token", "app", "-n", "pol"}, deny: "must be bound to Secret pol/app-kubemint"},
		{name: "unbound, 24h", args: []string{"create", "token", "app", "-n", "pol", "--duration=24h"}, deny: "must be bound to Secret pol/app-kubemint"},
		{name: "bound to another Secret", args: []string{"create", "token", "app", "-n", "pol", "--duration=20m", "--bound-object-kind=Secret", "--bound-object-name=app-legacy"}, deny: "must be bound to Secret pol/app-kubemint"},
		{name: "bound, over the cap", args: append([]string{"create", "token", "app", "-n", "pol", "--duration=31m"}, bound...), deny: "may last at most 30m0s"},
		{name: "bound, no duration counts as 1h", args: append([]string{"create", "token", "app", "-n", "pol"}, bound...), deny: "may last at most 30m0s"},
		{name: "legacy token Secret", stdin: legacy("app"), args: []string{"create", "-f"}, deny: "never expires"},
		{name: "bound, within the cap", args: append([]string{"create", "token", "app", "-n", "pol", "--duration=20m"}, bound...)},
		{name: "another account, unbound", args: []string{"create", "token", "other", "-n", "pol", "--duration=24h"}},
		{name: "another account's legacy token Secret", stdin: legacy("other"), args: []string{"create", "-f"}},
		{name: "an ordinary Secret", stdin: "apiVersion: v1\nkind: Secret\nmetadata: {name: plain, namespace: pol}\n", args: []string{"create", "-f"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.stdin != "" {
				file := filepath.Join(u.home, "manifest.yaml")
				if err := os.WriteFile(file, []byte(tt.stdin), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, file)
			}
			cleanup := func() { admin("", "delete", "secret", "-n", "pol", "--ignore-not-found", "plain", "other-legacy") }
			// As the account itself, with its bound token: what edit allows.
			r := u.kubectlWithToken(t, self, args...)
			checkDenial(t, "the account", r.code, r.stderr, tt.deny, policy)
			cleanup()
			// As the admin: the policy holds for every requester.
			_, stderr, err := admin("", args...)
			code := 0
			if err != nil {
				code = 1
			}
			checkDenial(t, "the admin", code, stderr, tt.deny, policy)
			cleanup()
		})
	}
}

// checkDenial checks that a kubectl call was refused by the policy,
// naming it and saying why, when deny is set, and succeeded otherwise.
func checkDenial(t *testing.T, who string, code int, stderr, deny, policy string) {
	t.Helper()
	switch {
	case deny == "" && code != 0:
		t.Errorf("%s was refused: %s", who, stderr)
	case deny != "" && code == 0:
		t.Errorf("%s was allowed, want refused (%s)", who, deny)
	case deny != "" && (!strings.Contains(stderr, deny) || !strings.Contains(stderr, policy)):
		t.Errorf("%s's refusal does not name the policy %s and say %q:\n%s", who, policy, deny, stderr)
	}
}

// TestRisks: the rules edit has on a real cluster undermine revocable
// tokens in five ways, each found and named with the role that grants it;
// a role that reads pods undermines nothing. The admin asks with
// SubjectAccessReviews, the account itself with SelfSubjectAccessReviews,
// and both get the same answer.
func TestRisks(t *testing.T) {
	editClusterRole(t)
	podReaderClusterRole(t)
	mustAdmin(t, `apiVersion: v1
kind: Namespace
metadata: {name: risk}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: editor, namespace: risk}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: risk}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: editor-edit, namespace: risk}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-edit}
subjects: [{kind: ServiceAccount, name: editor, namespace: risk}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-pods, namespace: risk}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-pod-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: risk}]
`, "apply", "-f", "-")
	ctx := context.Background()
	c := adminClient(t)
	mays := func(rs []exchange.Risk) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.May)
		}
		return out
	}
	wantEdit := []string{"create its own serviceaccounts/token", "create serviceaccounts/token for any account", "impersonate", "create secrets", "read secrets", "create pods or workloads"}
	got, err := c.Risks(ctx, "risk", "editor", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := strings.Join(mays(got), "|"); diff != strings.Join(wantEdit, "|") {
		t.Errorf("edit's risks:\n got %q\nwant %q", mays(got), wantEdit)
	}
	for _, r := range got {
		if line := r.Line("risk/editor", "risk"); !strings.Contains(line, `(RoleBinding risk/editor-edit of ClusterRole e2e-edit)`) {
			t.Errorf("the line does not name the grant: %s", line)
		}
	}
	if got, err := c.Risks(ctx, "risk", "reader", true, false); err != nil || len(got) != 0 {
		t.Errorf("a pod reader's risks: %q, %v", mays(got), err)
	}
	// The account asks for itself, with a token of its own.
	tok, _, err := admin("", "create", "token", "editor", "-n", "risk", "--duration=10m")
	if err != nil {
		t.Fatal(err)
	}
	self, err := exchange.NewClient(exchange.AsToken(mustConfig(t), strings.TrimSpace(tok)), "editor", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := self.Risks(ctx, "risk", "editor", false, false); err != nil || strings.Join(mays(got), "|") != strings.Join(wantEdit, "|") {
		t.Errorf("edit's risks, as itself: %q, %v", mays(got), err)
	}
}

// mustConfig is the admin's client configuration.
func mustConfig(t *testing.T) *rest.Config {
	t.Helper()
	src, err := exchange.LoadSource(w.cp.AdminKubeconfig, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return src.Config
}
