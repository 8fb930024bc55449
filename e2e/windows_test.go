package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// wineEnv runs the Windows builds of kubemint, its cache tests and kubectl
// under Wine: the Win32 file, security and Credential Manager APIs as Wine
// implements them, talking to the real control plane over loopback. It is
// not Windows, but it runs the code that only Windows builds compile (the
// access-list check, the rename retry, the Credential Manager keyring, the
// front handing off to kubemint-full as a child process) instead of only
// cross-building it.
type wineEnv struct {
	bin     string // kubemint.exe, kubemint-full.exe, cache.test.exe
	kubectl string // kubectl.exe, or "" when make tools did not build it
	env     []string
}

func newWineEnv(t *testing.T) *wineEnv {
	t.Helper()
	if _, err := exec.LookPath("wine"); err != nil {
		missingOptional(t, "wine", "not installed", "the Windows builds are only cross-built here; make deps installs wine64 and mingw-w64")
	}
	// mingw-w64 builds the bcryptprimitives.dll that Go needs and Wine 8 lacks.
	gcc, err := exec.LookPath("x86_64-w64-mingw32-gcc")
	if err != nil {
		missingOptional(t, "wine", "x86_64-w64-mingw32-gcc not installed", "make deps installs gcc-mingw-w64-x86-64-win32")
	}
	dir := t.TempDir()
	prefix := filepath.Join(dir, "prefix")
	we := &wineEnv{bin: filepath.Join(dir, "bin")}
	// No display: Wine's dialogs (Mono and Gecko installers) cannot show.
	we.env = append(environWithout("DISPLAY", "WAYLAND_DISPLAY", "WINEPREFIX", "WINEDEBUG"), "WINEPREFIX="+prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
	t.Cleanup(func() {
		k := exec.Command("wineserver", "-k")
		k.Env = we.env
		_ = k.Run()
	})

	start := time.Now()
	we.mustRun(t, "wineboot", "-i")
	// From now on one wineserver serves the whole test, started apart from
	// the test's pipes: each wine call would otherwise leave one behind
	// that holds them for a few seconds. Wine's server creates the files,
	// with modes from its own umask, and derives each file's access list
	// from its mode: 077 makes what Windows programs create private.
	server := exec.Command("sh", "-c", "umask 077 && wineserver -w && exec wineserver -p")
	server.Env = we.env
	if err := server.Run(); err != nil { // its output goes to /dev/null
		t.Fatalf("starting wineserver: %v", err)
	}
	dll := filepath.Join(prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	if out, err := exec.Command(gcc, "-shared", "-O2", "-o", dll, "wine/bcryptprimitives.c", "wine/bcryptprimitives.def", "-lbcrypt").CombinedOutput(); err != nil {
		t.Fatalf("building the bcryptprimitives.dll stand-in: %v\n%s", err, out)
	}
	goEnv := append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	for _, args := range [][]string{
		{"build", "-trimpath", "-o", we.bin + "/", "../cmd/kubemint", "../cmd/kubemint-full"},
		{"test", "-c", "-o", filepath.Join(we.bin, "cache.test.exe"), "../cache"},
		{"test", "-c", "-o", filepath.Join(we.bin, "atomicfile.test.exe"), "../internal/atomicfile"},
	} {
		build := exec.Command("go", args...)
		build.Env = goEnv
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if k := filepath.Join(filepath.Dir(w.kubectl), "kubectl.exe"); fileExists(k) {
		we.kubectl = k
	}
	t.Logf("Wine prefix and Windows builds ready in %v", time.Since(start).Round(100*time.Millisecond))
	return we
}

// winKubeconfig rewrites a kubeconfig of newUserEnv for Windows programs:
// its file paths are Unix-absolute, which Windows reads as relative ones, and
// its exec entry runs kubemint.exe from the Windows build.
func (we *wineEnv) winKubeconfig(t *testing.T, kc string) string {
	t.Helper()
	b, err := os.ReadFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("command: kubemint\n"), []byte("command: "+filepath.Join(we.bin, "kubemint.exe")+"\n"), 1)
	b = unixPathField.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := unixPathField.FindSubmatch(m)
		return append(append([]byte{}, sub[1]...), winPath(string(sub[2]))...)
	})
	if err := os.WriteFile(kc, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

var unixPathField = regexp.MustCompile(`(?m)^(\s*(?:certificate-authority|client-certificate|client-key|command): )(/\S*)$`)

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// winPath names a file of this machine as Windows programs under Wine see
// it: Wine maps the Unix root to drive Z:.
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// run runs a Windows program under Wine. Wine 8 now and then fails to
// start a child process with "Internal error." (seen once in the handoff
// from kubemint.exe to kubemint-full.exe, in a full -race run, and not
// again in dozens of runs under load); that one failure of the emulator
// is retried once, and logged.
func (we *wineEnv) run(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	for attempt := 1; ; attempt++ {
		cmd := exec.Command("wine", args...)
		cmd.Env = append(append([]string{}, we.env...), extraEnv...)
		r := runCmd(t, cmd, 3*time.Minute)
		if attempt == 1 && r.code != 0 && strings.Contains(r.stderr, "fork/exec") && strings.Contains(r.stderr, "Internal error.") {
			t.Logf("Wine could not start a child process; trying once more:\n%s", r.stderr)
			continue
		}
		return r
	}
}

func (we *wineEnv) mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := we.run(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("wine %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// TestWindowsUnderWine: the Windows builds mint, cache in the file cache
// and in the Credential Manager, refuse a cache file whose access list lets
// others in, and serve kubectl.exe through its exec entry.
func TestWindowsUnderWine(t *testing.T) {
	we := newWineEnv(t)

	t.Run("cache package tests for Windows", func(t *testing.T) {
		r := we.mustRun(t, filepath.Join(we.bin, "cache.test.exe"), "-test.run", "^TestWindows", "-test.v")
		for _, name := range []string{"TestWindowsForeignGrantees", "TestWindowsNullDACL"} {
			if !strings.Contains(r.stdout, "--- PASS: "+name) {
				t.Errorf("%s did not pass under Wine:\n%s", name, r.stdout)
			}
		}
		// The atomic writer the cache uses (its rename retry lives there).
		r = we.mustRun(t, filepath.Join(we.bin, "atomicfile.test.exe"), "-test.run", "^TestWindows", "-test.v")
		for _, name := range []string{"TestWindowsRenameWaitsForAReader", "TestWindowsRenameGivesUp"} {
			if !strings.Contains(r.stdout, "--- PASS: "+name) {
				t.Errorf("%s did not pass under Wine:\n%s", name, r.stdout)
			}
		}
	})

	// tokenCall runs kubemint.exe token as kubectl would, with a cache
	// under dir and the admin context of the test's kubeconfig as source.
	type call struct {
		cacheDir, kubeconfig string
		args                 []string
	}
	tokenCall := func(t *testing.T, c call) result {
		t.Helper()
		args := append([]string{filepath.Join(we.bin, "kubemint.exe"), "token",
			"--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + winPath(c.kubeconfig)}, c.args...)
		r := we.run(t, []string{
			"XDG_CACHE_HOME=" + winPath(c.cacheDir),
			"KUBERNETES_EXEC_INFO=" + execInfo(t, "client.authentication.k8s.io/v1"),
		}, args...)
		if r.code != 0 {
			t.Fatalf("kubemint.exe token: exit %d\n%s", r.code, r.stderr)
		}
		if tok := tokenOf(t, r.stdout); tok == "" {
			t.Fatalf("no token in %q", r.stdout)
		}
		return r
	}

	// mintThenHit makes two calls: the first mints, the second must answer
	// the same credential from where the first stored it.
	mintThenHit := func(t *testing.T, c call, where string) {
		t.Helper()
		before := tokenRequests(t)
		first := tokenCall(t, c)
		second := tokenCall(t, c)
		if first.stdout != second.stdout {
			t.Errorf("the second call answered another credential; want the one in %s", where)
		}
		if got := tokenRequests(t) - before; got != 1 {
			t.Errorf("two calls made %v TokenRequests, want 1 (the second from %s)", got, where)
		}
	}

	t.Run("file cache", func(t *testing.T) {
		u := newUserEnv(t)
		c := call{cacheDir: u.cache, kubeconfig: we.winKubeconfig(t, u.kubeconfig(t)), args: []string{"--cache=file"}}
		mintThenHit(t, c, "the file cache")
		files := u.cacheEntries()
		if len(files) != 1 {
			t.Fatalf("cache files: %v, want one entry", files)
		}
		assertMode(t, files[0], 0o600)
		if r := we.run(t, []string{"XDG_CACHE_HOME=" + winPath(u.cache)}, filepath.Join(we.bin, "kubemint.exe"), "status"); r.code != 0 || !strings.Contains(r.stdout, "ci/deployer") {
			t.Errorf("status: exit %d, does not list the entry:\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("an entry that Everyone may read is refused", func(t *testing.T) {
		// Wine derives a file's access list from its Unix mode: a 0644
		// entry is one that Windows programs are told Everyone may read,
		// as a file in a shared folder would be on Windows.
		u := newUserEnv(t)
		c := call{cacheDir: u.cache, kubeconfig: we.winKubeconfig(t, u.kubeconfig(t)), args: []string{"--cache=file", "-v=1"}}
		tokenCall(t, c)
		files := u.cacheEntries()
		if len(files) != 1 {
			t.Fatalf("cache files: %v, want one entry", files)
		}
		if err := os.Chmod(files[0], 0o644); err != nil {
			t.Fatal(err)
		}
		before := tokenRequests(t)
		r := tokenCall(t, c)
		if got := tokenRequests(t) - before; got != 1 {
			t.Errorf("a call over an entry Everyone may read made %v TokenRequests, want 1: it must not be served", got)
		}
		if !strings.Contains(r.stderr, "grants access to Everyone") {
			t.Errorf("stderr does not say why the entry was refused:\n%s", r.stderr)
		}
		// The new entry is private again, and serves the next call.
		assertMode(t, files[0], 0o600)
		before = tokenRequests(t)
		tokenCall(t, c)
		if got := tokenRequests(t) - before; got != 0 {
			t.Errorf("the private entry that replaced it was not served: %v TokenRequests", got)
		}
	})

	t.Run("a shared cache directory that cannot be made private", func(t *testing.T) {
		// A 0755 directory is one Everyone may list and read. kubemint
		// gives it a private access list and reads it back; Wine ignores
		// the change, as FAT or some network shares would, so kubemint
		// must warn and mint without the cache, never fail the call.
		u := newUserEnv(t)
		dir := filepath.Join(u.cache, "kubemint")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		c := call{cacheDir: u.cache, kubeconfig: we.winKubeconfig(t, u.kubeconfig(t)), args: []string{"--cache=file"}}
		before := tokenRequests(t)
		for range 2 {
			r := tokenCall(t, c)
			if !strings.Contains(r.stderr, "granted access to Everyone and cannot be made private: the file system did not keep the new access list") {
				t.Errorf("no warning naming the access list:\n%s", r.stderr)
			}
		}
		if got := tokenRequests(t) - before; got != 2 {
			t.Errorf("two calls made %v TokenRequests, want 2 (no cache)", got)
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(files) != 0 {
			t.Errorf("a token was written into the shared directory: %v", files)
		}
	})

	t.Run("Credential Manager", func(t *testing.T) {
		u := newUserEnv(t)
		c := call{cacheDir: u.cache, kubeconfig: we.winKubeconfig(t, u.kubeconfig(t)), args: []string{"--cache=keyring"}}
		mintThenHit(t, c, "the Credential Manager")
		if files := u.cacheEntries(); len(files) != 0 {
			t.Errorf("--cache=keyring wrote cache files: %v", files)
		}
		// clean empties the Credential Manager too: the next call mints.
		if r := we.run(t, []string{"XDG_CACHE_HOME=" + winPath(u.cache)}, filepath.Join(we.bin, "kubemint.exe"), "clean"); r.code != 0 {
			t.Fatalf("clean: exit %d\n%s", r.code, r.stderr)
		}
		n := tokenRequests(t)
		tokenCall(t, c)
		if got := tokenRequests(t) - n; got != 1 {
			t.Errorf("after clean, a call made %v TokenRequests, want 1", got)
		}
	})

	t.Run("kubectl.exe through the exec entry", func(t *testing.T) {
		if we.kubectl == "" {
			missingOptional(t, "kubectl.exe", "not in tools/bin", "make tools builds it")
		}
		u := newUserEnv(t)
		kc := we.winKubeconfig(t, u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin", "--cache=file"))
		env := []string{"KUBECONFIG=" + winPath(kc), "XDG_CACHE_HOME=" + winPath(u.cache)}
		before := tokenRequests(t)
		for i := range 2 {
			r := we.run(t, env, we.kubectl, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
			if r.code != 0 || r.stdout != "system:serviceaccount:ci:deployer" {
				t.Fatalf("call %d: exit %d, stdout %q\n%s", i, r.code, r.stdout, r.stderr)
			}
		}
		if got := tokenRequests(t) - before; got != 1 {
			t.Errorf("two kubectl.exe calls made %v TokenRequests, want 1", got)
		}
		if r := we.run(t, env, we.kubectl, "get", "pods", "-n", "other"); r.code == 0 || !strings.Contains(r.stderr, "forbidden") {
			t.Errorf("get pods -n other: exit %d, want forbidden:\n%s", r.code, r.stderr)
		}
	})
}
