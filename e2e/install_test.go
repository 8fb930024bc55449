package e2e

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The install tests install kubemint as users do: the .deb with dpkg, the
// krew manifest with real krew, `go install module/cmd/...@version` from a
// module proxy. They use what `make dist` built in ../dist and the tools in
// ../tools/bin (make release-tools); `make test` builds both first and sets
// KUBEMINT_DIST_REQUIRED, so that there a missing dist fails instead of
// skipping.

// distDir is `make dist`'s output.
func distDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "dist"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d, "checksums.txt")); err != nil {
		missing(t, "no release in %s: run make dist", d)
	}
	return d
}

// releaseTool is a tool of tools/bin (krew, validate-krew-manifest).
func releaseTool(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "tools", "bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		missing(t, "%s is not built: run make release-tools", p)
	}
	return p
}

// missing skips, or fails under make test, which builds what is missing.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("KUBEMINT_DIST_REQUIRED") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// distFile is the one file of dist matching pattern.
func distFile(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(distDir(t), pattern))
	if len(m) != 1 {
		t.Fatalf("dist/%s matches %v, want one file", pattern, m)
	}
	return m[0]
}

// installedUser is a user's shell whose PATH holds only the install under
// test and the system's directories: not the binaries TestMain built.
func installedUser(t *testing.T, path ...string) *userEnv {
	t.Helper()
	u := newUserEnv(t)
	for i, kv := range u.vars {
		if strings.HasPrefix(kv, "PATH=") {
			u.vars[i] = "PATH=" + strings.Join(append(path, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"), string(os.PathListSeparator))
		}
	}
	return u
}

// mintsAndHits runs kubectl twice through an exec entry that runs command:
// the first call mints one token, the second is served from the cache.
func mintsAndHits(t *testing.T, u *userEnv, kubectl, command string) {
	t.Helper()
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	b, err := os.ReadFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kc, []byte(strings.Replace(string(b), "command: kubemint\n", "command: "+command+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	for i, want := range []float64{1, 0} {
		before := tokenRequests(t)
		r := u.run(t, nil, kubectl, "get", "pods", "-n", "ci")
		if r.code != 0 {
			t.Fatalf("kubectl get pods through exec command %s (call %d): exit %d: %s", command, i+1, r.code, r.stderr)
		}
		if got := tokenRequests(t) - before; got != want {
			t.Errorf("kubectl call %d through %s made %v TokenRequests, want %v", i+1, command, got, want)
		}
	}
}

// wantVersion checks that `name args...` prints kubemint's version line.
func wantVersion(t *testing.T, u *userEnv, name string, args ...string) string {
	t.Helper()
	r := u.run(t, nil, name, args...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "kubemint ") || r.stderr != "" {
		t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// TestInstallDebianPackage: the .deb installs with dpkg, kubemint and
// kubectl mint answer from PATH, an exec entry naming bare `kubemint`
// mints then hits, and dpkg -r removes every file it installed.
func TestInstallDebianPackage(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("installing a .deb needs root: run the e2e tests as root (CI does)")
	}
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg is not installed: this test needs a Debian-based system")
	}
	deb := distFile(t, "kubemint_*_"+runtime.GOARCH+".deb")
	if out, err := exec.Command("dpkg", "-s", "kubemint").CombinedOutput(); err == nil {
		t.Skipf("a kubemint package is already installed on this machine; not touching it:\n%s", out)
	}
	start := time.Now()
	if out, err := exec.Command("dpkg", "-i", deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i %s: %v\n%s", deb, err, out)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			_ = exec.Command("dpkg", "-P", "kubemint").Run()
		}
	})
	out, err := exec.Command("dpkg", "-L", "kubemint").Output()
	if err != nil {
		t.Fatalf("dpkg -L kubemint: %v", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if fi, err := os.Lstat(f); err == nil && !fi.IsDir() {
			files = append(files, f)
		}
	}
	for _, want := range []string{"/usr/bin/kubemint", "/usr/bin/kubemint-full", "/usr/bin/kubectl-mint",
		"/usr/share/bash-completion/completions/kubemint", "/usr/share/doc/kubemint/copyright"} {
		if !contains(files, want) {
			t.Errorf("the package does not install %s; it installs %v", want, files)
		}
	}

	u := installedUser(t)
	v := wantVersion(t, u, "kubemint", "version")
	if got := wantVersion(t, u, w.kubectl, "mint", "version"); got != v {
		t.Errorf("kubectl mint version = %q, kubemint version = %q", got, v)
	}
	if got := wantVersion(t, u, "kubemint-full", "version"); got != v {
		t.Errorf("kubemint-full version = %q, kubemint version = %q: not one build", got, v)
	}
	mintsAndHits(t, u, w.kubectl, "kubemint")

	if out, err := exec.Command("dpkg", "-r", "kubemint").CombinedOutput(); err != nil {
		t.Fatalf("dpkg -r kubemint: %v\n%s", err, out)
	}
	removed = true
	for _, f := range files {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("dpkg -r left %s", f)
		}
	}
	t.Logf("dpkg install, mint, hit, remove: %v", time.Since(start).Round(time.Millisecond))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestInstallKrew: the krew manifest passes krew's validator and installs
// with real krew from the release archive into a throwaway KREW_ROOT; then
// `kubectl mint version` works and an exec entry naming krew's
// bin/kubectl-mint mints then hits: the front finds kubemint-full through
// krew's symlink into its store.
func TestInstallKrew(t *testing.T) {
	manifest := distFile(t, filepath.Join("krew", "mint.yaml"))
	archive := distFile(t, "kubemint_*_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")
	krew := releaseTool(t, "krew")
	validate := releaseTool(t, "validate-krew-manifest")
	start := time.Now()

	// A PATH with kubectl, krew as its plugin, and nothing of kubemint.
	tools := t.TempDir()
	for name, target := range map[string]string{"kubectl": w.kubectl, "kubectl-krew": krew} {
		if err := os.Symlink(target, filepath.Join(tools, name)); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(t.TempDir(), "krew")
	u := installedUser(t, filepath.Join(root, "bin"), tools)
	u.vars = append(u.vars, "KREW_ROOT="+root, "KREW_NO_UPGRADE_CHECK=1")

	// The archives are not at their release URLs yet: the validator checks
	// the manifest, and krew installs from the archive itself (below).
	if r := u.run(t, nil, validate, "-manifest", manifest, "-skip-install"); r.code != 0 {
		t.Fatalf("validate-krew-manifest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := u.run(t, nil, "kubectl", "krew", "install", "--manifest="+manifest, "--archive="+archive); r.code != 0 {
		t.Fatalf("kubectl krew install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	link := filepath.Join(root, "bin", "kubectl-mint")
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("krew did not link %s: %v", link, err)
	}
	wantVersion(t, u, "kubectl", "mint", "version")
	mintsAndHits(t, u, "kubectl", link)
	t.Logf("krew validate, install, mint, hit: %v", time.Since(start).Round(time.Millisecond))
}

// TestInstallGoInstall: what a user typing `go install
// github.com/kubemint/kubemint/cmd/...@vX` gets. The module, as this
// checkout holds it, is served at v0.99.0 by a file:// module proxy (what
// proxy.golang.org serves for a tag); go install builds both binaries in
// module mode, as it would from the real proxy, and they report the module
// version, run `version`, and mint then hit through an exec entry naming
// the installed binary.
func TestInstallGoInstall(t *testing.T) {
	const version = "v0.99.0"
	start := time.Now()
	proxy := t.TempDir()
	moduleProxy(t, proxy, version)
	gobin := t.TempDir()
	// -trimpath (GOFLAGS) only keeps the build cache warm across module
	// caches. A module cache of its own, so that the module is fetched from the
	// proxy each run (not a copy cached by an earlier run); its
	// dependencies come from the developer's module cache, which is laid
	// out as a module proxy, so no network is needed.
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	shared := "file://" + filepath.ToSlash(filepath.Join(strings.TrimSpace(string(out)), "cache", "download"))
	modcache := t.TempDir()
	env := append(environWithout("GOFLAGS", "GOPROXY", "GOSUMDB", "GOBIN", "GOWORK", "GONOSUMDB", "GOPRIVATE", "GOMODCACHE"),
		"GOBIN="+gobin, "GOMODCACHE="+modcache, "GOPROXY=file://"+filepath.ToSlash(proxy)+","+shared, "GOSUMDB=off", "GOFLAGS=-trimpath", "CGO_ENABLED=0")
	t.Cleanup(func() {
		clean := exec.Command("go", "clean", "-modcache")
		clean.Env = env
		_ = clean.Run()
	})
	cmd := exec.Command("go", "install", "github.com/kubemint/kubemint/cmd/...@"+version)
	cmd.Dir = t.TempDir()
	cmd.Env = env
	if r := runCmd(t, cmd, 10*time.Minute); r.code != 0 {
		t.Fatalf("go install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	u := installedUser(t, gobin)
	for _, b := range []string{"kubemint", "kubemint-full"} {
		if got := wantVersion(t, u, filepath.Join(gobin, b), "version"); !strings.HasPrefix(got, "kubemint "+version+" ") {
			t.Errorf("%s version = %q, want the module version %s", b, got, version)
		}
	}
	mintsAndHits(t, u, w.kubectl, filepath.Join(gobin, "kubemint"))
	t.Logf("go install from the module proxy, mint, hit: %v", time.Since(start).Round(time.Millisecond))
}

// moduleProxy writes a file:// GOPROXY serving the module at ../ as
// version: list, .info, .mod and the module zip (without the nested
// modules and build output, as the real module zip has none).
func moduleProxy(t *testing.T, dir, version string) {
	t.Helper()
	const mod = "github.com/kubemint/kubemint"
	at := filepath.Join(dir, filepath.FromSlash(mod), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"list":            version + "\n",
		version + ".info": `{"Version":"` + version + `","Time":"2026-01-01T00:00:00Z"}`,
		version + ".mod":  string(gomod),
	} {
		if err := os.WriteFile(filepath.Join(at, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(at, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	root, _ := filepath.Abs("..")
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			switch rel {
			case ".git", "bin", "dist", "dist-extra":
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module, not part of this one
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		zf, err := zw.Create(mod + "@" + version + "/" + rel)
		if err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(zf, src)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFrontAlone: `go install ./cmd/kubemint` alone (what most Go users
// type) gives a kubemint whose `version` works and says kubemint-full is
// missing and how to get it; its --help and every other command fail with
// the same fix; doctor calls an exec entry naming it a failure. A
// kubemint-full of another build is refused, and doctor says so.
func TestFrontAlone(t *testing.T) {
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", "-trimpath", "./cmd/kubemint")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0")
	if r := runCmd(t, cmd, 5*time.Minute); r.code != 0 {
		t.Fatalf("go install ./cmd/kubemint: exit %d\n%s", r.code, r.stderr)
	}
	front := filepath.Join(gobin, "kubemint")
	u := installedUser(t)
	const fix = "kubemint: hint: from your checkout, install both binaries: go install ./cmd/..."

	r := u.run(t, nil, front, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "kubemint dev ") {
		t.Errorf("version from the front alone: exit %d, stdout %q", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, "kubemint: warning: kubemint-full is not installed beside "+front) || !strings.Contains(r.stderr, fix) {
		t.Errorf("version does not say kubemint-full is missing with the fix:\n%s", r.stderr)
	}
	for _, args := range [][]string{{"--help"}, {"status"}} {
		r := u.run(t, nil, front, args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code == 0 || !strings.HasPrefix(lines[0], "kubemint: error: kubemint-full is not installed beside "+front) || !strings.Contains(r.stderr, fix) {
			t.Errorf("kubemint %s without kubemint-full: exit %d\n%s", args[0], r.code, r.stderr)
		}
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l, "kubemint: hint: ") {
				t.Errorf("kubemint %s: stderr line %q is neither the error nor a hint", args[0], l)
			}
		}
	}

	// doctor (run by a complete install) fails an exec entry naming the lone front.
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	b, _ := os.ReadFile(kc)
	if err := os.WriteFile(kc, []byte(strings.Replace(string(b), "command: kubemint\n", "command: "+front+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = u.run(t, nil, filepath.Join(w.binDir, "kubemint"), "doctor", "--source-kubeconfig="+kc, "--source-context=admin")
	if r.code == 0 || !strings.Contains(r.stdout, `FAIL  user "deployer" runs `+front+", which cannot mint: kubemint-full is not installed beside") {
		t.Errorf("doctor does not fail the front without kubemint-full: exit %d\n%s", r.code, r.stdout)
	}

	// A kubemint-full of another release beside it: refused, and doctor says so.
	other := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version=v0.0.1-other", "-o", filepath.Join(gobin, "kubemint-full"), "./cmd/kubemint-full")
	other.Dir = ".."
	other.Env = append(os.Environ(), "CGO_ENABLED=0")
	if r := runCmd(t, other, 5*time.Minute); r.code != 0 {
		t.Fatalf("building another kubemint-full: exit %d\n%s", r.code, r.stderr)
	}
	r = u.run(t, nil, front, "status")
	if r.code == 0 || !strings.HasPrefix(r.stderr, "kubemint: error: kubemint dev found kubemint-full v0.0.1-other: the two binaries must come from one release") {
		t.Errorf("a kubemint-full of another release is not refused: exit %d\n%s", r.code, r.stderr)
	}
	r = u.run(t, nil, filepath.Join(w.binDir, "kubemint"), "doctor", "--source-kubeconfig="+kc, "--source-context=admin")
	if r.code == 0 || !strings.Contains(r.stdout, "not one release, so it refuses to mint") {
		t.Errorf("doctor does not fail a mismatched kubemint-full: exit %d\n%s", r.code, r.stdout)
	}
	// The complete install passes the same check.
	complete := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(complete, []byte(strings.Replace(string(b), "command: kubemint\n", "command: "+filepath.Join(w.binDir, "kubemint")+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = u.run(t, nil, filepath.Join(w.binDir, "kubemint"), "doctor", "--source-kubeconfig="+complete, "--source-context=admin")
	if !strings.Contains(r.stdout, `ok    user "deployer" runs `+filepath.Join(w.binDir, "kubemint")+" with "+filepath.Join(w.binDir, "kubemint-full")) {
		t.Errorf("doctor does not pass a complete install:\n%s", r.stdout)
	}
}

// TestReleaseIsComplete: make dist built, for each of the six targets, an
// archive holding both binaries, LICENSE, README.md and the completions,
// an SBOM for it, and a checksums.txt line for each; .deb and .rpm for
// linux; the krew manifest.
func TestReleaseIsComplete(t *testing.T) {
	sums, err := os.ReadFile(filepath.Join(distDir(t), "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, arch := range []string{"amd64", "arm64"} {
			ext, exe := ".tar.gz", ""
			if goos == "windows" {
				ext, exe = ".zip", ".exe"
			}
			archive := distFile(t, "kubemint_*_"+goos+"_"+arch+ext)
			var list []byte
			if ext == ".zip" {
				list, err = exec.Command("unzip", "-Z1", archive).Output()
			} else {
				list, err = exec.Command("tar", "-tzf", archive).Output()
			}
			if err != nil {
				t.Fatalf("listing %s: %v", archive, err)
			}
			files := strings.Fields(string(list))
			for _, want := range []string{"kubemint" + exe, "kubemint-full" + exe, "LICENSE", "README.md",
				"completions/kubemint.bash", "completions/_kubemint", "completions/kubemint.fish"} {
				if !contains(files, want) {
					t.Errorf("%s lacks %s: %v", filepath.Base(archive), want, files)
				}
			}
			for _, name := range []string{filepath.Base(archive), filepath.Base(archive) + ".cdx.json"} {
				if !strings.Contains(string(sums), "  "+name+"\n") {
					t.Errorf("checksums.txt has no line for %s", name)
				}
			}
		}
	}
	for _, p := range []string{"kubemint_*_amd64.deb", "kubemint_*_arm64.deb", "kubemint-*.x86_64.rpm", "kubemint-*.aarch64.rpm", "krew/mint.yaml"} {
		distFile(t, p)
	}
	zshCompletionWhereTheSystemReadsIt(t)
}

// zshCompletionWhereTheSystemReadsIt: zsh on Debian reads vendor
// completions from /usr/share/zsh/vendor-completions, on Fedora and RHEL
// from /usr/share/zsh/site-functions; each package puts _kubemint in its
// system's place, and only there.
func zshCompletionWhereTheSystemReadsIt(t *testing.T) {
	t.Helper()
	const debian, fedora = "/usr/share/zsh/vendor-completions/", "/usr/share/zsh/site-functions/"
	// An rpm's header, uncompressed, lists its directories.
	rpm, err := os.ReadFile(distFile(t, "kubemint-*.x86_64.rpm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rpm, []byte(fedora)) || bytes.Contains(rpm, []byte(debian)) {
		t.Errorf("the .rpm does not put _kubemint in %s alone", fedora)
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Logf("dpkg-deb is not installed: the .deb's zsh completion is not checked")
		return
	}
	list, err := exec.Command("dpkg-deb", "-c", distFile(t, "kubemint_*_amd64.deb")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(list, []byte("."+debian+"_kubemint")) || bytes.Contains(list, []byte(fedora)) {
		t.Errorf("the .deb does not put _kubemint in %s alone:\n%s", debian, list)
	}
}
