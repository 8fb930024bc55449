//go:build linux

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubemint/kubemint/cache"
)

// otherUser is a second Unix user, created for the test with useradd: the
// attacker on a shared machine (a CI runner, a jump host).
type otherUser struct {
	name     string
	uid, gid int
	home     string
}

func newOtherUser(t *testing.T) *otherUser {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to create a second Unix user with useradd")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "kmtrust" + hex.EncodeToString(b)
	if out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", "-r", name).CombinedOutput(); err != nil {
			t.Logf("userdel -r %s: %v\n%s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &otherUser{name: name, uid: uid, gid: gid, home: u.HomeDir}
}

// command is name with args run as this user, in its own home.
func (o *otherUser) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("setpriv", append([]string{"--reuid=" + strconv.Itoa(o.uid), "--regid=" + strconv.Itoa(o.gid), "--init-groups", name}, args...)...)
	cmd.Env = []string{"HOME=" + o.home, "PATH=/usr/bin:/bin", "USER=" + o.name}
	cmd.Dir = o.home
	return cmd
}

// sh runs a shell script as this user, with stdin, and fails the test if
// it fails.
func (o *otherUser) sh(t *testing.T, stdin, script string) {
	t.Helper()
	cmd := o.command("sh", "-ec", script)
	cmd.Stdin = strings.NewReader(stdin)
	if r := runCmd(t, cmd, time.Minute); r.code != 0 {
		t.Fatalf("as %s: %s: exit %d\n%s%s", o.name, script, r.code, r.stdout, r.stderr)
	}
}

// sharedDir is a directory every user may write to, sticky as /tmp is:
// what XDG_CACHE_HOME points at on a badly set-up shared machine.
func sharedDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "kubemint-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o777|os.ModeSticky); err != nil { // os.Chmod takes ModeSticky, not 0o1000
		t.Fatal(err)
	}
	return d
}

// trustEnv is root's kubectl set up to mint for ci/deployer, the key of
// that entry, and a token of ci/attacker, the account the attacker would
// have root act as.
type trustEnv struct {
	root           *userEnv
	key            string
	attackerToken  string
	attacker       *otherUser
	wantUser, evil string
}

func newTrustEnv(t *testing.T) *trustEnv { return newTrustEnvMode(t) }

// newTrustEnvMode is newTrustEnv with more arguments for kubemint token
// (--cache=auto: the entry may be in no file, and te.key is then empty).
func newTrustEnvMode(t *testing.T, tokenArgs ...string) *trustEnv {
	t.Helper()
	te := &trustEnv{attacker: newOtherUser(t), root: newUserEnv(t),
		wantUser: "system:serviceaccount:ci:deployer", evil: "system:serviceaccount:ci:attacker"}
	kc := te.root.kubeconfig(t, append([]string{"--service-account=ci/deployer", "--source-context=admin"}, tokenArgs...)...)
	te.root.vars = append(te.root.vars, "KUBECONFIG="+kc)
	// One call in root's own cache names the entry's key.
	if got := te.whoami(t, te.root.cache); got.stdout != te.wantUser {
		t.Fatalf("first call: %+v", got)
	}
	entries := te.root.cacheEntries()
	if len(entries) != 1 && len(tokenArgs) == 0 {
		t.Fatalf("cache entries: %v", entries)
	}
	if len(entries) == 1 {
		te.key = strings.TrimSuffix(filepath.Base(entries[0]), ".json")
	}
	mustAdmin(t, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: attacker, namespace: ci}\n", "apply", "-f", "-")
	tok, stderr, err := admin("", "-n", "ci", "create", "token", "attacker")
	if err != nil {
		t.Fatalf("creating the attacker's token: %v: %s", err, stderr)
	}
	te.attackerToken = strings.TrimSpace(tok)
	return te
}

// plantedEntry is a valid cache entry for root's key holding the
// attacker's token.
func (te *trustEnv) plantedEntry() string {
	now := time.Now()
	return string(cache.Entry{Token: te.attackerToken, Issued: now, Expiry: now.Add(time.Hour)}.Encode(te.key))
}

// whoami runs root's kubectl auth whoami with its cache under xdgCache.
func (te *trustEnv) whoami(t *testing.T, xdgCache string) result {
	t.Helper()
	cmd := exec.Command(w.kubectl, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	cmd.Env = append(append([]string{}, te.root.vars...), "XDG_CACHE_HOME="+xdgCache)
	return runCmd(t, cmd, 2*time.Minute)
}

// mustBeDeployer runs whoami calls times and checks each acts as ci/deployer.
func (te *trustEnv) mustBeDeployer(t *testing.T, xdgCache string, calls int) []result {
	t.Helper()
	var rs []result
	for i := range calls {
		r := te.whoami(t, xdgCache)
		if r.code != 0 || r.stdout != te.wantUser {
			t.Fatalf("call %d: exit %d, acted as %q, want %s; stderr:\n%s", i, r.code, r.stdout, te.wantUser, r.stderr)
		}
		rs = append(rs, r)
	}
	return rs
}

func listDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		files[e.Name()] = string(b)
	}
	return files
}

// TestOtherUsersCacheDirIsNotUsed: with XDG_CACHE_HOME on a shared
// directory, another user made kubemint/ first (0700, theirs) and put an
// entry in it holding their own token. Root's kubectl does not act as
// them, does not write there, says so once per call, and still works.
func TestOtherUsersCacheDirIsNotUsed(t *testing.T) {
	te := newTrustEnv(t)
	shared := sharedDir(t)
	dir := filepath.Join(shared, "kubemint")
	te.attacker.sh(t, te.plantedEntry(), fmt.Sprintf("mkdir -m 700 %[1]s && cat > %[1]s/%[2]s.json && chmod 600 %[1]s/%[2]s.json", dir, te.key))
	before := listDir(t, dir)
	requests := tokenRequests(t)

	for i, r := range te.mustBeDeployer(t, shared, 2) {
		want := fmt.Sprintf("kubemint: warning: cannot use the cache (not using the cache directory %s: it is owned by uid %d, not you (uid 0); remove it, or set XDG_CACHE_HOME to a directory of your own); minting without it, as --cache=none would\n", dir, te.attacker.uid)
		if r.stderr != want {
			t.Errorf("call %d: stderr\n%s\nwant once\n%s", i, r.stderr, want)
		}
	}
	if got := tokenRequests(t) - requests; got != 2 {
		t.Errorf("two calls without a cache made %v TokenRequests, want 2", got)
	}
	if after := listDir(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the other user's directory changed: %v", after)
	}
	assertMode(t, dir, 0o700|os.ModeDir)
}

// TestPlantedFilesInALooseCacheDir: root's own cache directory was left
// open to others (a lax umask, a copy). Another user plants a .served
// link to a file of root's (standing in for ~/.ssh/authorized_keys), then
// an entry of their own. Root's kubectl writes through no link, serves no
// entry of theirs, and closes the directory again on a plain hit.
func TestPlantedFilesInALooseCacheDir(t *testing.T) {
	te := newTrustEnv(t)
	shared := sharedDir(t)
	dir := filepath.Join(shared, "kubemint")
	te.mustBeDeployer(t, shared, 1)
	victim := filepath.Join(t.TempDir(), "authorized_keys")
	const keys = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRootsOwnKey root@host\n"
	if err := os.WriteFile(victim, []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}

	// A .served link, met by the cache hit.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	te.attacker.sh(t, "", fmt.Sprintf("rm -f %[1]s/%[2]s.served && ln -s %[3]s %[1]s/%[2]s.served", dir, te.key, victim))
	requests := tokenRequests(t)
	r := te.mustBeDeployer(t, shared, 1)[0]
	if got := tokenRequests(t) - requests; got != 0 {
		t.Errorf("the hit made %v TokenRequests", got)
	}
	if !strings.Contains(r.stderr, "kubemint: warning: the cache directory "+dir+" had mode drwxrwxrwx, readable by others; made it drwx------") {
		t.Errorf("no warning about the loose directory:\n%s", r.stderr)
	}
	assertMode(t, dir, 0o700|os.ModeDir)
	if b, _ := os.ReadFile(victim); string(b) != keys {
		t.Errorf("root's kubectl wrote through the planted link: the victim file holds %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dir, te.key+".served")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the planted link is still there: %v", err)
	}

	// An entry of the attacker's, 0600 as kubemint makes them.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	te.attacker.sh(t, te.plantedEntry(), fmt.Sprintf("rm -f %[1]s/%[2]s.json && cat > %[1]s/%[2]s.json && chmod 600 %[1]s/%[2]s.json", dir, te.key))
	r = te.mustBeDeployer(t, shared, 1)[0]
	if !strings.Contains(r.stderr, fmt.Sprintf("is owned by uid %d, not you (uid 0)", te.attacker.uid)) {
		t.Errorf("no warning about the other user's entry:\n%s", r.stderr)
	}
	te.mustBeDeployer(t, shared, 1)
}

// TestLinkedCacheDirIsNotUsed: the kubemint cache directory is a link to
// another directory (here root's own, as a git work tree would be). It is
// neither chmodded nor written to; each call says so once and works.
func TestLinkedCacheDirIsNotUsed(t *testing.T) {
	te := newTrustEnv(t)
	shared := sharedDir(t)
	worktree := t.TempDir()
	if err := os.Chmod(worktree, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(shared, "kubemint")
	te.attacker.sh(t, "", fmt.Sprintf("ln -s %s %s", worktree, dir))
	for i, r := range te.mustBeDeployer(t, shared, 2) {
		if n := strings.Count(r.stderr, "not using the cache directory "+dir+": it is a symbolic link"); n != 1 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("call %d: want one warning line, got:\n%s", i, r.stderr)
		}
	}
	assertMode(t, worktree, 0o755|os.ModeDir)
	if files := listDir(t, worktree); len(files) != 0 {
		t.Errorf("kubemint wrote into the link's target: %v", files)
	}
}

// TestPlantedLockLinkCreatesNothing: a .lock link planted in a loose cache
// directory does not make kubemint create its target; the mint goes on
// with a lock file of its own.
func TestPlantedLockLinkCreatesNothing(t *testing.T) {
	te := newTrustEnv(t)
	shared := sharedDir(t)
	dir := filepath.Join(shared, "kubemint")
	te.mustBeDeployer(t, shared, 1)
	target := filepath.Join(t.TempDir(), "created-by-the-lock")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	// The entry gone, the next call mints and takes the lock.
	te.attacker.sh(t, "", fmt.Sprintf("rm -f %[1]s/%[2]s.json %[1]s/%[2]s.lock && ln -s %[3]s %[1]s/%[2]s.lock", dir, te.key, target))
	requests := tokenRequests(t)
	te.mustBeDeployer(t, shared, 1)
	if got := tokenRequests(t) - requests; got != 1 {
		t.Errorf("the mint made %v TokenRequests, want 1", got)
	}
	if _, err := os.Lstat(target); err == nil {
		t.Errorf("the planted lock link created %s", target)
	}
	if fi, err := os.Lstat(filepath.Join(dir, te.key+".lock")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the lock is not a file of kubemint's: %v", err)
	}
	te.mustBeDeployer(t, shared, 1)
}

// TestKubemintIsNotDumpable: kubemint (here the full binary the lean
// front hands a mint to, held by a source whose exec plugin hangs) is not
// dumpable: no core dump holds its token, and the user's other processes
// cannot ptrace it or read its memory. The kernel shows it by giving the
// process's /proc files to root.
func TestKubemintIsNotDumpable(t *testing.T) {
	o := newOtherUser(t)
	bin := filepath.Join(o.home, "bin")
	for _, name := range []string{"kubemint", "kubemint-full"} {
		b, err := os.ReadFile(filepath.Join(w.binDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	kc := filepath.Join(o.home, "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: hung
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: sleep
      args: ["60"]
      interactiveMode: Never
contexts:
- name: hung
  context: {cluster: local, user: hung}
current-context: hung
`, w.cp.Server)
	if err := os.WriteFile(kc, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := o.command(filepath.Join(bin, "kubemint"), "token", "--service-account=ci/deployer", "--source-context=hung", "--source-kubeconfig="+kc)
	cmd.Env = append(cmd.Env, "KUBERNETES_EXEC_INFO="+execInfo(t, "client.authentication.k8s.io/v1"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	// setpriv execs kubemint, which execs kubemint-full: the same pid.
	proc := fmt.Sprintf("/proc/%d", cmd.Process.Pid)
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if exe, _ := os.Readlink(proc + "/exe"); filepath.Base(exe) == "kubemint-full" {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("kubemint-full did not start")
		}
	}
	time.Sleep(200 * time.Millisecond) // past main's first lines
	fi, err := os.Stat(proc + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 0 {
		t.Errorf("%s/status is owned by uid %d, the process's user: kubemint-full is dumpable", proc, uid)
	}
}

// TestNoHomeMeansNoCache: with HOME unset and no XDG_CACHE_HOME, kubemint
// does not invent /.cache: it says so once and mints.
func TestNoHomeMeansNoCache(t *testing.T) {
	if _, err := os.Lstat("/.cache/kubemint"); err == nil {
		t.Skip("/.cache/kubemint exists already on this machine")
	}
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	before := tokenRequests(t)
	for i := range 2 {
		r := u.run(t, []string{"HOME=", "XDG_CACHE_HOME=", "KUBERNETES_EXEC_INFO=" + info}, filepath.Join(w.binDir, "kubemint"),
			"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc)
		if r.code != 0 || tokenOf(t, r.stdout) == "" {
			t.Fatalf("call %d: exit %d: %s", i, r.code, r.stderr)
		}
		want := "kubemint: warning: cannot use the cache (no cache directory: neither XDG_CACHE_HOME nor HOME is set; set one of them to cache tokens between calls); minting without it, as --cache=none would\n"
		if r.stderr != want {
			t.Errorf("call %d: stderr %q, want %q", i, r.stderr, want)
		}
	}
	if got := tokenRequests(t) - before; got != 2 {
		t.Errorf("two calls without a cache made %v TokenRequests, want 2", got)
	}
	if _, err := os.Lstat("/.cache/kubemint"); err == nil {
		os.RemoveAll("/.cache/kubemint")
		t.Errorf("kubemint made /.cache/kubemint")
	}
}

// TestCleanRemovesTempFiles: kubemint clean removes the temporary files a
// writer killed before its rename left behind, however recent: they hold
// live tokens.
func TestCleanRemovesTempFiles(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	r := u.kubemint(t, info, "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc)
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	entries := u.cacheEntries()
	if len(entries) != 1 {
		t.Fatalf("cache entries: %v", entries)
	}
	dir := filepath.Dir(entries[0])
	temps := []string{
		filepath.Join(dir, "."+filepath.Base(entries[0])+".tmp4242"), // this entry's
		filepath.Join(dir, ".0123abcd.json.tmp77"),                   // one whose index was never written
	}
	for _, p := range temps {
		if err := os.WriteFile(p, []byte(tokenOf(t, r.stdout)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if c := u.kubemint(t, "", "clean"); c.code != 0 || c.stdout != "Forgot 1 cached credentials.\n" {
		t.Fatalf("clean: exit %d, stdout %q, stderr %s", c.code, c.stdout, c.stderr)
	}
	for _, p := range temps {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("clean left %s", filepath.Base(p))
		}
	}
}

// TestAttackersParentDirIsNotUsed: XDG_CACHE_HOME names a directory
// another user owns (made in a shared /tmp-like directory before root
// used it). Its owner could swap a link in for kubemint/ at any moment, so
// root's kubectl neither creates kubemint/ in it nor uses one there: it
// says so once per call, naming the directory, and mints without a cache.
func TestAttackersParentDirIsNotUsed(t *testing.T) {
	te := newTrustEnv(t)
	parent := filepath.Join(sharedDir(t), "c2")
	te.attacker.sh(t, "", fmt.Sprintf("mkdir -m 755 %s", parent))
	requests := tokenRequests(t)
	for i, r := range te.mustBeDeployer(t, parent, 2) {
		want := fmt.Sprintf("kubemint: warning: cannot use the cache (not using the cache directory %s/kubemint: its parent directory %s is not safe: it is owned by uid %d, who could swap the cache directory under it; set XDG_CACHE_HOME to a directory of your own); minting without it, as --cache=none would\n", parent, parent, te.attacker.uid)
		if r.stderr != want {
			t.Errorf("call %d: stderr\n%s\nwant once\n%s", i, r.stderr, want)
		}
	}
	if got := tokenRequests(t) - requests; got != 2 {
		t.Errorf("two calls without a cache made %v TokenRequests, want 2", got)
	}
	if after := listDir(t, parent); len(after) != 0 {
		t.Errorf("root created files in the other user's directory: %v", after)
	}
}

// TestKubeconfigOutThroughAnotherUsersLink: another user plants a link in
// a shared sticky directory, where root is about to write a runner's
// kubeconfig with `kubemint kubeconfig -o FILE --force`, aimed at a file of
// root's. kubemint resolved the link itself (the kernel's
// protected_symlinks never saw it) and replaced root's file; now it stops,
// naming the link, and the file is untouched.
func TestKubeconfigOutThroughAnotherUsersLink(t *testing.T) {
	attacker := newOtherUser(t)
	adm := newUserEnv(t)
	adm.adminKubeconfig(t)
	victim := filepath.Join(adm.home, ".profile")
	if err := os.WriteFile(victim, []byte("export PATH=/usr/bin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(sharedDir(t), "runner.kubeconfig")
	attacker.sh(t, "", "ln -s "+victim+" "+out)
	r := adm.kubemint(t, "", "kubeconfig", "--service-account=ci/deployer", "--from-context=admin", "--source-token-env=RUNNER_TOKEN", "-o", out, "--force")
	want := fmt.Sprintf("%s is a symbolic link of uid %d: kubemint follows only links of its own user or root", out, attacker.uid)
	if r.code == 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "kubemint: hint: ") {
		t.Errorf("exit %d, stderr:\n%s\nwant it to say: %s", r.code, r.stderr, want)
	}
	if b, _ := os.ReadFile(victim); string(b) != "export PATH=/usr/bin\n" {
		t.Errorf("root's file was replaced through the link:\n%s", b)
	}
}

// TestSetupAsRootKeepsTheKubeconfigsOwner: root runs setup on another
// user's kubeconfig (a shared admin box). The file used to become root's
// (the atomic replace writes a new file), locking its user out; now it
// stays theirs, with its mode, as kubectl leaves it, and they can use the
// new context.
func TestSetupAsRootKeepsTheKubeconfigsOwner(t *testing.T) {
	owner := newOtherUser(t)
	b, err := os.ReadFile(w.cp.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(owner.home, "admin.kubeconfig")
	owner.sh(t, string(b), "umask 077; cat > "+kc)
	adm := newUserEnv(t)
	adm.vars = append(adm.vars, "KUBECONFIG="+kc)
	adm.mustKubemint(t, "setup", "--service-account=trust-o/app", "--source-context=admin", "--minter=user:nobody")
	fi, err := os.Stat(kc)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != owner.uid || int(st.Gid) != owner.gid || fi.Mode().Perm() != 0o600 {
		t.Errorf("after root's setup: uid %d gid %d mode %v; want the owner's (%d %d) and 0600", st.Uid, st.Gid, fi.Mode().Perm(), owner.uid, owner.gid)
	}
	cmd := owner.command(w.kubectl, "--kubeconfig", kc, "config", "get-contexts", "-o", "name")
	if r := runCmd(t, cmd, time.Minute); r.code != 0 || !strings.Contains(r.stdout, "trust-o-app@") {
		t.Errorf("the owner cannot read the new context: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// TestAttackersLinkAsCacheHomeIsNotFollowed: XDG_CACHE_HOME names a path
// in a shared sticky directory where another user put a link to a
// directory of their choosing (here one of root's): root made its cache
// there, and the attacker could flip the link to force mints. Now
// root's kubectl says why it does not use it, works without a cache, and
// makes nothing where the link points.
func TestAttackersLinkAsCacheHomeIsNotFollowed(t *testing.T) {
	te := newTrustEnv(t)
	chosen := filepath.Join(te.root.home, "chosen")
	if err := os.Mkdir(chosen, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(sharedDir(t), "cache")
	te.attacker.sh(t, "", "ln -s "+chosen+" "+link)
	requests := tokenRequests(t)
	for i, r := range te.mustBeDeployer(t, link, 2) {
		want := fmt.Sprintf("kubemint: warning: cannot use the cache (not using the cache directory %s/kubemint: %s is a symbolic link of uid %d, who could point it elsewhere; set XDG_CACHE_HOME to a directory of your own (where the link points, if that is yours)); minting without it, as --cache=none would\n", link, link, te.attacker.uid)
		if r.stderr != want {
			t.Errorf("call %d: stderr\n%s\nwant once\n%s", i, r.stderr, want)
		}
	}
	if got := tokenRequests(t) - requests; got != 2 {
		t.Errorf("two calls without a cache made %v TokenRequests, want 2", got)
	}
	if after := listDir(t, chosen); len(after) != 0 {
		t.Errorf("root made its cache where the attacker's link points: %v", after)
	}
}

// TestFullInAWorldWritableDirIsNotRun: kubemint installed by hand into a
// directory every user may write to; another user replaces kubemint-full
// with a program of theirs. Root's next miss ran it, with root's
// credentials; now the front refuses to run it, naming the directory and
// the fix, and the program never runs.
func TestFullInAWorldWritableDirIsNotRun(t *testing.T) {
	attacker := newOtherUser(t)
	base, err := os.MkdirTemp("", "kubemint-install-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "bin")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"kubemint", "kubemint-full"} {
		data, err := os.ReadFile(filepath.Join(w.binDir, b))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, b), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(base, "ran")
	attacker.sh(t, "", fmt.Sprintf("rm -f %[1]s/kubemint-full && printf '#!/bin/sh\\ntouch %[2]s\\n' > %[1]s/kubemint-full && chmod 755 %[1]s/kubemint-full", dir, marker))
	u := newUserEnv(t)
	r := u.run(t, nil, filepath.Join(dir, "kubemint"), "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+u.kubeconfig(t))
	want := fmt.Sprintf("kubemint: error: not running %s/kubemint-full: it is owned by uid %d, who could replace it", dir, attacker.uid)
	if r.code == 0 || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant it to start with:\n%s", r.code, r.stderr, want)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the other user's kubemint-full ran")
	}
	// The directory alone, before anyone swapped a file: refused too.
	attacker.sh(t, "", "rm -f "+dir+"/kubemint-full")
	data, _ := os.ReadFile(filepath.Join(w.binDir, "kubemint-full"))
	if err := os.WriteFile(filepath.Join(dir, "kubemint-full"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	r = u.run(t, nil, filepath.Join(dir, "kubemint"), "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+u.kubeconfig(t))
	want = fmt.Sprintf("kubemint: error: not running %s/kubemint-full: its directory %s is writable by every user", dir, dir)
	if r.code == 0 || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "kubemint: hint: chmod o-w") {
		t.Errorf("exit %d, stderr:\n%s\nwant it to start with:\n%s", r.code, r.stderr, want)
	}
}
