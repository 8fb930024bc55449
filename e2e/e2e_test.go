// Package e2e tests kubemint end to end: the built kubemint binaries, run by
// a real kubectl and a real client-go program through kubeconfig exec
// entries, against a real kube-apiserver and etcd with RBAC.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubemint/kubemint/internal/controlplane"
)

// world is what every test shares: one control plane, the binaries, and
// the objects the seed guides would have made by hand.
type world struct {
	cp      *controlplane.ControlPlane
	binDir  string // kubemint, kubemint-full
	kubectl string
	tmp     string
	// auditLog is the API server's audit log, written with the policy
	// docs/audit/policy.yaml (audit_test.go).
	auditLog string

	nobodyCert, nobodyKey string
}

var w world

func TestMain(m *testing.M) {
	if testHelperMain() {
		os.Exit(0)
	}
	if os.Getenv(kwalletLauncherEnv) != "" {
		// This binary, run again by a test's shell script, starts
		// kwalletd5 as a PAM login would; see launchKWallet.
		os.Exit(launchKWallet())
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "kubemint-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	toolsBin, err := filepath.Abs(filepath.Join("..", "tools", "bin"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if d := os.Getenv("KUBEMINT_TOOLS_BIN"); d != "" {
		toolsBin = d
	}
	w = world{tmp: tmp, binDir: filepath.Join(tmp, "bin"), kubectl: filepath.Join(toolsBin, "kubectl")}
	if _, err := os.Stat(w.kubectl); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: kubectl not found in %s; run make tools\n", toolsBin)
		return 1
	}
	build := exec.Command("go", "build", "-trimpath", "-o", w.binDir+string(filepath.Separator), "../cmd/kubemint", "../cmd/kubemint-full")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building kubemint: %v\n%s", err, out)
		return 1
	}
	ctx := context.Background()
	// The CI issuers serve before the API server starts: it must trust
	// them from its first request (ci_test.go).
	ciArgs, err := startCIIssuers(tmp)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: starting the CI issuers: %v\n", err)
		return 1
	}
	defer ci.close()
	// The audit policy of docs/security.md, as written: it records every
	// request's metadata and changes no answer of the API server.
	policy, err := filepath.Abs(filepath.Join("..", "docs", "audit", "policy.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w.auditLog = filepath.Join(tmp, "audit", "audit.log")
	if err := os.MkdirAll(filepath.Dir(w.auditLog), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Rotated at 1 MB and gzip'd, every file kept: TestAuditWhoDidIt
	// reads across a rotation the API server made.
	cpArgs := append(ciArgs, "--audit-policy-file="+policy, "--audit-log-path="+w.auditLog,
		"--audit-log-maxsize=1", "--audit-log-compress", "--audit-log-maxbackup=0", "--audit-log-maxage=0")
	cp, err := controlplane.Start(ctx, toolsBin, filepath.Join(tmp, "cp"), cpArgs...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: starting the control plane: %v\n", err)
		return 1
	}
	defer cp.Stop()
	w.cp = cp
	if w.nobodyCert, w.nobodyKey, err = cp.ClientCert("nobody"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	if err := seed(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	code := m.Run()
	// Last before go test's own verdict: what this run did not test.
	fmt.Println(optionalSummary())
	return code
}

// Optional environments are the tools outside Go that make deps installs
// (Wine with mingw-w64, each Secret Service) or make tools builds
// (kubectl.exe). One rule for all of them: where they must be there — in CI
// (CI=true) or under make test, which ran make deps and sets
// KUBEMINT_E2E_REQUIRE_OPTIONAL=1 — a missing one fails its test; on a
// developer's machine it is skipped, naming the fix, and the run's summary
// line lists it.
var optional struct {
	sync.Mutex
	skipped []string
}

func optionalRequired() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci || os.Getenv("KUBEMINT_E2E_REQUIRE_OPTIONAL") == "1"
}

// missingOptional fails t, or skips it and records the skip, because the
// optional environment name is missing: why says what is missing, fix how
// to get it.
func missingOptional(t *testing.T, name, why, fix string) {
	t.Helper()
	if optionalRequired() {
		t.Fatalf("%s: %s: %s (optional environments are required in CI and under make test)", name, why, fix)
	}
	optional.Lock()
	if entry := name + " (" + why + ")"; !slices.Contains(optional.skipped, entry) {
		optional.skipped = append(optional.skipped, entry)
	}
	optional.Unlock()
	t.Skipf("%s: %s, so skipped: %s", name, why, fix)
}

// optionalSummary is the line that ends the e2e run: the optional
// environments it skipped, or none.
func optionalSummary() string {
	optional.Lock()
	defer optional.Unlock()
	if len(optional.skipped) == 0 {
		return "e2e: optional environments skipped: none"
	}
	return "e2e: optional environments skipped: " + strings.Join(optional.skipped, ", ")
}

// seed makes what the namespace-level flow of the seed guides makes by
// hand: a namespace, a service account, a Role that reads pods and its
// RoleBinding.
func seed() error {
	manifest := controlplane.PodReader("ci", "deployer") + `---
apiVersion: v1
kind: Namespace
metadata: {name: other}
`
	_, stderr, err := admin(manifest, "apply", "-f", "-")
	if err != nil {
		return fmt.Errorf("seeding the cluster: %v: %s", err, stderr)
	}
	return nil
}

// admin runs kubectl as the cluster admin, with stdin.
func admin(stdin string, args ...string) (string, string, error) {
	cmd := exec.Command(w.kubectl, append([]string{"--kubeconfig", w.cp.AdminKubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// userEnv is the environment of a user's shell: kubemint on PATH, a home
// and cache of the test's own, and no D-Bus session, so --cache=auto uses
// the kernel keyring where keyctl works, else the file cache (the Secret
// Service keyring has its own test; see writeKubeconfig for --cache=file).
type userEnv struct {
	home  string
	cache string
	vars  []string
}

func newUserEnv(t *testing.T) *userEnv {
	t.Helper()
	home := t.TempDir()
	u := &userEnv{home: home, cache: filepath.Join(home, ".cache")}
	u.vars = append(environWithout("HOME", "PATH", "DBUS_SESSION_BUS_ADDRESS"),
		"HOME="+home,
		"XDG_CACHE_HOME="+u.cache,
		"PATH="+w.binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	return u
}

// environWithout is this process's environment less the variables that
// would point kubemint or kubectl at the developer's own kubeconfig, cache
// or exec info, and less extra.
func environWithout(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "KUBECONFIG", "XDG_CACHE_HOME", "KUBERNETES_EXEC_INFO", "KUBEMINT_MINTING":
			continue
		}
		if !slices.Contains(extra, k) {
			env = append(env, kv)
		}
	}
	return env
}

// cacheEntries lists the entry files of the user's file cache.
func (u *userEnv) cacheEntries() []string {
	files, _ := filepath.Glob(filepath.Join(u.cache, "kubemint", "*.json"))
	return files
}

type result struct {
	stdout, stderr string
	code           int
}

func (u *userEnv) run(t *testing.T, extraEnv []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(append([]string{}, u.vars...), extraEnv...)
	return runCmd(t, cmd, 2*time.Minute)
}

// runCmd runs cmd, killed after timeout, and returns what it printed and
// its exit code; it fails the test only when cmd cannot start.
func runCmd(t *testing.T, cmd *exec.Cmd, timeout time.Duration) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// A daemon the command started (a D-Bus session's, a keyring) may
	// keep its output pipes open after it exits: stop waiting for them.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("running %s: %v", cmd.Path, err)
	}
	timer := time.AfterFunc(timeout, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case errors.Is(err, exec.ErrWaitDelay):
		// It exited; what it left running held the pipes.
		r.code = cmd.ProcessState.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", cmd.Path, err)
	}
	return r
}

// kubectl runs the real kubectl with the user's environment.
func (u *userEnv) kubectl(t *testing.T, args ...string) result {
	t.Helper()
	return u.run(t, nil, w.kubectl, args...)
}

// kubemint runs the lean kubemint binary by hand, as kubectl would, with
// exec info in KUBERNETES_EXEC_INFO when execInfo is not empty. A token
// call without a --cache names --cache=file, as writeKubeconfig does.
func (u *userEnv) kubemint(t *testing.T, execInfo string, args ...string) result {
	t.Helper()
	if len(args) > 0 && args[0] == "token" && !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--cache") }) {
		args = append(slices.Clone(args), "--cache=file")
	}
	var env []string
	if execInfo != "" {
		env = append(env, "KUBERNETES_EXEC_INFO="+execInfo)
	}
	return u.run(t, env, filepath.Join(w.binDir, "kubemint"), args...)
}

// kubeconfig writes a kubeconfig with the admin context and a "deployer"
// context whose user runs kubemint with tokenArgs, and returns its path.
func (u *userEnv) kubeconfig(t *testing.T, tokenArgs ...string) string {
	t.Helper()
	return writeKubeconfig(t, filepath.Join(u.home, "kubeconfig"), w.cp.Server, w.cp.CAFile, tokenArgs...)
}

// writeKubeconfig writes a kubeconfig for server, verified with caFile, with
// contexts admin (system:masters), nobody (a user without any RBAC) and
// deployer (kubemint token with tokenArgs). Without a --cache in tokenArgs
// the entry names --cache=file: most tests here look at the file cache,
// which --cache=auto uses on Linux only where the kernel keyring cannot be
// (kernelkeyring_test.go tests auto's choice).
func writeKubeconfig(t *testing.T, path, server, caFile string, tokenArgs ...string) string {
	t.Helper()
	args := append([]string{"token"}, tokenArgs...)
	if !slices.ContainsFunc(tokenArgs, func(a string) bool { return strings.HasPrefix(a, "--cache") }) {
		args = append(args, "--cache=file")
	}
	var quoted []string
	for _, a := range args {
		quoted = append(quoted, fmt.Sprintf("%q", a))
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: %[1]s
    certificate-authority: %[2]s
users:
- name: admin
  user:
    client-certificate: %[3]s
    client-key: %[4]s
- name: nobody
  user:
    client-certificate: %[6]s
    client-key: %[7]s
- name: deployer
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubemint
      args: [%[5]s]
      interactiveMode: Never
      provideClusterInfo: true
contexts:
- name: admin
  context: {cluster: local, user: admin}
- name: nobody
  context: {cluster: local, user: nobody}
- name: deployer
  context: {cluster: local, user: deployer}
current-context: deployer
`, server, caFile, filepath.Join(w.cp.Dir, "admin.crt"), filepath.Join(w.cp.Dir, "admin.key"), strings.Join(quoted, ", "), w.nobodyCert, w.nobodyKey)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tokenRequests reads the API server's count of answered TokenRequests.
func tokenRequests(t *testing.T) float64 {
	t.Helper()
	n, err := w.cp.TokenRequests()
	if err != nil {
		t.Fatalf("reading the API server's metrics: %v", err)
	}
	return n
}

// execInfo is the KUBERNETES_EXEC_INFO that client-go sends for the local
// cluster when provideClusterInfo is set.
func execInfo(t *testing.T, apiVersion string) string {
	t.Helper()
	ca, err := os.ReadFile(w.cp.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":%q,"spec":{"cluster":{"server":%q,"certificate-authority-data":%q},"interactive":false}}`,
		apiVersion, w.cp.Server, encodeBase64(ca))
}
