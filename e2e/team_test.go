package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/exchange"
)

// personEnv is a user's shell whose ~/.kube/config holds only their own
// client certificate (CN user), as a teammate's laptop would: no admin
// context, and no RBAC right at all unless a test grants one.
func personEnv(t *testing.T, user string) *userEnv {
	t.Helper()
	cert, key, err := w.cp.ClientCert(user)
	if err != nil {
		t.Fatal(err)
	}
	u := newUserEnv(t)
	path := filepath.Join(u.home, ".kube", "config")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: %q, certificate-authority: %q}
users:
- name: %[3]s
  user: {client-certificate: %q, client-key: %q}
contexts:
- name: %[3]s
  context: {cluster: local, user: %[3]s}
current-context: %[3]s
`, w.cp.Server, w.cp.CAFile, user, cert, key)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return u
}

// sh runs a command line as a user would type it.
func (u *userEnv) sh(t *testing.T, line string, extraEnv ...string) result {
	t.Helper()
	return u.run(t, extraEnv, "sh", "-c", line)
}

// useLineFor finds, in setup's output, the command it printed for minter.
func useLineFor(t *testing.T, setupOut, minter string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  (kubemint use .*?) +# ` + regexp.QuoteMeta(minter) + `$`).FindStringSubmatch(setupOut)
	if m == nil {
		t.Fatalf("setup printed no kubemint use line for %s:\n%s", minter, setupOut)
	}
	return m[1]
}

// TestTeamMinterUse: the admin grants alice the right to mint one account's
// tokens; alice, whose kubeconfig holds only her certificate, runs the line
// setup printed for her, as written, and her new context acts as the
// account. A second setup changes nothing.
func TestTeamMinterUse(t *testing.T) {
	podReaderClusterRole(t)
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	args := []string{"setup", "--service-account=team-t/app", "--source-context=admin", "--cluster-role=e2e-pod-reader", "--minter=user:alice"}
	r := adm.mustKubemint(t, args...)
	for _, want := range []string{
		"created    role team-t/kubemint-minter-app (create on serviceaccounts/token named app)",
		"created    rolebinding team-t/kubemint-minter-app-user-alice-8f3796ff205d (user:alice may mint)",
		"get, list, watch: ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("setup output lacks %q:\n%s", want, r.stdout)
		}
	}
	line := useLineFor(t, r.stdout, "user:alice")

	alice := personEnv(t, "alice")
	// Her $KUBECONFIG lists a file of someone else's first: the new
	// context goes into the file her source context came from.
	shared := filepath.Join(alice.home, "shared.kubeconfig")
	writeKubeconfig(t, shared, w.cp.Server, w.cp.CAFile)
	sharedBefore, _ := os.ReadFile(shared)
	sharedNoCurrent := strings.Replace(string(sharedBefore), "current-context: deployer\n", "", 1)
	if err := os.WriteFile(shared, []byte(sharedNoCurrent), 0o600); err != nil {
		t.Fatal(err)
	}
	alice.vars = append(alice.vars, "KUBECONFIG="+shared+string(os.PathListSeparator)+filepath.Join(alice.home, ".kube", "config"))
	if r := alice.kubectl(t, "get", "namespaces"); r.code == 0 {
		t.Fatalf("alice may list namespaces: she should have no right but minting")
	}
	u := alice.sh(t, line)
	if u.code != 0 {
		t.Fatalf("%s: exit %d: %s%s", line, u.code, u.stdout, u.stderr)
	}
	kc := filepath.Join(alice.home, ".kube", "config")
	for _, want := range []string{"created    context team-t-app@local in " + kc, "kubectl --context team-t-app@local acts as system:serviceaccount:team-t:app."} {
		if !strings.Contains(u.stdout, want) {
			t.Errorf("kubemint use output lacks %q:\n%s", want, u.stdout)
		}
	}
	if b, _ := os.ReadFile(shared); string(b) != sharedNoCurrent {
		t.Errorf("kubemint use wrote into %s, the first file of KUBECONFIG, not the one its source came from", shared)
	}
	backups, _ := filepath.Glob(kc + ".kubemint-backup-*")
	if len(backups) != 1 {
		t.Errorf("kubemint use kept %d backups of the kubeconfig it edited, want 1", len(backups))
	}
	before := tokenRequests(t)
	if got := whoami(t, alice, "--context", "team-t-app@local"); got != "system:serviceaccount:team-t:app" {
		t.Errorf("whoami = %q", got)
	}
	if r := alice.kubectl(t, "--context", "team-t-app@local", "get", "pods"); r.code != 0 {
		t.Errorf("get pods as the account: %s", r.stderr)
	}
	if n := tokenRequests(t) - before; n != 0 {
		t.Errorf("kubectl minted %v tokens after kubemint use; its mint should have primed the cache", n)
	}

	// Run again at -v=10: nothing changes, and no token is printed.
	v := alice.sh(t, line+" -v=10")
	if v.code != 0 || !strings.Contains(v.stdout, "unchanged  context team-t-app@local") {
		t.Errorf("%s -v=10 again: exit %d: %s%s", line, v.code, v.stdout, v.stderr)
	}
	if strings.Contains(v.stdout+v.stderr, "eyJ") {
		t.Errorf("kubemint use -v=10 printed a JWT:\n%s%s", v.stdout, v.stderr)
	}

	again := adm.mustKubemint(t, args...)
	if strings.Contains(again.stdout, "created ") || strings.Contains(again.stdout, "updated ") || !strings.Contains(again.stdout, "Nothing changed") {
		t.Errorf("second setup:\n%s", again.stdout)
	}
	subjects, _, _ := admin("", "get", "rolebinding", "kubemint-minter-app-user-alice-8f3796ff205d", "-n", "team-t", "-o", "jsonpath={.subjects[*].name}")
	if subjects != "alice" {
		t.Errorf("the minter binding's subjects = %q, want alice", subjects)
	}
}

// TestTeamUseWithoutTheRight: a teammate nobody granted gets one line that
// names the missing rule and the setup line an admin runs; nothing is
// written.
func TestTeamUseWithoutTheRight(t *testing.T) {
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	adm.mustKubemint(t, "setup", "--service-account=team-n/app", "--source-context=admin")
	bob := personEnv(t, "bob")
	kc := filepath.Join(bob.home, ".kube", "config")
	before, _ := os.ReadFile(kc)
	r := bob.sh(t, "kubemint use --service-account=team-n/app")
	oneErrorLine(t, r, `(bob) may not mint tokens for team-n/app`,
		"it needs create on serviceaccounts/token named app in namespace team-n",
		"kubemint setup --service-account=team-n/app --source-context=ADMIN --minter=user:bob")
	if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("want one line:\n%s", r.stderr)
	}
	if after, _ := os.ReadFile(kc); string(after) != string(before) {
		t.Errorf("kubemint use changed the kubeconfig though it could not mint")
	}
}

// TestTeamMinterNeverWidens: a RoleBinding of the minter binding's name that
// binds someone else is not changed: setup stops, naming it.
func TestTeamMinterNeverWidens(t *testing.T) {
	mustAdmin(t, `apiVersion: v1
kind: Namespace
metadata: {name: team-w}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kubemint-minter-app-user-carol-44baab075840, namespace: team-w}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kubemint-minter-app}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: dave}
`, "apply", "-f", "-")
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	r := adm.kubemint(t, "", "setup", "--service-account=team-w/app", "--source-context=admin", "--minter=user:carol")
	if r.code == 0 || !strings.Contains(r.stderr, "rolebinding team-w/kubemint-minter-app-user-carol-44baab075840 exists and binds Role \"kubemint-minter-app\" to user:dave, not only user:carol") ||
		!strings.Contains(r.stderr, "kubemint: hint: ") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "nothing was created") {
		t.Errorf("setup did not stop before creating: %s", r.stderr)
	}
	if _, stderr, err := admin("", "get", "serviceaccount", "app", "-n", "team-w"); err == nil || !strings.Contains(stderr, "NotFound") {
		t.Errorf("setup created the service account before finding the binding (%v %s)", err, stderr)
	}
	subjects, _, _ := admin("", "get", "rolebinding", "kubemint-minter-app-user-carol-44baab075840", "-n", "team-w", "-o", "jsonpath={.subjects[*].name}")
	if subjects != "dave" {
		t.Errorf("the binding's subjects became %q; want dave alone", subjects)
	}
}

// TestTeamRunnerKubeconfig: kubemint kubeconfig, made on the admin's
// machine without touching the cluster, works on a "runner": a fresh home
// with only that kubeconfig, kubemint on PATH and the runner's own minting
// credential (a file, or a variable). It holds nothing of the admin's.
func TestTeamRunnerKubeconfig(t *testing.T) {
	podReaderClusterRole(t)
	adm := newUserEnv(t)
	akc := adm.adminKubeconfig(t)
	adm.mustKubemint(t, "setup", "--service-account=team-r2/app", "--source-context=admin", "--cluster-role=e2e-pod-reader", "--revocable", "--minter=serviceaccount:team-r2/runner")
	mustAdmin(t, "", "create", "serviceaccount", "runner", "-n", "team-r2")
	runnerToken, stderr, err := admin("", "create", "token", "runner", "-n", "team-r2", "--duration=1h")
	if err != nil {
		t.Fatalf("kubectl create token: %v: %s", err, stderr)
	}
	runnerToken = strings.TrimSpace(runnerToken)

	for _, tc := range []struct {
		name   string
		source string
		env    func(runner *userEnv) []string
		// revocable: the runner's tokens are bound to setup's Secret, and
		// kubemint revoke kills them.
		revocable bool
	}{
		{name: "token file", source: "--source-token-file=/run/runner/token", env: func(runner *userEnv) []string {
			// The path names the runner's file; the test puts it in the
			// runner's home and points the flag there below.
			return nil
		}},
		{name: "token env", source: "--source-token-env=RUNNER_TOKEN", env: func(*userEnv) []string { return []string{"RUNNER_TOKEN=" + runnerToken} }},
		{name: "revocable", source: "--source-token-env=RUNNER_TOKEN", env: func(*userEnv) []string { return []string{"RUNNER_TOKEN=" + runnerToken} }, revocable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runner := newUserEnv(t)
			source := tc.source
			if strings.HasPrefix(source, "--source-token-file=") {
				f := filepath.Join(runner.home, "token")
				if err := os.WriteFile(f, []byte(runnerToken), 0o600); err != nil {
					t.Fatal(err)
				}
				source = "--source-token-file=" + f
			}
			out := filepath.Join(t.TempDir(), "runner.kubeconfig")
			// The account is revocable, and its admission policy refuses
			// a runner's unbound tokens, so every runner binds them.
			kargs := []string{"kubeconfig", "--service-account=team-r2/app", "--from-context=admin", source, "-o", out, "--revocable"}
			r := adm.mustKubemint(t, kargs...)
			if !strings.Contains(r.stdout, "created    kubeconfig "+out) {
				t.Errorf("kubemint kubeconfig output:\n%s", r.stdout)
			}
			b, _ := os.ReadFile(out)
			for _, want := range []string{"command: kubemint\n", "provideClusterInfo: true", "interactiveMode: Never", "the .deb or .rpm package of a release", "go install github.com/kubemint/kubemint/cmd/...@latest", "certificate-authority-data:", source} {
				if !strings.Contains(string(b), want) {
					t.Errorf("the runner's kubeconfig lacks %q:\n%s", want, b)
				}
			}
			for _, never := range []string{adm.home, akc, "--source-context", "--source-kubeconfig", w.cp.Dir, "client-key"} {
				if strings.Contains(string(b), never) {
					t.Errorf("the runner's kubeconfig holds the admin's %q:\n%s", never, b)
				}
			}
			runner.vars = append(runner.vars, "KUBECONFIG="+out)
			env := tc.env(runner)
			if r := runner.run(t, env, w.kubectl, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); r.code != 0 || r.stdout != "system:serviceaccount:team-r2:app" {
				t.Errorf("whoami on the runner: exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
			if r := runner.run(t, env, w.kubectl, "get", "pods"); r.code != 0 {
				t.Errorf("get pods on the runner: %s", r.stderr)
			}
			if tc.revocable {
				adm.mustKubemint(t, "revoke", "--service-account=team-r2/app", "--source-context=admin")
				// The API server sees the Secret gone within seconds.
				for start := time.Now(); ; time.Sleep(500 * time.Millisecond) {
					if r := runner.run(t, env, w.kubectl, "get", "pods"); r.code != 0 {
						break
					}
					if time.Since(start) > 20*time.Second {
						t.Fatalf("the runner's kubectl still works %v after kubemint revoke", time.Since(start))
					}
				}
				return
			}
			// A runner without kubemint: kubectl shows the installHint,
			// not only fork/exec's "no such file or directory".
			bare := newUserEnv(t)
			bare.vars = append(environWithout("HOME", "PATH", "DBUS_SESSION_BUS_ADDRESS"), "HOME="+bare.home, "PATH=/usr/bin:/bin", "KUBECONFIG="+out)
			if r := bare.run(t, env, w.kubectl, "get", "pods"); r.code == 0 || !strings.Contains(r.stderr, "the .deb or .rpm package of a release") {
				t.Errorf("kubectl on a runner without kubemint: exit %d: %s", r.code, r.stderr)
			}
		})
	}

	// --force: the same content is no change; other content needs it.
	out := filepath.Join(t.TempDir(), "runner.kubeconfig")
	base := []string{"kubeconfig", "--service-account=team-r2/app", "--from-context=admin", "-o", out}
	adm.mustKubemint(t, append(base, "--source-token-env=A")...)
	if r := adm.mustKubemint(t, append(base, "--source-token-env=A")...); !strings.Contains(r.stdout, "unchanged  kubeconfig") {
		t.Errorf("the same kubeconfig again: %s", r.stdout)
	}
	r := adm.kubemint(t, "", append(base, "--source-token-env=B")...)
	if r.code == 0 || !strings.Contains(r.stderr, "not writing over "+out) || !strings.Contains(r.stderr, "kubemint: hint: pass --force") {
		t.Errorf("other content without --force: exit %d: %s", r.code, r.stderr)
	}
	if r := adm.mustKubemint(t, append(base, "--source-token-env=B", "--force")...); !strings.Contains(r.stdout, "updated    kubeconfig") {
		t.Errorf("with --force: %s", r.stdout)
	}
	// And setup --kubeconfig-out: the file exists with other content.
	r = adm.kubemint(t, "", "setup", "--service-account=team-r2/app", "--source-context=admin", "--kubeconfig-out="+out)
	if r.code == 0 || !strings.Contains(r.stderr, "pass --force") {
		t.Errorf("setup --kubeconfig-out over another file without --force: exit %d: %s", r.code, r.stderr)
	}
	r = adm.mustKubemint(t, "setup", "--service-account=team-r2/app", "--source-context=admin", "--kubeconfig-out="+out, "--force")
	if !strings.Contains(r.stdout, "updated    context team-r2-app@local in "+out) || !strings.Contains(r.stdout, "kubectl --kubeconfig="+out+" --context=team-r2-app@local acts as") {
		t.Errorf("setup --kubeconfig-out --force:\n%s", r.stdout)
	}
}

// TestTeamSetupDryRunAndChecks: --dry-run creates nothing; a source that
// may not create everything, or a Role in a namespace that does not exist
// yet, stops setup before it creates anything.
func TestTeamSetupDryRunAndChecks(t *testing.T) {
	podReaderClusterRole(t)
	adm := newUserEnv(t)
	kc := adm.adminKubeconfig(t)
	before, _ := os.ReadFile(kc)
	r := adm.mustKubemint(t, "setup", "--dry-run", "--service-account=team-d/app", "--source-context=admin", "--cluster-role=e2e-pod-reader", "--minter=user:alice", "--revocable")
	for _, want := range []string{"would create  namespace team-d", "would create  serviceaccount team-d/app", "would create  rolebinding team-d/kubemint-minter-app-user-alice-8f3796ff205d", "would create  secret team-d/app-kubemint", "would create  context team-d-app@local in " + kc, "Its exec entry would run: ", "Dry run: nothing was created or written."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if _, stderr, err := admin("", "get", "namespace", "team-d"); err == nil || !strings.Contains(stderr, "NotFound") {
		t.Errorf("the dry run created namespace team-d (%v %s)", err, stderr)
	}
	if after, _ := os.ReadFile(kc); string(after) != string(before) {
		t.Errorf("the dry run wrote the kubeconfig")
	}

	// A source with no rights: nothing is created.
	adm.vars = append(adm.vars, "KUBECONFIG="+adm.kubeconfig(t))
	r = adm.kubemint(t, "", "setup", "--service-account=team-h/app", "--source-context=nobody", "--minter=user:alice")
	if r.code == 0 || !strings.Contains(r.stderr, "may not get namespaces, create namespaces, get serviceaccounts in namespace team-h, create serviceaccounts in namespace team-h") || !strings.Contains(r.stderr, "nothing was created") {
		t.Errorf("setup with a source that may not: exit %d: %s", r.code, r.stderr)
	}
	// The old recipe's mistake: a Role in a namespace that is not there.
	r = adm.kubemint(t, "", "setup", "--service-account=team-h/app", "--source-context=admin", "--role=developer")
	if r.code == 0 || !strings.Contains(r.stderr, "the Role team-h/developer was not found") || !strings.Contains(r.stderr, "kubectl create namespace team-h, then kubectl create role developer -n team-h") {
		t.Errorf("setup with a missing Role: exit %d: %s", r.code, r.stderr)
	}
	if _, stderr, err := admin("", "get", "namespace", "team-h"); err == nil || !strings.Contains(stderr, "NotFound") {
		t.Errorf("a failed setup left namespace team-h behind (%v %s)", err, stderr)
	}
}

// TestTeamRecipe runs the "A teammate" recipe of docs/recipes.md as
// written: its sh block is read from the file, each command run by whom
// its comment names (the admin, or alice with only her certificate).
func TestTeamRecipe(t *testing.T) {
	block := recipeBlock(t, "## A teammate")
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	alice := personEnv(t, "alice")
	var who *userEnv
	ran := 0
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "# as the admin"):
			who = adm
		case strings.HasPrefix(line, "# as alice"):
			who = alice
		case strings.HasPrefix(line, "#"):
			t.Fatalf("recipe comment names no one the test knows: %q", line)
		default:
			if who == nil {
				t.Fatalf("recipe line before any '# as ...' comment: %q", line)
			}
			r := who.sh(t, line)
			if r.code != 0 {
				t.Fatalf("recipe line %q: exit %d: %s%s", line, r.code, r.stdout, r.stderr)
			}
			// alice's first whoami names her, for the admin's --minter;
			// the last, through the new context, names the account.
			if strings.HasPrefix(line, "kubectl") && strings.Contains(line, "auth whoami") {
				want := "alice"
				if strings.Contains(line, "--context=team-b-app") {
					want = "system:serviceaccount:team-b:app"
				}
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%q printed, without %q:\n%s", line, want, r.stdout)
				}
			}
			ran++
		}
	}
	if ran != 4 {
		t.Errorf("ran %d recipe lines, want 4 (whoami, setup, use, kubectl)", ran)
	}
}

// recipeBlock is the first ```sh block after heading in docs/recipes.md.
func recipeBlock(t *testing.T, heading string) string {
	t.Helper()
	f, err := os.Open("../docs/recipes.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	state := 0 // 0: before the heading, 1: before the block, 2: in it
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case state == 0 && strings.HasPrefix(l, heading):
			state = 1
		case state == 1 && l == "```sh":
			state = 2
		case state == 2 && l == "```":
			return b.String()
		case state == 2:
			b.WriteString(l + "\n")
		}
	}
	t.Fatalf("no sh block under %q in docs/recipes.md", heading)
	return ""
}

// TestTeamMinterBindingNamesNeverMeet: serviceaccount:a-b/c and
// serviceaccount:a/b-c were given one binding name (namespace and name
// joined with '-'): setup for the second stopped on the first's binding
// and told the admin to delete it. Now each gets its own, both can mint,
// and a binding an older kubemint made under the old name for a minter is
// found and kept, while one under a minter's old name that binds another
// (the other service account) is left alone.
func TestTeamMinterBindingNamesNeverMeet(t *testing.T) {
	mustAdmin(t, `apiVersion: v1
kind: Namespace
metadata: {name: team-x}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kubemint-minter-app, namespace: team-x}
rules:
- {apiGroups: [""], resources: [serviceaccounts/token], verbs: [create], resourceNames: [app]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kubemint-minter-app-serviceaccount-team-x-ci-runner, namespace: team-x}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kubemint-minter-app}
subjects:
- {kind: ServiceAccount, name: ci-runner, namespace: team-x}
`, "apply", "-f", "-")
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	// The old binding above is team-x-ci/runner's name too: setup for it
	// must neither stop nor reuse it, and setup for team-x/ci-runner
	// keeps it.
	for _, m := range []string{"serviceaccount:team-x/ci-runner", "serviceaccount:team-x-ci/runner"} {
		if r := adm.kubemint(t, "", "setup", "--service-account=team-x/app", "--source-context=admin", "--minter="+m); r.code != 0 {
			t.Fatalf("setup --minter=%s: exit %d:\n%s", m, r.code, r.stderr)
		}
	}
	out, _, err := admin("", "get", "rolebindings", "-n", "team-x", "-o", `jsonpath={range .items[*]}{.metadata.name}={.subjects[*].namespace}/{.subjects[*].name}{"\n"}{end}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{ // binding=subject
		"kubemint-minter-app-serviceaccount-team-x-ci-runner=team-x/ci-runner":                                                               true,
		exchange.MinterBinding("app", exchange.Minter{Kind: "ServiceAccount", Namespace: "team-x-ci", Name: "runner"}) + "=team-x-ci/runner": true,
	}
	got := strings.Fields(out)
	var minterBindings []string
	for _, b := range got {
		if strings.HasPrefix(b, "kubemint-minter-") {
			minterBindings = append(minterBindings, b)
		}
	}
	if len(minterBindings) != 2 || !want[minterBindings[0]] || !want[minterBindings[1]] {
		t.Errorf("minter bindings %q; want the old one kept for team-x/ci-runner and a new one for team-x-ci/runner", minterBindings)
	}
	for _, sa := range []string{"system:serviceaccount:team-x:ci-runner", "system:serviceaccount:team-x-ci:runner"} {
		if out, _, _ := admin("", "auth", "can-i", "create", "serviceaccounts/app", "--subresource=token", "-n", "team-x", "--as="+sa); strings.TrimSpace(out) != "yes" {
			t.Errorf("%s may not mint: %q", sa, out)
		}
	}
}
