//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kubemint/kubemint/cache"
)

// countingKubemint puts a kubemint on PATH, ahead of the real one, that
// logs each run to a file and execs the real one, and returns the PATH
// setting and the log.
func countingKubemint(t *testing.T) (pathEnv string, runs func() int) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "runs.log")
	script := "#!/bin/sh\necho run >> '" + log + "'\nexec '" + filepath.Join(w.binDir, "kubemint") + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "kubemint"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return "PATH=" + dir + string(os.PathListSeparator) + w.binDir + string(os.PathListSeparator) + os.Getenv("PATH"), func() int {
		b, _ := os.ReadFile(log)
		n := strings.Count(string(b), "run\n")
		_ = os.Remove(log)
		return n
	}
}

// pythonClient is a program of the official Python client
// (python3-kubernetes): it loads the kubeconfig's current context, whose
// exec entry runs kubemint, and lists the pods of ci N times.
const pythonClient = `
import sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
for i in range(int(sys.argv[2])):
    v1.list_namespaced_pod("ci")
print("ok")
`

// python is Debian's python3, which has python3-kubernetes (make deps).
func python(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import kubernetes").Run(); err != nil {
		t.Skipf("the Python Kubernetes client is not installed (apt-get install python3-kubernetes, or make deps): %v", err)
	}
	return py
}

// TestPythonClientRunsKubemintOnce: the Python client counts a credential
// that expires within 5 minutes as expired and runs the plugin again before
// every request. kubemint re-mints when called within 5 minutes of its
// refresh point, so 100 requests made in that window run it once (they ran
// it 101 times). The exec entry is one for clients that send no cluster in
// KUBERNETES_EXEC_INFO: its source names the API server.
func TestPythonClientRunsKubemintOnce(t *testing.T) {
	py := python(t)
	u := newUserEnv(t)
	kc := filepath.Join(u.home, "kubeconfig")
	u.kubeconfig(t, "--service-account=ci/deployer", "--source-kubeconfig="+kc, "--source-context=admin")
	script := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(script, []byte(pythonClient), 0o600); err != nil {
		t.Fatal(err)
	}
	pathEnv, runs := countingKubemint(t)
	client := func(n string) {
		t.Helper()
		r := u.run(t, []string{pathEnv}, py, script, kc, n)
		if r.code != 0 || !strings.Contains(r.stdout, "ok") {
			t.Fatalf("the Python client: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	}

	// A fresh token: minted once, then the client keeps it.
	client("100")
	if n := runs(); n != 1 {
		t.Errorf("100 requests with a new token ran kubemint %d times, want 1", n)
	}

	// The cached token, an hour long, 3 minutes before its refresh point
	// (45 minutes old, as the Python client would find it then).
	entries := u.cacheEntries()
	if len(entries) != 1 {
		t.Fatalf("cache entries: %v", entries)
	}
	key := strings.TrimSuffix(filepath.Base(entries[0]), ".json")
	b, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	e, err := cache.Decode(key, b)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	e.Issued, e.ChainStart, e.Expiry = now.Add(-45*time.Minute), now.Add(-45*time.Minute), now.Add(15*time.Minute)
	if err := os.WriteFile(entries[0], e.Encode(key), 0o600); err != nil {
		t.Fatal(err)
	}
	before := tokenRequests(t)
	client("100")
	n := runs()
	t.Logf("100 requests, starting 3 minutes before the refresh point: %d kubemint runs, %v TokenRequests", n, tokenRequests(t)-before)
	if n > 2 {
		t.Errorf("100 requests starting 3 minutes before the refresh point ran kubemint %d times, want at most 2", n)
	}
}

// TestKubectlRetriesFailAtOnce: kubectl runs a failing plugin several
// times for one command. Against a source server that accepts and never
// answers, each run waited --request-timeout (5 runs of 10 s for one
// `kubectl get`); the failed mint is now remembered for a few seconds for
// that kubectl, so the command takes about one --request-timeout and shows
// the same error each time. The next command tries again.
func TestKubectlRetriesFailAtOnce(t *testing.T) {
	u := newUserEnv(t)
	hung := writeKubeconfig(t, filepath.Join(t.TempDir(), "hung"), silentServer(t), w.cp.CAFile)
	const timeout = 3 * time.Second
	// The source's server hangs and kubectl's cluster is the real one:
	// --allow-server pins it (one server under two names), so what is
	// tested is the hung mint, not the server pin.
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-kubeconfig="+hung, "--source-context=admin", "--request-timeout="+timeout.String(), "--allow-server="+w.cp.Server)
	pathEnv, runs := countingKubemint(t)
	get := func() (result, time.Duration) {
		start := time.Now()
		r := u.run(t, []string{pathEnv, "KUBECONFIG=" + kc}, w.kubectl, "get", "pods", "-n", "ci")
		return r, time.Since(start)
	}
	for i := range 2 {
		r, took := get()
		n := runs()
		t.Logf("command %d: kubectl get failed in %v after %d kubemint runs", i+1, took.Round(100*time.Millisecond), n)
		if r.code == 0 {
			t.Fatalf("kubectl get with a hung source succeeded: %s", r.stdout)
		}
		if took >= 2*timeout {
			t.Errorf("command %d: kubectl get took %v, want about one --request-timeout (%v)\nstderr: %s", i+1, took, timeout, r.stderr)
		}
		if n < 2 {
			t.Errorf("command %d: kubemint ran %d times; kubectl retries a failing plugin, want the retries counted", i+1, n)
		}
		var lines []string
		for _, l := range strings.Split(r.stderr, "\n") {
			if strings.HasPrefix(l, "kubemint: error: ") {
				lines = append(lines, l)
			}
		}
		if len(lines) < 2 || slices.ContainsFunc(lines, func(l string) bool { return l != lines[0] }) {
			t.Errorf("command %d: kubemint's error lines differ, want the same line on every retry:\n%s", i+1, strings.Join(lines, "\n"))
		}
		if took < timeout {
			t.Errorf("command %d took %v: it did not try the mint (a failure remembered from the last command?)", i+1, took)
		}
	}
}

// TestRevokedRunnerAndSecondRevoke: after kubemint revoke, the runner's
// mint says its tokens are revoked and how new ones are issued (it said
// "create the Secret"), and a second revoke says the account may already
// be revoked (it said only "not set up with --revocable").
func TestRevokedRunnerAndSecondRevoke(t *testing.T) {
	podReaderClusterRole(t)
	u := newUserEnv(t)
	u.adminKubeconfig(t)
	u.mustKubemint(t, "setup", "--service-account=rev2/bot", "--source-context=admin", "--cluster-role=e2e-pod-reader", "--revocable", "--context-name=bot2")
	if r := u.kubectl(t, "--context=bot2", "get", "pods"); r.code != 0 {
		t.Fatalf("before revoke: %s", r.stderr)
	}
	u.mustKubemint(t, "revoke", "--service-account=rev2/bot", "--source-context=admin")
	r := u.kubectl(t, "--context=bot2", "get", "pods")
	if r.code == 0 || !strings.Contains(r.stderr, "the tokens of rev2/bot are revoked: Secret rev2/bot-kubemint") || !strings.Contains(r.stderr, "--revocable again") || strings.Contains(r.stderr, "create the Secret") {
		t.Errorf("the revoked runner: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = u.kubemint(t, "", "revoke", "--service-account=rev2/bot", "--source-context=admin")
	if r.code == 0 || !strings.Contains(r.stderr, "rev2/bot is already revoked") {
		t.Errorf("a second revoke: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestConvertWithSourceKubeconfig: a runner's kubeconfig holding only a
// pasted token is converted with a source context from another kubeconfig
// (the admin's), which the exec entry then names.
func TestConvertWithSourceKubeconfig(t *testing.T) {
	u := newUserEnv(t)
	adminKC := u.adminKubeconfig(t)
	tok, stderr, err := admin("", "create", "token", "deployer", "-n", "ci", "--duration=10m")
	if err != nil {
		t.Fatalf("kubectl create token: %v: %s", err, stderr)
	}
	runner := filepath.Join(t.TempDir(), "runner.kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: \"" + w.cp.Server + "\", certificate-authority: \"" + w.cp.CAFile + "\"}\n" +
		"users:\n- name: ci-bot\n  user: {token: \"" + strings.TrimSpace(tok) + "\"}\n" +
		"contexts:\n- name: ci\n  context: {cluster: prod, user: ci-bot, namespace: ci}\ncurrent-context: ci\n"
	if err := os.WriteFile(runner, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := u.kubemint(t, "", "convert", "--kubeconfig="+runner, "--source-kubeconfig="+runner, "--source-context=admin"); r.code == 0 || !strings.Contains(r.stderr, `context "admin" not found`) {
		t.Errorf("the source context looked for in the runner's file: exit %d, stderr %q", r.code, r.stderr)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := u.kubemint(t, "", "convert", "--kubeconfig="+runner, "--source-kubeconfig="+other, "--source-context=admin"); r.code == 0 || !strings.Contains(r.stderr, `context "admin" not found in `+other) {
		t.Errorf("a source context missing from --source-kubeconfig: exit %d, stderr %q", r.code, r.stderr)
	}
	r := u.mustKubemint(t, "convert", "--kubeconfig="+runner, "--source-kubeconfig="+adminKC, "--source-context=admin", "--write")
	if !strings.Contains(r.stdout, "Converted 1 user(s)") {
		t.Fatalf("convert output:\n%s", r.stdout)
	}
	// adminKC is ~/.kube/config, which kubemint reads by default: the
	// entry needs no --source-kubeconfig.
	if b, _ := os.ReadFile(runner); !strings.Contains(string(b), "--source-context=admin") || strings.Contains(string(b), strings.TrimSpace(tok)) {
		t.Errorf("the converted kubeconfig:\n%s", b)
	}
	if got := whoami(t, u, "--kubeconfig="+runner); got != "system:serviceaccount:ci:deployer" {
		t.Errorf("whoami through the converted runner's kubeconfig = %q", got)
	}
}

// TestStatusSourceContextAndFilter: status shows the source context of
// each entry and lists only what --service-account and --source-context
// select.
func TestStatusSourceContextAndFilter(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	for _, aud := range []string{"a", "b"} {
		if r := u.kubemint(t, info, "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc, "--audience="+aud); r.code != 0 {
			t.Fatalf("mint: %s", r.stderr)
		}
	}
	table := u.mustKubemint(t, "status")
	if lines := strings.Split(strings.TrimSpace(table.stdout), "\n"); len(lines) != 3 || !strings.Contains(lines[0], "SOURCE CONTEXT") || !strings.Contains(lines[1], " admin ") {
		t.Errorf("status:\n%s", table.stdout)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--source-context=admin"}, 2},
		{[]string{"--service-account=ci/deployer", "--source-context=admin"}, 2},
		{[]string{"--source-context=other"}, 0},
		{[]string{"--service-account=ci/other"}, 0},
	} {
		r := u.mustKubemint(t, append([]string{"status"}, tc.args...)...)
		got := strings.Count(r.stdout, "ci/deployer")
		if got != tc.want || tc.want == 0 && !strings.Contains(r.stdout, "No matching cached credentials") {
			t.Errorf("status %v: %d entries, want %d:\n%s", tc.args, got, tc.want, r.stdout)
		}
	}
	if r := u.kubemint(t, "", "status", "--service-account=nonamespace"); r.code == 0 {
		t.Errorf("status --service-account=nonamespace succeeded: %s", r.stdout)
	}
}

// TestReadmeEntryIsWhatSetupWrites: the exec entry and context README.md
// shows are what kubemint setup writes, field for field (another account
// and cluster name, kubemint's path here).
func TestReadmeEntryIsWhatSetupWrites(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "you can also write by hand:\n\n```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no entry block after \"you can also write by hand:\"")
	}
	block = strings.NewReplacer("ci/deployer", "readme/deployer", "ci-deployer@prod", "readme-deployer@local", "cluster: prod", "cluster: local",
		"namespace: ci", "namespace: readme", "/home/me/.local/bin/kubemint", filepath.Join(w.binDir, "kubemint")).Replace(block)
	var want struct {
		Contexts []any `json:"contexts"`
		Users    []any `json:"users"`
	}
	if err := yaml.Unmarshal([]byte(block), &want); err != nil {
		t.Fatalf("README.md's block: %v", err)
	}

	u := newUserEnv(t)
	kc := u.adminKubeconfig(t)
	u.mustKubemint(t, "setup", "--service-account=readme/deployer", "--source-context=admin", "--cluster-role=view", "--revocable")
	b, err := os.ReadFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Contexts []map[string]any `json:"contexts"`
		Users    []map[string]any `json:"users"`
	}
	if err := yaml.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	pick := func(items []map[string]any) []any {
		for _, it := range items {
			if it["name"] == "readme-deployer@local" {
				return []any{it}
			}
		}
		return nil
	}
	if g := pick(got.Contexts); !reflect.DeepEqual(g, want.Contexts) {
		t.Errorf("setup wrote the context\n%v\nREADME.md shows\n%v", g, want.Contexts)
	}
	if g := pick(got.Users); !reflect.DeepEqual(g, want.Users) {
		t.Errorf("setup wrote the user\n%v\nREADME.md shows\n%v", g, want.Users)
	}
}

// jsClient is a program of the official JavaScript client
// (@kubernetes/client-node): it loads the kubeconfig, whose current
// context's exec entry runs kubemint, and lists the pods of ci N times.
const jsClient = `
import * as k8s from '@kubernetes/client-node';
const kc = new k8s.KubeConfig();
kc.loadFromFile(process.argv[2]);
const api = kc.makeApiClient(k8s.CoreV1Api);
for (let i = 0; i < parseInt(process.argv[3]); i++) {
  await api.listNamespacedPod({ namespace: 'ci' });
}
console.log('ok');
`

// clientNode installs @kubernetes/client-node with npm, once per machine
// (kept in the temporary directory), and returns the directory to run a
// script from; it skips the test when node or npm cannot. 2.0.1 needs
// node 22.19 or later (its undici 8 does); on an older node, 1.4.0.
func clientNode(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("node", "-p", "process.versions.node.split('.')[0]").Output()
	if err != nil {
		t.Skip("node is not installed: the JavaScript client is not tested")
	}
	version := "2.0.1"
	if major, _ := strconv.Atoi(strings.TrimSpace(string(out))); major < 22 {
		version = "1.4.0"
	}
	dir := filepath.Join(os.TempDir(), "kubemint-e2e-client-node-"+version)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@kubernetes", "client-node", "package.json")); err == nil {
		return dir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "@kubernetes/client-node@"+version)
	if r := runCmd(t, cmd, 3*time.Minute); r.code != 0 {
		t.Skipf("npm could not install @kubernetes/client-node %s (offline?): the JavaScript client is not tested: %s", version, r.stderr)
	}
	t.Logf("installed @kubernetes/client-node %s", version)
	return dir
}

// TestJavaScriptClient: the JavaScript client, which sends no cluster in
// KUBERNETES_EXEC_INFO, works with an exec entry whose source names the
// server, and runs kubemint once for 100 requests (it keeps a credential
// until its expirationTimestamp).
func TestJavaScriptClient(t *testing.T) {
	dir := clientNode(t)
	u := newUserEnv(t)
	kc := filepath.Join(u.home, "kubeconfig")
	u.kubeconfig(t, "--service-account=ci/deployer", "--source-kubeconfig="+kc, "--source-context=admin")
	script := filepath.Join(dir, "client.mjs")
	if err := os.WriteFile(script, []byte(jsClient), 0o644); err != nil {
		t.Fatal(err)
	}
	pathEnv, runs := countingKubemint(t)
	r := u.run(t, []string{pathEnv}, "node", script, kc, "100")
	if r.code != 0 || !strings.Contains(r.stdout, "ok") {
		t.Fatalf("the JavaScript client: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if n := runs(); n != 1 {
		t.Errorf("100 requests ran kubemint %d times, want 1", n)
	}
}
