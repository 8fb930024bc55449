//go:build unix

package e2e

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/kubemint/kubemint/internal/controlplane"
)

// holdLock takes the lock kubemint takes for the user's one cached entry,
// from the test process, as a kubemint stuck in a mint would hold it, and
// returns its release.
func holdLock(t *testing.T, u *userEnv) func() {
	t.Helper()
	entries := u.cacheEntries()
	if len(entries) != 1 {
		t.Fatalf("want one cache entry, have %v", entries)
	}
	l := flock.New(strings.TrimSuffix(entries[0], ".json")+".lock", flock.SetPermissions(0o600))
	if ok, err := l.TryLock(); err != nil || !ok {
		t.Fatalf("taking kubemint's lock: %v %v", ok, err)
	}
	var once sync.Once
	release := func() { once.Do(func() { _ = l.Unlock() }) }
	t.Cleanup(release)
	return release
}

// expirationOf is the expirationTimestamp of an ExecCredential.
func expirationOf(t *testing.T, stdout string) time.Time {
	t.Helper()
	var ec struct {
		Status struct {
			ExpirationTimestamp time.Time `json:"expirationTimestamp"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(stdout), &ec); err != nil {
		t.Fatalf("stdout is not an ExecCredential: %v", err)
	}
	return ec.Status.ExpirationTimestamp
}

// TestStaleWhileRevalidate: a token past its refresh point but valid for
// almost ten more minutes, and another kubemint holding the lock (stuck in
// a mint against a hung server): 20 parallel kubectl calls are all served
// the cached token at once, with no TokenRequest, instead of queueing on
// the lock (before: 7 served 10 s apart, 13 failed after 60 s). A caller
// with nothing valid to serve waits, but only --request-timeout plus 5 s.
func TestStaleWhileRevalidate(t *testing.T) {
	u := newUserEnv(t)
	args := []string{"--service-account=ci/deployer", "--source-context=admin", "--duration=10m", "--refresh-before=9m58s", "--request-timeout=3s"}
	kc := u.kubeconfig(t, args...)
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	if r := u.kubectl(t, "get", "pods", "-n", "ci"); r.code != 0 {
		t.Fatalf("first call: %s", r.stderr)
	}
	time.Sleep(2500 * time.Millisecond) // now due for a re-mint, valid for 9m57s
	release := holdLock(t, u)

	before := tokenRequests(t)
	parallelKubectl(t, u, 20, "get", "pods", "-n", "ci")
	if got := tokenRequests(t) - before; got != 0 {
		t.Errorf("%v TokenRequests while the lock was held, want 0", got)
	}

	// By hand: the answer says to come back soon for the new token.
	info := execInfo(t, "client.authentication.k8s.io/v1")
	r := u.kubemint(t, info, append([]string{"token", "-v=1", "--source-kubeconfig=" + kc}, args...)...)
	if r.code != 0 {
		t.Fatalf("by hand: exit %d: %s", r.code, r.stderr)
	}
	if d := time.Until(expirationOf(t, r.stdout)); d <= 0 || d > time.Minute {
		t.Errorf("expirationTimestamp is %v away, want a retry within a minute", d)
	}
	if !strings.Contains(r.stderr, "another kubemint process is minting ci/deployer; serving the cached token") {
		t.Errorf("-v=1 does not say why the due token was served:\n%s", r.stderr)
	}

	// Released: the next call mints.
	release()
	before = tokenRequests(t)
	if r := u.kubectl(t, "get", "pods", "-n", "ci"); r.code != 0 {
		t.Fatalf("after release: %s", r.stderr)
	}
	if got := tokenRequests(t) - before; got != 1 {
		t.Errorf("after release: %v TokenRequests, want 1", got)
	}

	// Nothing valid cached: a caller waits for the holder, but not for a
	// minute: --request-timeout (3s) plus 5s, then one line that says why.
	release = holdLock(t, u)
	defer release()
	for _, e := range u.cacheEntries() {
		if err := os.Remove(e); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	r = u.kubemint(t, info, append([]string{"token", "--source-kubeconfig=" + kc}, args...)...)
	waited := time.Since(start)
	t.Logf("with nothing cached and the lock held, the call gave up after %v", waited.Round(time.Millisecond))
	if r.code == 0 || r.stdout != "" {
		t.Errorf("exit %d with the lock held and nothing cached; %d bytes on stdout", r.code, len(r.stdout))
	}
	if !strings.Contains(r.stderr, "no valid cached token for ci/deployer to serve meanwhile") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr is not one line that says why:\n%s", r.stderr)
	}
	if waited < 7*time.Second || waited > 20*time.Second {
		t.Errorf("waited %v for the lock, want --request-timeout + 5s = 8s", waited)
	}
}

// parallelKubectl runs n kubectl calls at once, and fails the test unless
// every one succeeds within 5 s in all.
func parallelKubectl(t *testing.T, u *userEnv, n int, args ...string) {
	t.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	results := make([]result, n)
	took := make([]time.Duration, n)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := time.Now()
			results[i] = u.kubectl(t, args...)
			took[i] = time.Since(s)
		}()
	}
	wg.Wait()
	total := time.Since(start)
	slowest := time.Duration(0)
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("call %d: exit %d after %v: %s", i, r.code, took[i].Round(time.Millisecond), r.stderr)
		}
		slowest = max(slowest, took[i])
	}
	t.Logf("%d parallel kubectl calls with the lock held: all done in %v, slowest %v", n, total.Round(time.Millisecond), slowest.Round(time.Millisecond))
	if total > 5*time.Second {
		t.Errorf("%d calls took %v with a valid token cached; they queued on the lock", n, total)
	}
}

// TestStaleWhileRevalidateHolderStopped: the lock is held by a real
// kubemint, minting against a source whose server never answers, stopped
// with SIGSTOP (before: one kubectl call took 300 s and failed). kubectl
// calls are served the cached, still-valid token at once.
func TestStaleWhileRevalidateHolderStopped(t *testing.T) {
	u := newUserEnv(t)
	src := filepath.Join(u.home, "source-kubeconfig")
	writeKubeconfig(t, src, w.cp.Server, w.cp.CAFile)
	// The source's server is swapped for a silent one below; --allow-server
	// keeps the exec info's cluster pinned (one server under two names), so
	// what is tested is the stuck holder, not the server pin.
	args := []string{"--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + src, "--duration=10m", "--refresh-before=9m58s", "--allow-server=" + w.cp.Server}
	u.vars = append(u.vars, "KUBECONFIG="+u.kubeconfig(t, args...))
	if r := u.kubectl(t, "get", "pods", "-n", "ci"); r.code != 0 {
		t.Fatalf("first call: %s", r.stderr)
	}
	time.Sleep(2500 * time.Millisecond) // due for a re-mint
	writeKubeconfig(t, src, silentServer(t), w.cp.CAFile)

	holder := exec.Command(filepath.Join(w.binDir, "kubemint-full"), append([]string{"token", "--request-timeout=5m"}, args...)...)
	holder.Env = append(append([]string{}, u.vars...), "KUBERNETES_EXEC_INFO="+execInfo(t, "client.authentication.k8s.io/v1"))
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = holder.Process.Signal(syscall.SIGCONT)
		_ = holder.Process.Kill()
		_ = holder.Wait()
	})
	lock := flock.New(strings.TrimSuffix(u.cacheEntries()[0], ".json")+".lock", flock.SetPermissions(0o600))
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		ok, err := lock.TryLock()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break // the holder has it
		}
		_ = lock.Unlock()
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the minting kubemint did not take the lock within 10 s")
		}
	}
	if err := holder.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	parallelKubectl(t, u, 20, "get", "pods", "-n", "ci")
}

// TestRefusedTokenNotServedWhenMintFails: the cached token is revoked
// (its binding Secret deleted and recreated) and the source has lost the
// right to mint. kubemint used to serve the refused token again (exit 0, a
// bare Unauthorized every time); now it fails with one line that says both,
// and forgets the token, so the lean front does not serve it either.
func TestRefusedTokenNotServedWhenMintFails(t *testing.T) {
	mustAdmin(t, controlplane.PodReader("refused", "bot")+`---
apiVersion: v1
kind: Secret
metadata: {name: bot-binding, namespace: refused}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: mint-bot, namespace: refused}
rules:
- {apiGroups: [""], resources: [serviceaccounts/token], verbs: [create], resourceNames: [bot]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: minter-mints-bot, namespace: refused}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: mint-bot}
subjects:
- {kind: User, name: refused-minter}
`, "apply", "-f", "-")
	cert, key, err := w.cp.ClientCert("refused-minter")
	if err != nil {
		t.Fatal(err)
	}
	u := newUserEnv(t)
	tokenArgs := []string{"--service-account=refused/bot", "--source-context=minter", "--bound-object-kind=Secret", "--bound-object-name=bot-binding", "-v=1", "--cache=auto"}
	kc := filepath.Join(u.home, "kubeconfig")
	writeFlowKubeconfig(t, kc, w.cp.Server, w.cp.CAFile, []flowUser{
		{name: "minter", cert: cert, key: key},
		{name: "bot", exec: append(tokenArgs, "--source-kubeconfig="+kc)},
	})
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	if r := u.kubectl(t, "--context=bot", "get", "pods", "-n", "refused"); r.code != 0 {
		t.Fatalf("first call: %s", r.stderr)
	}
	info := execInfo(t, "client.authentication.k8s.io/v1")
	old := tokenOf(t, u.kubemint(t, info, append([]string{"token", "--source-kubeconfig=" + kc}, tokenArgs...)...).stdout)

	// Revoked from another machine, and the source may no longer mint.
	mustAdmin(t, "", "-n", "refused", "delete", "secret", "bot-binding")
	mustAdmin(t, `apiVersion: v1
kind: Secret
metadata: {name: bot-binding, namespace: refused}
`, "apply", "-f", "-")
	mustAdmin(t, "", "-n", "refused", "delete", "rolebinding", "minter-mints-bot")
	for start := time.Now(); ; time.Sleep(500 * time.Millisecond) {
		r := u.kubectlWithToken(t, old, "get", "pods", "-n", "refused")
		if r.code != 0 && strings.Contains(r.stderr, "Unauthorized") {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the old token still works 20s after its Secret was deleted")
		}
	}

	// kubectl: the lean front serves the cached token, the server answers
	// 401, client-go runs kubemint again, kubemint checks and fails.
	r := u.kubectl(t, "--context=bot", "get", "pods", "-n", "refused")
	t.Logf("kubectl: exit %d\n%s", r.code, r.stderr)
	want := "kubemint: error: the API server refuses the cached token for refused/bot (revoked?) and a new one could not be minted: "
	if r.code == 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "may not mint tokens for refused/bot") {
		t.Errorf("kubectl: exit %d, stderr lacks the line naming both causes:\n%s", r.code, r.stderr)
	}
	if infos, _ := filepath.Glob(filepath.Join(u.cache, "kubemint", "*.info")); len(u.cacheEntries()) != 0 || len(infos) != 0 {
		t.Errorf("the refused token is still cached (%v) or listed (%v)", u.cacheEntries(), infos)
	}
	// The next call, by hand (at -v=0, where the miss is not reported): no
	// refused token on stdout, one error line.
	quiet := slices.DeleteFunc(slices.Clone(tokenArgs), func(a string) bool { return a == "-v=1" })
	r = u.kubemint(t, info, append([]string{"token", "--source-kubeconfig=" + kc}, quiet...)...)
	if r.code != 1 || r.stdout != "" {
		t.Errorf("the next call: exit %d, %d bytes on stdout; want exit 1 and nothing served", r.code, len(r.stdout))
	}
	if line, hints, ok := errorAndHints(r.stderr); !ok || !strings.Contains(line, "may not mint tokens for refused/bot") || len(hints) == 0 {
		t.Errorf("the next call: stderr is not one error line and the hints naming the fix:\n%s", r.stderr)
	}

	// The right restored: kubectl works again.
	mustAdmin(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: minter-mints-bot, namespace: refused}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: mint-bot}
subjects:
- {kind: User, name: refused-minter}
`, "apply", "-f", "-")
	if r := u.kubectl(t, "--context=bot", "get", "pods", "-n", "refused"); r.code != 0 {
		t.Errorf("with the right restored: exit %d: %s", r.code, r.stderr)
	}
}

// TestRevokedTokenFirstKubectlCall measures what the kubectl call that
// discovers a revoked token sees when kubemint can mint a new one: the
// request that got 401 is not retried by client-go (it runs the plugin
// again for the next request), so that one call fails; the next works.
// docs/troubleshooting.md states this.
func TestRevokedTokenFirstKubectlCall(t *testing.T) {
	mustAdmin(t, controlplane.PodReader("firstcall", "bot")+`---
apiVersion: v1
kind: Secret
metadata: {name: bot-binding, namespace: firstcall}
`, "apply", "-f", "-")
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account=firstcall/bot", "--source-context=admin", "--bound-object-kind=Secret", "--bound-object-name=bot-binding")
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	if r := u.kubectl(t, "get", "pods", "-n", "firstcall"); r.code != 0 {
		t.Fatalf("first call: %s", r.stderr)
	}
	old := tokenOf(t, u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=firstcall/bot", "--source-context=admin",
		"--source-kubeconfig="+kc, "--bound-object-kind=Secret", "--bound-object-name=bot-binding").stdout)
	mustAdmin(t, "", "-n", "firstcall", "delete", "secret", "bot-binding")
	mustAdmin(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: bot-binding, namespace: firstcall}\n", "apply", "-f", "-")
	for start := time.Now(); ; time.Sleep(500 * time.Millisecond) {
		r := u.kubectlWithToken(t, old, "get", "pods", "-n", "firstcall")
		if r.code != 0 && strings.Contains(r.stderr, "Unauthorized") {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the old token still works 20s after its Secret was deleted")
		}
	}
	before := tokenRequests(t)
	r := u.kubectl(t, "get", "pods", "-n", "firstcall")
	t.Logf("the call that met the revoked token: exit %d, %v TokenRequests\n%s", r.code, tokenRequests(t)-before, r.stderr)
	if r := u.kubectl(t, "get", "pods", "-n", "firstcall"); r.code != 0 {
		t.Errorf("the call after: exit %d: %s", r.code, r.stderr)
	}
}

// TestSourceInCacheKey: two exec entries that differ only in
// --source-context (two identities that reach the same URL with the same
// CA: behind a proxy, two clusters) mint two tokens and keep two entries.
// They used to share one: the first identity's token served for both.
func TestSourceInCacheKey(t *testing.T) {
	u := newUserEnv(t)
	kc := filepath.Join(u.home, "kubeconfig")
	adminCert, adminKey := filepath.Join(w.cp.Dir, "admin.crt"), filepath.Join(w.cp.Dir, "admin.key")
	writeFlowKubeconfig(t, kc, w.cp.Server, w.cp.CAFile, []flowUser{
		{name: "prod-admin", cert: adminCert, key: adminKey},
		{name: "staging-admin", cert: adminCert, key: adminKey},
	})
	info := execInfo(t, "client.authentication.k8s.io/v1")
	before := tokenRequests(t)
	var tokens []string
	for _, ctx := range []string{"prod-admin", "staging-admin", "prod-admin", "staging-admin"} {
		r := u.kubemint(t, info, "token", "--service-account=ci/deployer", "--source-kubeconfig="+kc, "--source-context="+ctx)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", ctx, r.code, r.stderr)
		}
		tokens = append(tokens, tokenOf(t, r.stdout))
	}
	if got := tokenRequests(t) - before; got != 2 {
		t.Errorf("two sources made %v TokenRequests, want 2 (one each, then hits)", got)
	}
	if tokens[0] == tokens[1] || tokens[0] != tokens[2] || tokens[1] != tokens[3] {
		t.Errorf("the two sources share a cached token, or a source's hit changed")
	}
	if n := len(u.cacheEntries()); n != 2 {
		t.Errorf("%d cache entries, want 2", n)
	}
}

// TestRedactsEchoedToken: a proxy in front of the API server answers the
// TokenRequest with 500 and a body that echoes the request's Authorization
// header (a real API server does not echo headers, so httptest stands in).
// kubemint quotes the body in its error; the source's token must not reach
// stderr at any -v, whether kubemint knows it (a token file, a kubeconfig
// token: opaque) or not (a JWT: masked by shape).
func TestRedactsEchoedToken(t *testing.T) {
	proxy := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain")
		rw.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(rw, "upstream failed for request with Authorization: %s", r.Header.Get("Authorization"))
	}))
	defer proxy.Close()
	caFile := filepath.Join(t.TempDir(), "proxy-ca.crt")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	jwt := minter(t)
	opaque := "opaque-source-token-4f9c2a7e1b"
	u := newUserEnv(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kc := filepath.Join(dir, "kubeconfig")
	writeFlowKubeconfig(t, kc, proxy.URL, caFile, []flowUser{{name: "proxied", token: opaque}})
	sources := map[string]struct {
		token string
		args  []string
	}{
		"opaque token file": {opaque, []string{"--source-token-file=" + write("opaque", opaque+"\n"), "--source-server=" + proxy.URL, "--source-certificate-authority=" + caFile}},
		"JWT token file":    {jwt, []string{"--source-token-file=" + write("jwt", jwt), "--source-server=" + proxy.URL, "--source-certificate-authority=" + caFile}},
		"kubeconfig token":  {opaque, []string{"--source-kubeconfig=" + kc, "--source-context=proxied"}},
	}
	for name, src := range sources {
		for _, v := range []string{"-v=0", "-v=1", "-v=10"} {
			r := u.kubemint(t, "", append([]string{"token", "--service-account=ci/deployer", "--cache=none", v}, src.args...)...)
			if r.code == 0 {
				t.Fatalf("%s %s: exit 0 from a server that answers 500", name, v)
			}
			if !strings.Contains(r.stderr, "Authorization") || !strings.Contains(r.stderr, "[redacted]") {
				t.Errorf("%s %s: the echoed body is not quoted, masked, in the error:\n%s", name, v, r.stderr)
			}
			if strings.Contains(r.stderr, src.token) || strings.Contains(r.stderr, "eyJ") {
				t.Errorf("%s %s: the source's token is on stderr:\n%s", name, v, r.stderr)
			}
		}
	}
}

// flowUser is one context of writeFlowKubeconfig: a client certificate, a
// bearer token, or `kubemint token` with exec args.
type flowUser struct {
	name      string
	cert, key string
	token     string
	exec      []string
}

// writeFlowKubeconfig writes a kubeconfig with one cluster and a context
// per user, named as the user.
func writeFlowKubeconfig(t *testing.T, path, server, caFile string, users []flowUser) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: %s\n    certificate-authority: %s\nusers:\n", server, caFile)
	for _, u := range users {
		fmt.Fprintf(&b, "- name: %s\n  user:\n", u.name)
		switch {
		case u.cert != "":
			fmt.Fprintf(&b, "    client-certificate: %s\n    client-key: %s\n", u.cert, u.key)
		case u.token != "":
			fmt.Fprintf(&b, "    token: %s\n", u.token)
		default:
			var quoted []string
			for _, a := range append([]string{"token"}, u.exec...) {
				quoted = append(quoted, fmt.Sprintf("%q", a))
			}
			fmt.Fprintf(&b, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: kubemint\n      args: [%s]\n      interactiveMode: Never\n      provideClusterInfo: true\n", strings.Join(quoted, ", "))
		}
	}
	b.WriteString("contexts:\n")
	for _, u := range users {
		fmt.Fprintf(&b, "- name: %[1]s\n  context: {cluster: c, user: %[1]s}\n", u.name)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStoppedLockHolderIsNamed: a real kubemint holds the lock of an entry
// with nothing valid cached, minting against a server that never answers,
// and is stopped with SIGSTOP. Callers used to wait 25 s each and fail,
// blaming the API server. Now a caller fails within about a second, naming
// the holder's PID, that it is stopped and for how long, and the fix
// (resume or kill it); once resumed and still hung, a caller that waited
// for it in vain marks it stuck, and the next one does not wait the full
// time either.
func TestStoppedLockHolderIsNamed(t *testing.T) {
	u := newUserEnv(t)
	src := filepath.Join(u.home, "source-kubeconfig")
	writeKubeconfig(t, src, silentServer(t), w.cp.CAFile)
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + src}
	holder := exec.Command(filepath.Join(w.binDir, "kubemint-full"), append(args, "--request-timeout=5m")...)
	holder.Env = u.vars
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = holder.Process.Signal(syscall.SIGCONT)
		_ = holder.Process.Kill()
		_ = holder.Wait()
	})
	waitForLockHeld(t, u)
	if err := holder.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	pid := holder.Process.Pid
	// Each call from a new client (a shell of its own), as two kubectl
	// commands are: the same client would get the failure it just had.
	call := func(extra ...string) (result, time.Duration) {
		start := time.Now()
		r := u.run(t, nil, "sh", append([]string{"-c", `"$@"; exit $?`, "sh", filepath.Join(w.binDir, "kubemint")}, append(args, extra...)...)...)
		return r, time.Since(start)
	}

	r, took := call()
	oneErrorLine(t, r, fmt.Sprintf("kubemint process %d, minting ci/deployer, is stopped (SIGSTOP, Ctrl-Z or a debugger) and has held the lock for", pid))
	if want := fmt.Sprintf("kubemint: hint: resume it (kill -CONT %d) or end it (kill %d); the next call then mints at once", pid, pid); !strings.Contains(r.stderr, want) {
		t.Errorf("no hint %q:\n%s", want, r.stderr)
	}
	if strings.Contains(r.stderr, "API server") {
		t.Errorf("the error blames the API server:\n%s", r.stderr)
	}
	if took > 4*time.Second {
		t.Errorf("a caller waited %v for a stopped holder", took.Round(time.Millisecond))
	}

	// Resumed, still hung: not stopped, but known stuck.
	if err := holder.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	r, took = call()
	oneErrorLine(t, r, fmt.Sprintf("kubemint process %d, minting ci/deployer, has held the lock for", pid), "without finishing (stuck?)")
	if took > 4*time.Second {
		t.Errorf("a caller waited %v for a holder already found stuck", took.Round(time.Millisecond))
	}
}

// waitForLockHeld waits until another process holds the lock of the
// user's one entry.
func waitForLockHeld(t *testing.T, u *userEnv) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		locks, _ := filepath.Glob(filepath.Join(u.cache, "kubemint", "*.lock"))
		if len(locks) == 1 {
			lock := flock.New(locks[0], flock.SetPermissions(0o600))
			ok, err := lock.TryLock()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return
			}
			_ = lock.Unlock()
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the minting kubemint did not take the lock within 10 s")
		}
	}
}
