//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/kubemint/kubemint/cache"
)

// seccompExecEnv, set, makes the e2e test binary install a seccomp filter
// that fails keyctl, add_key and request_key with EPERM, as Docker's
// default profile does, and exec the rest of its arguments under it.
const seccompExecEnv = "KUBEMINT_E2E_SECCOMP_EXEC"

// keyFillEnv, set to N, makes the e2e test binary fill its user's key
// quota until fewer than N bytes are left (the filler keys time out in two
// minutes).
const keyFillEnv = "KUBEMINT_E2E_KEY_FILL"

// keyClearEnv, set, makes the e2e test binary empty its user's keyring.
const keyClearEnv = "KUBEMINT_E2E_KEY_CLEAR"

// testHelperMain runs the helper modes of the e2e binary; it returns false
// when none is asked for.
func testHelperMain() bool {
	switch {
	case os.Getenv(seccompExecEnv) != "":
		runtime.LockOSThread()
		if err := denyKeyctl(); err != nil {
			fmt.Fprintln(os.Stderr, "seccomp:", err)
			os.Exit(3)
		}
		os.Unsetenv(seccompExecEnv)
		err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
		fmt.Fprintln(os.Stderr, "exec:", err)
		os.Exit(3)
	case os.Getenv(keyPlantEnv) != "":
		plantKey()
		return true
	case os.Getenv(keyClearEnv) != "":
		if _, err := unix.KeyctlInt(unix.KEYCTL_CLEAR, unix.KEY_SPEC_USER_KEYRING, 0, 0, 0); err != nil {
			fmt.Fprintln(os.Stderr, "clear:", err)
			os.Exit(3)
		}
		return true
	case os.Getenv(keyFillEnv) != "":
		leave, _ := strconv.Atoi(os.Getenv(keyFillEnv))
		for i := 0; quotaLeft() > leave; i++ {
			// Each key costs its payload and its description against
			// the quota: aim a little under what is left.
			size := max(1, min(16000, quotaLeft()-leave-64))
			id, err := unix.AddKey("user", fmt.Sprintf("kubemint-e2e-filler:%d", i), make([]byte, size), unix.KEY_SPEC_USER_KEYRING)
			if err != nil {
				fmt.Fprintln(os.Stderr, "add_key:", err, "left:", quotaLeft())
				os.Exit(3)
			}
			_, _ = unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, 120, 0, 0)
		}
		fmt.Println(quotaLeft())
		return true
	}
	return false
}

// quotaLeft is how many bytes of its key quota this user has left, from
// /proc/key-users ("uid: usage keys/... bytes/maxbytes").
func quotaLeft() int {
	b, _ := os.ReadFile("/proc/key-users")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] != strconv.Itoa(os.Geteuid())+":" {
			continue
		}
		used, limit, _ := strings.Cut(f[4], "/")
		u, _ := strconv.Atoi(used)
		l, _ := strconv.Atoi(limit)
		return l - u
	}
	return 0
}

// denyKeyctl installs, for this thread and what it execs, a seccomp
// filter that fails the keyring system calls with EPERM.
func denyKeyctl() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	deny := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_KEYCTL, Jt: 3},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_ADD_KEY, Jt: 2},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_REQUEST_KEY, Jt: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		{Code: unix.BPF_RET | unix.BPF_K, K: deny},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	return unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0)
}

func needKernelKeyring(t *testing.T) {
	t.Helper()
	if _, err := cache.KernelProbe(); err != nil {
		t.Skipf("keyctl does not work here: %v", err)
	}
}

// kernelEnv is a user without a D-Bus session bus whose kubeconfig runs
// kubemint with --cache=auto for account.
func kernelEnv(t *testing.T, account string) (*userEnv, string) {
	t.Helper()
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account="+account, "--source-context=admin", "--cache=auto")
	u.vars = append(u.vars, "KUBECONFIG="+kc)
	return u, kc
}

// TestKernelKeyringAuto: without a session bus, --cache=auto keeps tokens
// in the kernel keyring: after mints for several accounts no file under
// HOME, the XDG directories or /tmp holds any of them; a second kubectl
// call is a hit (no TokenRequest) that touches no file (strace); status
// lists the entries as kernel ones, and clean removes the keys.
func TestKernelKeyringAuto(t *testing.T) {
	needKernelKeyring(t)
	accounts := []string{"ci/deployer", "ci/kk-one", "ci/kk-two"}
	mustAdmin(t, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: kk-one, namespace: ci}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: kk-two, namespace: ci}\n", "apply", "-f", "-")
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	var tokens []string
	for _, a := range accounts {
		r := u.kubemint(t, info, "token", "--service-account="+a, "--source-context=admin", "--source-kubeconfig="+kc, "--cache=auto", "-v=1")
		if r.code != 0 {
			t.Fatalf("mint for %s: %s", a, r.stderr)
		}
		if c := cacheLines(r.stderr); c != "" {
			t.Errorf("mint for %s said %q, want no line about the cache at -v=1 (no fallback)", a, c)
		}
		tokens = append(tokens, tokenOf(t, r.stdout))
	}
	// The hit: no TokenRequest, the same token, and no file touched.
	before := tokenRequests(t)
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc, "--cache=auto"}
	r := u.kubemint(t, info, args...)
	if r.code != 0 || tokenOf(t, r.stdout) != tokens[0] {
		t.Fatalf("second call: exit %d, same token %v: %s", r.code, tokenOf(t, r.stdout) == tokens[0], r.stderr)
	}
	if got := tokenRequests(t) - before; got != 0 {
		t.Errorf("the second call made %v TokenRequests, want 0", got)
	}
	if _, err := exec.LookPath("strace"); err == nil {
		out := filepath.Join(t.TempDir(), "strace")
		sr := u.run(t, []string{"KUBERNETES_EXEC_INFO=" + info}, "strace", append([]string{"-f", "-o", out, "-e", "trace=%file,%desc,rename,renameat,renameat2,connect", filepath.Join(w.binDir, "kubemint")}, args...)...)
		if sr.code != 0 {
			t.Fatalf("strace: %s", sr.stderr)
		}
		b, _ := os.ReadFile(out)
		for _, line := range strings.Split(string(b), "\n") {
			// What every Go program does at start (a static hello-world
			// too): its own execve, the huge page size, and the cgroup
			// CPU limit (GOMAXPROCS).
			if line == "" || strings.Contains(line, "execve(") || strings.Contains(line, "transparent_hugepage") ||
				strings.Contains(line, "/proc/self/cgroup") || strings.Contains(line, "/proc/self/mountinfo") || strings.Contains(line, "/sys/fs/cgroup/") ||
				strings.Contains(line, "+++ exited") || !strings.ContainsAny(line, "(") {
				continue
			}
			for _, call := range []string{"open", "stat", "rename", "access", "readlink", "connect", "mkdir", "unlink", "statx"} {
				if strings.Contains(line, " "+call) || strings.Contains(line, " new"+call) || strings.Contains(line, call+"at(") {
					t.Errorf("the kernel keyring hit touched the file system: %s", line)
					break
				}
			}
		}
	} else {
		missingOptional(t, "strace", "strace not installed", "apt-get install strace")
	}
	// A real kubectl, twice: one mint at most (none: the entry is cached).
	ku, _ := kernelEnv(t, "ci/deployer")
	ku.home, ku.cache = u.home, u.cache
	ku.vars = append(u.vars, "KUBECONFIG="+u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin", "--cache=auto"))
	before = tokenRequests(t)
	for i := range 2 {
		if r := ku.kubectl(t, "--context=deployer", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); r.stdout != "system:serviceaccount:ci:deployer" {
			t.Fatalf("kubectl call %d: %+v", i, r)
		}
	}
	if got := tokenRequests(t) - before; got != 0 {
		t.Errorf("two kubectl calls made %v TokenRequests, want 0 (both hits)", got)
	}
	// No token on disk: HOME (which holds the XDG directories) and /tmp.
	for _, root := range []string{u.home, os.TempDir()} {
		grepTokens(t, root, tokens)
	}
	st := u.run(t, nil, filepath.Join(w.binDir, "kubemint"), "status", "-o", "json")
	var status struct{ Entries []struct{ Cache, Key string } }
	if err := json.Unmarshal([]byte(st.stdout), &status); err != nil || len(status.Entries) != len(accounts) {
		t.Fatalf("status: %v: %s %s", err, st.stdout, st.stderr)
	}
	for _, e := range status.Entries {
		if e.Cache != "kernel" {
			t.Errorf("status lists an entry in the %q cache, want kernel", e.Cache)
		}
	}
	if r := u.run(t, nil, filepath.Join(w.binDir, "kubemint"), "clean"); r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("Forgot %d", len(accounts))) {
		t.Fatalf("clean: %+v", r)
	}
	for _, e := range status.Entries {
		name := cache.KernelKeyName(filepath.Join(u.cache, "kubemint"), e.Key)
		if _, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", name, 0); err == nil {
			t.Errorf("clean left the key %s", name)
		}
	}
}

// grepTokens fails the test for every regular file under root that holds
// one of tokens.
func grepTokens(t *testing.T, root string, tokens []string) {
	t.Helper()
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err != nil || fi.Size() > 16<<20 {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for i, tok := range tokens {
			if strings.Contains(string(b), tok) {
				t.Errorf("token %d is on disk, in %s", i, p)
			}
		}
		return nil
	})
}

// TestKernelKeyringRefusedBySeccomp: under a seccomp filter that fails
// keyctl as Docker's default profile does, --cache=auto keeps the entry
// in the file cache, says so in one -v=1 line, and the next call is a hit.
func TestKernelKeyringRefusedBySeccomp(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	args := []string{os.Args[0], filepath.Join(w.binDir, "kubemint"), "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc, "--cache=auto", "-v=1"}
	env := []string{"KUBERNETES_EXEC_INFO=" + info, seccompExecEnv + "=1"}
	r := u.run(t, env, args[0], args[1:]...)
	if r.code != 0 {
		t.Fatalf("mint under seccomp: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(cacheLines(r.stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "kernel keyring cannot be used here") || !strings.Contains(lines[0], "seccomp") || !strings.Contains(lines[0], "file cache") {
		t.Errorf("stderr = %q, want one line saying keyctl is refused and the file cache is used", r.stderr)
	}
	if n := len(u.cacheEntries()); n != 1 {
		t.Errorf("%d file cache entries, want 1", n)
	}
	before := tokenRequests(t)
	r = u.run(t, env, args[0], args[1:]...)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("hit under seccomp: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := tokenRequests(t) - before; got != 0 {
		t.Errorf("the hit made %v TokenRequests", got)
	}
}

// TestKernelKeyringPlantedKeyIsNotUsed: a key of the entry's name that is
// not the user's own private key (world-readable, or another user's linked
// into the user's keyring) is not served: the call mints, warns, and
// replaces it with a private key of its own.
func TestKernelKeyringPlantedKeyIsNotUsed(t *testing.T) {
	needKernelKeyring(t)
	te := newTrustEnvMode(t, "--cache=auto")
	st := te.root.run(t, nil, filepath.Join(w.binDir, "kubemint"), "status", "-o", "json")
	var status struct{ Entries []struct{ Cache, Key string } }
	if err := json.Unmarshal([]byte(st.stdout), &status); err != nil || len(status.Entries) != 1 || status.Entries[0].Cache != "kernel" {
		t.Fatalf("status: %v: %s", err, st.stdout)
	}
	name := cache.KernelKeyName(filepath.Join(te.root.cache, "kubemint"), status.Entries[0].Key)
	now := time.Now()
	planted := cache.Entry{Token: te.attackerToken, Issued: now, Expiry: now.Add(time.Hour)}.Encode(status.Entries[0].Key)
	unlink := func() {
		if id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", name, 0); err == nil {
			_, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0)
		}
	}
	t.Cleanup(unlink)
	t.Run("world-readable", func(t *testing.T) {
		unlink()
		id, err := unix.AddKey("user", name, planted, unix.KEY_SPEC_USER_KEYRING)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.KeyctlSetperm(id, 0x3f3f3f3f); err != nil {
			t.Fatal(err)
		}
		te.checkNotUsed(t, name)
	})
	t.Run("another user's", func(t *testing.T) {
		unlink()
		// The attacker adds the key in their own keyring, open to all;
		// root links it into its own, as a tool run as root might.
		bin := helperCopy(t)
		cmd := te.attacker.command(bin)
		cmd.Env = append(cmd.Env, keyPlantEnv+"="+name, "KUBEMINT_E2E_PAYLOAD="+string(planted))
		r := runCmd(t, cmd, time.Minute)
		id, err := strconv.Atoi(strings.TrimSpace(r.stdout))
		if r.code != 0 || err != nil {
			t.Fatalf("planting as %s: exit %d: %s %s", te.attacker.name, r.code, r.stdout, r.stderr)
		}
		if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0); err != nil {
			t.Fatalf("linking the attacker's key: %v", err)
		}
		te.checkNotUsed(t, name)
	})
}

// keyPlantEnv, set to a name, makes the e2e test binary add a user key of
// that name holding $KUBEMINT_E2E_PAYLOAD, open to everyone, and print its
// id.
const keyPlantEnv = "KUBEMINT_E2E_KEY_PLANT"

func plantKey() {
	id, err := unix.AddKey("user", os.Getenv(keyPlantEnv), []byte(os.Getenv("KUBEMINT_E2E_PAYLOAD")), unix.KEY_SPEC_USER_KEYRING)
	if err == nil {
		err = unix.KeyctlSetperm(id, 0x3f3f3f3f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	_, _ = unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, 600, 0, 0)
	fmt.Println(id)
}

// checkNotUsed: root's next kubectl call is the deployer, not the
// attacker, with a warning naming the key, and the key is root's own and
// private afterwards.
func (te *trustEnv) checkNotUsed(t *testing.T, name string) {
	t.Helper()
	got := te.whoami(t, te.root.cache)
	if got.stdout != te.wantUser {
		t.Fatalf("kubectl ran as %q, want %q: %s", got.stdout, te.wantUser, got.stderr)
	}
	if !strings.Contains(got.stderr, "kubemint: warning: not using the cached token") || !strings.Contains(got.stderr, name) {
		t.Errorf("stderr = %q, want a warning naming the key", got.stderr)
	}
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", name, 0)
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if f := strings.Split(desc, ";"); len(f) < 5 || f[1] != "0" || f[3] != "3f010000" {
		t.Errorf("after the call the key is %q, want root's, 3f010000", desc)
	}
}

// helperCopy copies the e2e test binary where another user may run it.
func helperCopy(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kubemint-e2e-helper-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "e2e-helper")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKernelKeyringQuotaFullFallsBackForThatEntry: a second Unix user (the
// default quota of a non-root user: 20000 bytes) mints for one account
// into the kernel keyring, fills the rest of the quota, and mints for a
// second account: that entry alone goes to the file cache, with one -v=1
// line naming the sysctl; both are hits afterwards.
func TestKernelKeyringQuotaFullFallsBackForThatEntry(t *testing.T) {
	needKernelKeyring(t)
	mustAdmin(t, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: kk-quota, namespace: ci}\n", "apply", "-f", "-")
	o := newOtherUser(t)
	helper := helperCopy(t)
	binDir := filepath.Dir(helper)
	// A uid that userdel freed is given out again, and its keys outlive
	// the user: start, and leave, with an empty keyring.
	clearKeys := func() {
		cmd := o.command(helper)
		cmd.Env = append(cmd.Env, keyClearEnv+"=1")
		if r := runCmd(t, cmd, time.Minute); r.code != 0 {
			t.Fatalf("clearing the keyring of %s: %s", o.name, r.stderr)
		}
	}
	clearKeys()
	t.Cleanup(clearKeys)
	for _, b := range []string{"kubemint", "kubemint-full"} {
		data, err := os.ReadFile(filepath.Join(w.binDir, b))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(binDir, b), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	flat, stderr, err := admin("", "config", "view", "--raw", "--flatten")
	if err != nil {
		t.Fatalf("flattening the admin kubeconfig: %v: %s", err, stderr)
	}
	kc := filepath.Join(o.home, "admin.kubeconfig")
	if err := os.WriteFile(kc, []byte(flat), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(kc, o.uid, o.gid); err != nil {
		t.Fatal(err)
	}
	info := execInfo(t, "client.authentication.k8s.io/v1")
	mint := func(account string) result {
		t.Helper()
		cmd := o.command(filepath.Join(binDir, "kubemint"), "token", "--service-account="+account, "--source-kubeconfig="+kc, "--cache=auto", "-v=1")
		cmd.Env = append(cmd.Env, "KUBERNETES_EXEC_INFO="+info)
		r := runCmd(t, cmd, time.Minute)
		if r.code != 0 {
			t.Fatalf("as %s, token for %s: exit %d: %s", o.name, account, r.code, r.stderr)
		}
		return r
	}
	first := mint("ci/deployer")
	if c := cacheLines(first.stderr); c != "" {
		t.Fatalf("the first mint said %q, want no line about the cache (the kernel keyring)", c)
	}
	fill := o.command(helper)
	fill.Env = append(fill.Env, keyFillEnv+"=300")
	if r := runCmd(t, fill, time.Minute); r.code != 0 {
		t.Fatalf("filling the quota of %s: %s", o.name, r.stderr)
	}
	second := mint("ci/kk-quota")
	t.Logf("the second mint, with the quota full: %s", second.stderr)
	lines := strings.Split(cacheLines(second.stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "quota") || !strings.Contains(lines[0], "kernel.keys.maxbytes") || !strings.Contains(lines[0], "file cache") {
		t.Errorf("the second mint said %q, want one line naming the full quota, the sysctl and the file cache", second.stderr)
	}
	entries, _ := filepath.Glob(filepath.Join(o.home, ".cache", "kubemint", "*.json"))
	if len(entries) != 1 {
		t.Errorf("file cache entries %v, want the second account's alone", entries)
	}
	before := tokenRequests(t)
	if r := mint("ci/deployer"); tokenOf(t, r.stdout) != tokenOf(t, first.stdout) || r.stderr != "" {
		t.Errorf("the first account's next call: another token, or stderr %q", r.stderr)
	}
	if r := mint("ci/kk-quota"); tokenOf(t, r.stdout) != tokenOf(t, second.stdout) || r.stderr != "" {
		t.Errorf("the second account's next call: another token, or stderr %q", r.stderr)
	}
	if got := tokenRequests(t) - before; got != 0 {
		t.Errorf("the two next calls made %v TokenRequests, want 0 (hits from the kernel keyring and the file cache)", got)
	}
}

// cacheLines is what -v=1 said besides the flow's own miss and mint lines
// ("no cached token for …; minting one", "minted a token for …"): where the
// entry went, and any fallback.
func cacheLines(stderr string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if l == "" || strings.HasPrefix(l, "kubemint: no cached token for ") || strings.HasPrefix(l, "kubemint: minted a token for ") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}
