package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestKubectlThroughExecEntry is the product's promise: kubectl, given a
// kubeconfig exec entry, acts as the service account, within the RBAC it
// was granted, and the second call is served from the cache.
func TestKubectlThroughExecEntry(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	// kubemint finds the source context through the same kubeconfig.
	u.vars = append(u.vars, "KUBECONFIG="+kc)

	before := tokenRequests(t)
	r := u.kubectl(t, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	if r.code != 0 {
		t.Fatalf("kubectl auth whoami: exit %d: %s", r.code, r.stderr)
	}
	if got, want := r.stdout, "system:serviceaccount:ci:deployer"; got != want {
		t.Errorf("kubectl auth whoami = %q, want %q", got, want)
	}
	if got := tokenRequests(t) - before; got != 1 {
		t.Errorf("first call made %v TokenRequests, want 1", got)
	}

	// The Role allows pods in ci and nothing elsewhere.
	if r := u.kubectl(t, "get", "pods", "-n", "ci"); r.code != 0 {
		t.Errorf("kubectl get pods -n ci: exit %d: %s", r.code, r.stderr)
	}
	r = u.kubectl(t, "get", "pods", "-n", "other")
	if r.code == 0 || !strings.Contains(r.stderr, "forbidden") {
		t.Errorf("kubectl get pods -n other: exit %d, stderr %q; want forbidden", r.code, r.stderr)
	}
	if got := tokenRequests(t) - before; got != 1 {
		t.Errorf("three kubectl calls made %v TokenRequests, want 1 (the rest from the cache)", got)
	}

	// No D-Bus session here, so auto stored the token in a private file.
	dir := filepath.Join(u.cache, "kubemint")
	assertMode(t, dir, 0o700|os.ModeDir)
	entries, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(entries) != 1 {
		t.Fatalf("cache entries = %v, want one", entries)
	}
	assertMode(t, entries[0], 0o600)
}

// TestParallelCallsMintOnce: N kubectl processes on an empty cache make
// one TokenRequest; the rest wait on the lock and read its result.
func TestParallelCallsMintOnce(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	const n = 8
	before := tokenRequests(t)
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = u.kubectl(t, "get", "pods", "-n", "ci")
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("call %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	if got := tokenRequests(t) - before; got != 1 {
		t.Errorf("%d parallel kubectl calls made %v TokenRequests, want 1", n, got)
	}
}

// TestExecCredentialVersions: kubemint answers in the apiVersion it was
// asked in, with the token and the moment it wants to be asked again.
func TestExecCredentialVersions(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	for _, v := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		for _, phase := range []string{"mint", "cache hit"} {
			start := time.Now()
			r := u.kubemint(t, execInfo(t, v), "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc, "--duration=20m")
			if r.code != 0 {
				t.Fatalf("%s %s: exit %d: %s", v, phase, r.code, r.stderr)
			}
			var ec struct {
				Kind       string `json:"kind"`
				APIVersion string `json:"apiVersion"`
				Status     struct {
					Token               string    `json:"token"`
					ExpirationTimestamp time.Time `json:"expirationTimestamp"`
				} `json:"status"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &ec); err != nil {
				t.Fatalf("%s %s: stdout is not an ExecCredential: %v", v, phase, err)
			}
			if ec.Kind != "ExecCredential" || ec.APIVersion != v || ec.Status.Token == "" {
				t.Errorf("%s %s: got kind %q apiVersion %q token set %v", v, phase, ec.Kind, ec.APIVersion, ec.Status.Token != "")
			}
			// 20m token, default margin a fifth: asked again after ~16m.
			if d := ec.Status.ExpirationTimestamp.Sub(start); d < 15*time.Minute || d > 17*time.Minute {
				t.Errorf("%s %s: expirationTimestamp is %v away, want about 16m (expiry minus a fifth)", v, phase, d)
			}
		}
	}
}

// TestClientGoAcrossRemint: a long-running client-go program keeps working
// while kubemint re-mints its token under it.
func TestClientGoAcrossRemint(t *testing.T) {
	u := newUserEnv(t)
	// A 10m token due for a re-mint 3s after it is minted.
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin", "--duration=10m", "--refresh-before=9m57s")
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	before := tokenRequests(t)
	prog := filepath.Join(w.binDir, "clientgo-consumer")
	if _, err := os.Stat(prog); err != nil {
		buildConsumer(t, prog)
	}
	r := u.run(t, nil, prog, "-kubeconfig", kc, "-context", "deployer", "-namespace", "ci", "-for", "10s", "-every", "500ms")
	if r.code != 0 {
		t.Fatalf("client-go consumer: exit %d: %s", r.code, r.stderr)
	}
	var calls int
	if _, err := fmt.Sscan(r.stdout, &calls); err != nil || calls < 15 {
		t.Fatalf("consumer made %q successful calls, want at least 15", r.stdout)
	}
	// Minted at once, then re-minted every 3s: several times in 10s, all
	// within one process that never saw a failed call.
	if got := tokenRequests(t) - before; got < 3 {
		t.Errorf("10s of calls with a re-mint every 3s made %v TokenRequests, want at least 3", got)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModePerm | os.ModeDir); got != want {
		t.Errorf("%s has mode %v, want %v", path, got, want)
	}
}

func buildConsumer(t *testing.T, out string) {
	t.Helper()
	b := exec.Command("go", "build", "-o", out, "./clientgo-consumer")
	if o, err := b.CombinedOutput(); err != nil {
		t.Fatalf("building the client-go consumer: %v\n%s", err, o)
	}
}

// TestCorruptEntryIsReminted: a cache entry that cannot be read (a disk
// error, a foreign file) is a miss: kubemint mints, says so at -v=1, and
// replaces it.
func TestCorruptEntryIsReminted(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc, "-v=1"}
	if r := u.kubemint(t, info, args...); r.code != 0 {
		t.Fatalf("mint: %s", r.stderr)
	}
	files := u.cacheEntries()
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	if err := os.WriteFile(files[0], []byte(`{"v":2,"k":"x","t":"eyJ`), 0o600); err != nil {
		t.Fatal(err)
	}
	before := tokenRequests(t)
	r := u.kubemint(t, info, args...)
	if r.code != 0 {
		t.Fatalf("with a torn entry: exit %d: %s", r.code, r.stderr)
	}
	tokenOf(t, r.stdout)
	if !strings.Contains(r.stderr, "is unreadable; minting a new token to replace it") {
		t.Errorf("-v=1 does not report the unreadable entry:\n%s", r.stderr)
	}
	if got := tokenRequests(t) - before; got != 1 {
		t.Errorf("made %v TokenRequests, want 1", got)
	}
	if r := u.kubemint(t, info, args...); r.code != 0 || tokenRequests(t)-before != 1 {
		t.Errorf("the replaced entry is not served from the cache")
	}
}

// TestKubectlPlugin: install.sh links kubectl-mint, so `kubectl mint`
// reaches kubemint as a kubectl plugin.
func TestKubectlPlugin(t *testing.T) {
	u := newUserEnv(t)
	dir := t.TempDir()
	r := u.run(t, append(callersGoEnv(t), "BINDIR="+dir), "sh", "../install.sh")
	if r.code != 0 {
		t.Fatalf("install.sh: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	u.vars = append(u.vars, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	r = u.kubectl(t, "mint", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "kubemint ") {
		t.Errorf("kubectl mint version: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestInstallRefusesAWorldWritableDir: install.sh into a directory every
// user may write to (not sticky), or below one, stops before building, says
// why and how to fix it, and installs nothing (before: it installed, and
// another user then replaced kubemint-full). Below a sticky directory (as
// /tmp) it installs.
func TestInstallRefusesAWorldWritableDir(t *testing.T) {
	u := newUserEnv(t)
	for _, tt := range []struct {
		name   string
		mode   os.FileMode
		bindir string // below the directory of mode
		ok     bool
	}{
		{"world-writable", 0o777, "", false},
		{"below a world-writable one", 0o777, "sub/bin", false},
		{"below a sticky one", 0o777 | os.ModeSticky, "bin", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			bindir := filepath.Join(dir, tt.bindir)
			r := u.run(t, append(callersGoEnv(t), "BINDIR="+bindir), "sh", "../install.sh")
			if tt.ok {
				if r.code != 0 {
					t.Errorf("install.sh: exit %d: %s", r.code, r.stderr)
				}
				return
			}
			want := "install.sh: error: " + dir + " is writable by every user and not sticky: anyone could replace kubemint-full in " + bindir + "\ninstall.sh: hint: chmod o-w '" + dir + "' (or chmod +t '" + dir + "'), or install elsewhere: BINDIR=$HOME/.local/bin ./install.sh\n"
			if r.code == 0 || r.stderr != want {
				t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.stderr, want)
			}
			if _, err := os.Stat(filepath.Join(bindir, "kubemint-full")); err == nil {
				t.Errorf("installed into %s", bindir)
			}
		})
	}
}

// callersGoEnv is the caller's Go setup (its go env file, module and build
// caches) for an install.sh run under the user's HOME: without it go would
// look for them under that empty HOME, download every module again and
// rebuild everything, which took minutes.
func callersGoEnv(t *testing.T) []string {
	t.Helper()
	names := []string{"GOENV", "GOMODCACHE", "GOCACHE", "GOPATH"}
	out, err := exec.Command("go", append([]string{"env"}, names...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	values := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(values) != len(names) {
		t.Fatalf("go env printed %q, want %d lines", out, len(names))
	}
	var env []string
	for i, n := range names {
		env = append(env, n+"="+values[i])
	}
	return env
}
