package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubemint/kubemint/cache"
)

// TestUnusableCacheDirStillWorks: a home where the cache cannot be created
// (read-only, or a file in the way) costs a mint per call and a warning,
// never a failed kubectl.
func TestUnusableCacheDirStillWorks(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	blocker := filepath.Join(u.home, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	u.vars = append(u.vars, "KUBECONFIG="+kc, "XDG_CACHE_HOME="+filepath.Join(blocker, "cache"))
	before := tokenRequests(t)
	for i := range 2 {
		r := u.kubectl(t, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if r.code != 0 || r.stdout != "system:serviceaccount:ci:deployer" {
			t.Fatalf("call %d: exit %d, stdout %q, stderr %s", i, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "kubemint: warning: cannot use the cache") || !strings.Contains(r.stderr, "minting without it") {
			t.Errorf("call %d: no warning on stderr:\n%s", i, r.stderr)
		}
	}
	if got := tokenRequests(t) - before; got != 2 {
		t.Errorf("two calls without a cache made %v TokenRequests, want 2", got)
	}
}

// TestWorldReadableEntryIsReplaced: like ssh with a private key, a cache
// file others can read is not used; a new token replaces it, privately.
func TestWorldReadableEntryIsReplaced(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc}
	first := u.kubemint(t, info, args...)
	if first.code != 0 {
		t.Fatal(first.stderr)
	}
	files := u.cacheEntries()
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	if err := os.Chmod(files[0], 0o644); err != nil {
		t.Fatal(err)
	}
	before := tokenRequests(t)
	second := u.kubemint(t, info, args...)
	if second.code != 0 {
		t.Fatal(second.stderr)
	}
	if !strings.Contains(second.stderr, "kubemint: warning: not using the cached token for ci/deployer") || !strings.Contains(second.stderr, "mode -rw-r--r--") {
		t.Errorf("no warning about the readable file:\n%s", second.stderr)
	}
	if tokenRequests(t)-before != 1 || tokenOf(t, first.stdout) == tokenOf(t, second.stdout) {
		t.Errorf("the readable token was served instead of a new one")
	}
	assertMode(t, files[0], 0o600)
}

// silentServer accepts TCP connections and never answers: a hung API
// server, or a firewall that swallows packets after the handshake.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return "https://" + l.Addr().String()
}

// TestHungServerIsBounded: a server that never answers costs at most
// --request-timeout; a still-valid cached token is served, and without one
// the error names the server.
func TestHungServerIsBounded(t *testing.T) {
	u := newUserEnv(t)
	good := u.kubeconfig(t)
	hungServer := silentServer(t)
	hung := writeKubeconfig(t, filepath.Join(t.TempDir(), "kubeconfig"), hungServer, w.cp.CAFile)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	// The source's server is swapped for a hung one below; --allow-server
	// keeps the exec info's cluster pinned (one server under two names), so
	// what is tested is the outage, not the server pin.
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--duration=10m", "--refresh-before=9m58s", "--request-timeout=2s", "-v=1", "--allow-server=" + w.cp.Server}

	if r := u.kubemint(t, info, append(args, "--source-kubeconfig="+good)...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	time.Sleep(2500 * time.Millisecond) // due for a re-mint
	start := time.Now()
	// The same source (it is part of the cache key), its server now hung.
	writeKubeconfig(t, good, hungServer, w.cp.CAFile)
	r := u.kubemint(t, info, append(args, "--source-kubeconfig="+good)...)
	took := time.Since(start)
	if r.code != 0 || !strings.Contains(r.stderr, "serving the cached token") {
		t.Errorf("with a hung server and a valid cached token: exit %d, stderr %s", r.code, r.stderr)
	}
	if took > 6*time.Second {
		t.Errorf("took %v with --request-timeout=2s", took)
	}

	start = time.Now()
	r = u.kubemint(t, info, "token", "--service-account=ci/other", "--source-context=admin", "--request-timeout=2s", "--source-kubeconfig="+hung, "--allow-server="+w.cp.Server)
	took = time.Since(start)
	if line, _, ok := errorAndHints(r.stderr); r.code == 0 || !ok || !strings.Contains(line, "cannot reach the API server "+hungServer) {
		t.Errorf("with a hung server and no cache: exit %d, stderr %q", r.code, r.stderr)
	}
	if took > 6*time.Second {
		t.Errorf("took %v with --request-timeout=2s", took)
	}
}

// TestKillNineLeavesTheCacheReadable: kubemint killed at any moment of a
// mint or a write leaves the old entry or the new one, never a torn one,
// and no lock that blocks the next call.
func TestKillNineLeavesTheCacheReadable(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc, "--cache=file"}
	if r := u.kubemint(t, info, args...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	dir := filepath.Join(u.cache, "kubemint")
	entries, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(entries) != 1 {
		t.Fatalf("cache files: %v", entries)
	}
	path := entries[0]
	key := strings.TrimSuffix(filepath.Base(path), ".json")
	// An old entry, still valid but due for a re-mint, so that every run
	// mints and writes over it.
	due := func() {
		t.Helper()
		old := cache.Entry{Token: "old.entry.token", Issued: time.Now().Add(-10 * time.Hour), Expiry: time.Now().Add(5 * time.Minute)}
		if err := os.WriteFile(path, old.Encode(key), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func() *exec.Cmd {
		cmd := exec.Command(filepath.Join(w.binDir, "kubemint"), args...)
		cmd.Env = append(append([]string{}, u.vars...), "KUBERNETES_EXEC_INFO="+info)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// Time one whole mint, so that the kills spread over all of it: the
	// start, the request, the write and the rename.
	due()
	start := time.Now()
	_ = run().Wait()
	span := time.Since(start)

	killed, replaced := 0, 0
	for i := range 30 {
		due()
		cmd := run()
		// From the start to a little past the end: the last runs finish.
		time.Sleep(span * time.Duration(i) / 24)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed++
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("after kill %d: %v", i, err)
		}
		e, err := cache.Decode(key, b)
		if err != nil {
			t.Fatalf("after kill %d: the entry is torn: %v", i, err)
		}
		if e.Token != "old.entry.token" {
			replaced++
		}
	}
	t.Logf("killed %d of 30 mints before they finished, %d replaced the entry (a mint takes %v)", killed, replaced, span.Round(time.Millisecond))
	if killed < 5 {
		t.Errorf("only %d runs were killed mid-way; the test proves little", killed)
	}
	start = time.Now()
	if r := u.kubemint(t, info, args...); r.code != 0 || time.Since(start) > 5*time.Second {
		t.Errorf("the call after the kills: exit %d in %v: %s", r.code, time.Since(start), r.stderr)
	}
}

// TestLargestToken measures the largest entry a TokenRequest makes: five
// audiences and a token bound to a Pod. Windows Credential Manager refuses
// blobs over 2560 bytes; kubemint stores such an entry in a file instead
// (cache/TestKeyringRefusesALargeEntry), so this records how close it gets.
func TestLargestToken(t *testing.T) {
	mustAdmin(t, `apiVersion: v1
kind: Pod
metadata: {name: a-pod-with-a-rather-long-name-for-binding-tokens-to, namespace: ci}
spec:
  serviceAccountName: deployer
  containers: [{name: c, image: registry.example/none}]
`, "apply", "-f", "-")
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc,
		"--bound-object-kind=Pod", "--bound-object-name=a-pod-with-a-rather-long-name-for-binding-tokens-to", "--cache=file"}
	for _, a := range []string{"https://kubernetes.default.svc", "vault.example.com", "sts.amazonaws.com", "https://oidc.example.org/some/long/path", "api://AzureADTokenExchange"} {
		args = append(args, "--audience="+a)
	}
	r := u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), args...)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	files := u.cacheEntries()
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	fi, _ := os.Stat(files[0])
	t.Logf("largest entry: %d bytes (token %d bytes); Windows Credential Manager's limit is 2560", fi.Size(), len(tokenOf(t, r.stdout)))
	if fi.Size() > 4096 {
		t.Errorf("an entry of %d bytes would not fit the macOS security command either", fi.Size())
	}
}
