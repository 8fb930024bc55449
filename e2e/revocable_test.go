package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// TestRevocableWhoeverMinted: an account set up with --revocable and bound
// to the rules edit has on a real cluster cannot mint itself a token that
// outlives revoke; after kubemint revoke no token of it works, whoever
// minted it: setup's context, a self-renewing chain, alice's kubemint use
// and a runner's kubeconfig, within the 20 s docs/security.md allows
// (about 10 s: the API server's authentication cache).
func TestRevocableWhoeverMinted(t *testing.T) {
	editClusterRole(t)
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	mustAdmin(t, `apiVersion: v1
kind: Namespace
metadata: {name: revall}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: runner, namespace: revall}
`, "apply", "-f", "-")
	r := adm.mustKubemint(t, "setup", "--service-account=revall/app", "--source-context=admin", "--cluster-role=e2e-edit",
		"--revocable", "--self-renew", "--duration=10m", "--context-name=app", "--minter=user:alice", "--minter=serviceaccount:revall/runner")
	if !strings.Contains(r.stdout, "created    validatingadmissionpolicy kubemint-revocable.revall.app and its binding (tokens of revall/app must be bound to Secret revall/app-kubemint and last at most 10m0s)") {
		t.Errorf("setup does not report the policy:\n%s", r.stdout)
	}
	for _, want := range []string{
		"kubemint: warning: revall/app may create serviceaccounts/token for any account in namespace revall (RoleBinding revall/kubemint:app:e2e-edit of ClusterRole e2e-edit)",
		"kubemint: warning: revall/app may impersonate",
		"kubemint: warning: revall/app may read secrets",
		// Which of its two grants the authorizer names varies.
		"kubemint: warning: revall/app may create its own serviceaccounts/token in namespace revall (RoleBinding revall/",
		"it can mint its own tokens, which kubemint's admission policy kubemint-revocable.revall.app keeps bound and capped",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("setup's stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "best-effort") {
		t.Errorf("setup says revocation is best-effort on a server that enforces the policy:\n%s", r.stderr)
	}

	// 1. setup's context, through kubectl.
	if r := adm.kubectl(t, "--context=app", "get", "secrets", "-n", "revall"); r.code != 0 {
		t.Fatalf("setup's context: %s", r.stderr)
	}
	self := tokenOf(t, adm.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=revall/app", "--source-context=admin",
		"--duration=10m", "--bound-object-kind=Secret", "--bound-object-name=app-kubemint", "--self-renew").stdout)
	// The account itself, with edit's create on serviceaccounts/token:
	// nothing that would outlive revoke.
	for _, args := range [][]string{
		{"create", "token", "app", "-n", "revall", "--duration=24h"},
		{"create", "token", "app", "-n", "revall", "--duration=10m"},
		{"create", "token", "app", "-n", "revall", "--duration=1h", "--bound-object-kind=Secret", "--bound-object-name=app-kubemint"},
	} {
		if r := adm.kubectlWithToken(t, self, args...); r.code == 0 || !strings.Contains(r.stderr, "kubemint-revocable.revall.app") {
			t.Errorf("the account minted itself %v: exit %d %s", args, r.code, r.stderr)
		}
	}

	// 2. A self-renewing chain, its source gone after the first link.
	chain := newUserEnv(t)
	good := chain.adminKubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	chainArgs := []string{"token", "--service-account=revall/app", "--source-context=admin", "--source-kubeconfig=" + good, "--duration=10m", "--refresh-before=9m58s",
		"--bound-object-kind=Secret", "--bound-object-name=app-kubemint", "--self-renew"}
	first := chain.kubemint(t, info, chainArgs...)
	if first.code != 0 {
		t.Fatal(first.stderr)
	}
	mustRename(t, good, good+".away")
	time.Sleep(2200 * time.Millisecond)
	renewed := chain.kubemint(t, info, append(chainArgs, "-v=4")...)
	if renewed.code != 0 || !strings.Contains(renewed.stderr, "renewed itself") {
		t.Fatalf("the chain did not renew itself: %s", renewed.stderr)
	}
	chainToken := tokenOf(t, renewed.stdout)

	// 3. alice's kubemint use, the line setup printed for her, as written.
	alice := personEnv(t, "alice")
	use := useLineFor(t, r.stdout, "user:alice")
	if !strings.Contains(use, "--revocable") || !strings.Contains(use, "--duration=10m0s") {
		t.Errorf("alice's line does not carry what was set up: %s", use)
	}
	if r := alice.sh(t, use+" --context-name=mine"); r.code != 0 || !strings.Contains(r.stdout, "Its tokens are bound to Secret revall/app-kubemint") {
		t.Fatalf("alice's use: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := alice.kubectl(t, "--context=mine", "get", "secrets", "-n", "revall"); r.code != 0 {
		t.Fatalf("alice's context: %s", r.stderr)
	}

	// 4. A runner, a pod of the cluster as revall/runner: the in-cluster
	// line setup printed, as written.
	runner := newUserEnv(t)
	line := regexp.MustCompile(`(?m)^  (mkdir -p ci && kubemint kubeconfig .*--source-in-cluster.*?) +# `).FindStringSubmatch(r.stdout)
	if line == nil {
		t.Fatalf("setup printed no in-cluster runner line:\n%s", r.stdout)
	}
	if r := adm.sh(t, "cd "+runner.home+" && "+line[1]); r.code != 0 {
		t.Fatalf("the runner line: exit %d: %s", r.code, r.stderr)
	}
	mount := t.TempDir()
	ca, _ := os.ReadFile(w.cp.CAFile)
	podToken, _, err := admin("", "create", "token", "runner", "-n", "revall", "--duration=1h")
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"token": strings.TrimSpace(podToken), "ca.crt": string(ca), "namespace": "revall"} {
		if err := os.WriteFile(filepath.Join(mount, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	host, port := hostPort(t)
	runnerEnv := []string{"KUBECONFIG=" + filepath.Join(runner.home, "ci", "runner-in-cluster.kubeconfig"),
		"KUBEMINT_TEST_SERVICEACCOUNT_DIR=" + mount, "KUBERNETES_SERVICE_HOST=" + host, "KUBERNETES_SERVICE_PORT=" + port}
	if r := runner.run(t, runnerEnv, w.kubectl, "get", "secrets", "-n", "revall"); r.code != 0 {
		t.Fatalf("the runner: %s", r.stderr)
	}

	// Revoke: every one of them stops, within 20 s.
	adm.mustKubemint(t, "revoke", "--service-account=revall/app", "--source-context=admin")
	start := time.Now()
	checks := map[string]func() result{
		"setup's context":      func() result { return adm.kubectl(t, "--context=app", "get", "secrets", "-n", "revall") },
		"setup's token":        func() result { return adm.kubectlWithToken(t, self, "get", "secrets", "-n", "revall") },
		"the chain's token":    func() result { return adm.kubectlWithToken(t, chainToken, "get", "secrets", "-n", "revall") },
		"alice's context":      func() result { return alice.kubectl(t, "--context=mine", "get", "secrets", "-n", "revall") },
		"the runner's kubectl": func() result { return runner.run(t, runnerEnv, w.kubectl, "get", "secrets", "-n", "revall") },
	}
	for len(checks) > 0 {
		for name, check := range checks {
			if check().code != 0 {
				t.Logf("%s stopped working %v after revoke", name, time.Since(start).Round(100*time.Millisecond))
				delete(checks, name)
			}
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("still working 20s after kubemint revoke: %v", keys(checks))
		}
		time.Sleep(500 * time.Millisecond)
	}
	// While revoked, nothing unbound can be minted either: revoke kept
	// the policy.
	if _, stderr, err := admin("", "create", "token", "app", "-n", "revall", "--duration=10m"); err == nil || !strings.Contains(stderr, "kubemint-revocable.revall.app") {
		t.Errorf("an unbound token minted while revoked: %v %s", err, stderr)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// hostPort is the API server's host and port, as a pod's environment
// names them.
func hostPort(t *testing.T) (string, string) {
	t.Helper()
	hp := strings.TrimPrefix(w.cp.Server, "https://")
	i := strings.LastIndex(hp, ":")
	return hp[:i], hp[i+1:]
}

// stepLines are setup's report lines (one per object and the context),
// with a dry run's words mapped to the run's ("would create" is
// "created"), so that a dry run and the run it announces compare equal.
func stepLines(out string) []string {
	var lines []string
	re := regexp.MustCompile(`^(unchanged|created|updated|kept|would create|would update|would keep) +(.*)$`)
	for _, l := range strings.Split(out, "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		word := map[string]string{"would create": "created", "would update": "updated", "would keep": "kept"}[m[1]]
		if word == "" {
			word = m[1]
		}
		lines = append(lines, word+" "+m[2])
	}
	return lines
}

// TestSetupRerunKeepsAndDryRunMatches: a re-run of setup with fewer flags
// (adding a minter) keeps the context's binding and duration, says so,
// and changes the context not at all; each dry run prints the very lines
// the run after it prints. Before, the re-run said "updated context" and
// dropped both, and the dry run said "would update context" where the run
// said "unchanged".
func TestSetupRerunKeepsAndDryRunMatches(t *testing.T) {
	podReaderClusterRole(t)
	u := newUserEnv(t)
	kc := u.adminKubeconfig(t)
	first := []string{"setup", "--service-account=rerun/app", "--source-context=admin", "--cluster-role=e2e-pod-reader", "--revocable", "--duration=30m", "--context-name=app"}
	again := []string{"setup", "--service-account=rerun/app", "--source-context=admin", "--context-name=app", "--minter=user:bob"}
	for i, args := range [][]string{first, again, again} {
		dry := u.mustKubemint(t, append(args, "--dry-run")...)
		real := u.mustKubemint(t, args...)
		d, r := stepLines(dry.stdout), stepLines(real.stdout)
		if strings.Join(d, "\n") != strings.Join(r, "\n") || len(r) == 0 {
			t.Errorf("run %d: the dry run's lines\n%s\ndiffer from the run's\n%s", i, strings.Join(d, "\n"), strings.Join(r, "\n"))
		}
		if i == 0 {
			// A hand-added --allow-server, which setup has no flag for.
			b, _ := os.ReadFile(kc)
			// Where the entry's codec puts it (credential.Options.Args).
			edited := strings.Replace(string(b), "      - --duration=30m0s\n", "      - --allow-server=https://k8s.alias.example\n      - --duration=30m0s\n", 1)
			if edited == string(b) {
				t.Fatalf("no args to add to:\n%s", b)
			}
			if err := os.WriteFile(kc, []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if i == 1 {
			for _, want := range []string{
				"kept --revocable --duration=30m0s --allow-server=https://k8s.alias.example, as set up before",
				"unchanged context app in " + kc,
				"unchanged validatingadmissionpolicy kubemint-revocable.rerun.app",
				"created role rerun/kubemint-minter-app",
			} {
				if !strings.Contains(strings.Join(r, "\n"), want) {
					t.Errorf("the re-run's lines lack %q:\n%s", want, strings.Join(r, "\n"))
				}
			}
		}
		if i == 2 && !strings.Contains(real.stdout, "Nothing changed") {
			t.Errorf("the third run changed something:\n%s", real.stdout)
		}
	}
	b, _ := os.ReadFile(kc)
	var cfg struct {
		Users []struct {
			Name string
			User struct{ Exec struct{ Args []string } }
		}
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, u := range cfg.Users {
		if u.Name == "app" {
			args := strings.Join(u.User.Exec.Args, " ")
			if !strings.Contains(args, "--bound-object-name=app-kubemint") || !strings.Contains(args, "--duration=30m0s") || !strings.Contains(args, "--allow-server=https://k8s.alias.example") {
				t.Errorf("the re-run dropped the binding, the duration or --allow-server: %s", args)
			}
		}
	}
	// Saying it drops it.
	r := u.mustKubemint(t, "setup", "--service-account=rerun/app", "--source-context=admin", "--context-name=app", "--duration=1h")
	if !strings.Contains(r.stdout, "kept       --revocable --allow-server=https://k8s.alias.example,") || !strings.Contains(r.stdout, "updated    context app") {
		t.Errorf("--duration=1h set explicitly:\n%s", r.stdout)
	}
}

// TestNextStepLinesRunAsPasted: every command setup prints for what comes
// next runs as pasted into bash: alice's kubemint use, and the kubemint
// kubeconfig line for each kind of runner. A service account minter gets
// no use line, and one that does not exist a warning.
func TestNextStepLinesRunAsPasted(t *testing.T) {
	podReaderClusterRole(t)
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	r := adm.mustKubemint(t, "setup", "--service-account=steps/app", "--source-context=admin", "--cluster-role=e2e-pod-reader", "--revocable", "--duration=20m",
		"--minter=user:alice", "--minter=serviceaccount:steps/ghost")
	if !strings.Contains(r.stderr, "kubemint: warning: the minter serviceaccount:steps/ghost does not exist on "+w.cp.Server) {
		t.Errorf("no warning for a minter that does not exist:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "# serviceaccount:steps/ghost") {
		t.Errorf("a use line for a service account:\n%s", r.stdout)
	}
	var lines []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "  kubemint ") || strings.HasPrefix(l, "  mkdir ") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) != 4 {
		t.Fatalf("want 1 use line and 3 runner lines, got %d:\n%s", len(lines), r.stdout)
	}
	alice := personEnv(t, "alice")
	for _, l := range lines {
		if !strings.Contains(l, "--revocable") || !strings.Contains(l, "--duration=20m0s") {
			t.Errorf("the line does not carry what was set up: %s", l)
		}
		who := adm
		if strings.HasPrefix(l, "kubemint use") {
			who = alice
		}
		if r := who.run(t, nil, "bash", "-c", "cd "+who.home+" && "+l); r.code != 0 {
			t.Errorf("pasted into bash, %q: exit %d: %s", l, r.code, r.stderr)
		}
	}
	for _, f := range []string{"runner-github-actions", "runner-token-env", "runner-in-cluster"} {
		if _, err := os.Stat(filepath.Join(adm.home, "ci", f+".kubeconfig")); err != nil {
			t.Errorf("the runner line did not write %s: %v", f, err)
		}
	}
}

// TestSetupWarnsOfAnEmptyRole: a ClusterRole with no rules (this control
// plane has no controller manager, so its aggregated edit is empty, as on a
// cluster that aggregated nothing into it) binds nothing: setup says so,
// naming the role, instead of passing quietly.
func TestSetupWarnsOfAnEmptyRole(t *testing.T) {
	u := newUserEnv(t)
	u.adminKubeconfig(t)
	r := u.mustKubemint(t, "setup", "--service-account=empty/app", "--source-context=admin", "--cluster-role=edit")
	if !strings.Contains(r.stderr, "kubemint: warning: the ClusterRole edit grants nothing on "+w.cp.Server) {
		t.Errorf("no warning naming the empty role:\n%s", r.stderr)
	}
}

// TestRevocableBestEffortSaysWhy: a source that may create everything
// setup makes but ValidatingAdmissionPolicies gets its revocable account
// all the same, and one warning that revocation is then best-effort, and
// why; the dry run warns the same.
func TestRevocableBestEffortSaysWhy(t *testing.T) {
	podReaderClusterRole(t)
	mustAdmin(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-no-admission}
rules:
- {apiGroups: ["", rbac.authorization.k8s.io, authorization.k8s.io, authentication.k8s.io], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-no-admission}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-no-admission}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: nsadmin}]
`, "apply", "-f", "-")
	u := personEnv(t, "nsadmin")
	args := []string{"setup", "--service-account=besteffort/app", "--cluster-role=e2e-pod-reader", "--revocable"}
	for _, dry := range []bool{true, false} {
		a := args
		if dry {
			a = append(a, "--dry-run")
		}
		r := u.mustKubemint(t, a...)
		if got := strings.Count(r.stderr, "best-effort"); got != 1 || !strings.Contains(r.stderr, "kubemint: warning: revocation of besteffort/app is best-effort: ") || !strings.Contains(r.stderr, "may not get validatingadmissionpolicies") {
			t.Errorf("dry run %v: want one best-effort warning that says why:\n%s", dry, r.stderr)
		}
		if strings.Contains(r.stdout, "validatingadmissionpolicy") {
			t.Errorf("dry run %v: a policy line without a policy:\n%s", dry, r.stdout)
		}
	}
}
