//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sourceKubeconfig writes a kubeconfig for the test cluster with the admin
// context and one context, name, whose user is the YAML user; it returns
// its path.
func sourceKubeconfig(t *testing.T, dir, name, user string) string {
	t.Helper()
	path := filepath.Join(dir, "source-kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: ` + w.cp.Server + `, certificate-authority: ` + w.cp.CAFile + `}
users:
- name: admin
  user: {client-certificate: ` + filepath.Join(w.cp.Dir, "admin.crt") + `, client-key: ` + filepath.Join(w.cp.Dir, "admin.key") + `}
- name: ` + name + `-user
  user:
` + user + `
contexts:
- name: admin
  context: {cluster: local, user: admin}
- name: ` + name + `
  context: {cluster: local, user: ` + name + `-user}
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// execUser is the kubeconfig user whose credentials come from the exec
// plugin command.
func execUser(command string) string {
	return `    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ` + command + `
      interactiveMode: Never`
}

// hungPlugin writes an exec plugin that never answers: a shell script that
// starts a child, writes both PIDs to pidFile, and waits.
func hungPlugin(t *testing.T, dir string) (script, pidFile string) {
	t.Helper()
	script, pidFile = filepath.Join(dir, "hung-login"), filepath.Join(dir, "pids")
	body := "#!/bin/sh\nsleep 600 &\necho \"$$ $!\" > " + pidFile + ".tmp\nmv " + pidFile + ".tmp " + pidFile + "\nwait\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script, pidFile
}

// pluginPIDs waits for the hung plugin to write its and its child's PIDs.
func pluginPIDs(t *testing.T, pidFile string) []int {
	t.Helper()
	for range 500 {
		if b, err := os.ReadFile(pidFile); err == nil {
			var pids []int
			for _, f := range strings.Fields(string(b)) {
				pid, err := strconv.Atoi(f)
				if err != nil {
					t.Fatal(err)
				}
				pids = append(pids, pid)
			}
			return pids
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the exec plugin did not start")
	return nil
}

// running reports whether pid is a live process: a zombie (ended, not yet
// reaped, as orphans are in a container whose init does not reap) is not.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && len(b) > i+2 && b[i+2] != 'Z' && b[i+2] != 'X'
}

// assertGone fails unless every PID has ended.
func assertGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if running(pid) {
			t.Errorf("process %d of the exec plugin is still running", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// assertNoLockHeld fails if any of pids holds a descriptor of a kubemint
// lock file: kubemint's descriptors are close-on-exec, so the lock dies
// with kubemint even when a plugin it started lives on.
func assertNoLockHeld(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		fds, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/fd/*")
		for _, fd := range fds {
			if target, err := os.Readlink(fd); err == nil && strings.HasSuffix(target, ".lock") {
				t.Errorf("process %d of the exec plugin holds the lock %s", pid, target)
			}
		}
	}
}

// kubemintCmd is the lean kubemint as kubectl runs it, with the cluster in
// its exec info, so that the cache key does not need the source.
func (u *userEnv) kubemintCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(filepath.Join(w.binDir, "kubemint"), args...)
	cmd.Env = append(append([]string{}, u.vars...), "KUBERNETES_EXEC_INFO="+execInfo(t, "client.authentication.k8s.io/v1"))
	return cmd
}

// TestHungSourcePluginIsStopped: a source context whose exec plugin never
// answers no longer holds kubectl and the lock: --request-timeout bounds
// the whole mint, the plugin and its child are stopped, one line names the
// plugin, and the next call mints at once.
func TestHungSourcePluginIsStopped(t *testing.T) {
	u := newUserEnv(t)
	dir := t.TempDir()
	script, pidFile := hungPlugin(t, dir)
	kc := sourceKubeconfig(t, dir, "hung", execUser(script))

	start := time.Now()
	r := runCmd(t, u.kubemintCmd(t, "token", "--service-account=ci/deployer", "--source-context=hung", "--source-kubeconfig="+kc, "--request-timeout=2s"), 20*time.Second)
	took := time.Since(start)
	t.Logf("gave up after %v", took.Round(time.Millisecond))
	if took > 3500*time.Millisecond {
		t.Errorf("took %v with --request-timeout=2s", took)
	}
	oneErrorLine(t, r, `the source context "hung"'s exec plugin (`+script+`) did not answer within 2s`, "--request-timeout")
	assertGone(t, pluginPIDs(t, pidFile))

	// The lock is free: the same account, cache and key mint at once.
	start = time.Now()
	r = runCmd(t, u.kubemintCmd(t, "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc), 20*time.Second)
	if r.code != 0 {
		t.Fatalf("the next call: exit %d: %s", r.code, r.stderr)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the next call took %v", took)
	}
	tokenOf(t, r.stdout)
}

// TestInterruptStopsAHungSourcePlugin: Ctrl-C (SIGINT) or SIGTERM to
// kubemint while the source's exec plugin hangs ends kubemint at once and
// stops the plugin and its child.
func TestInterruptStopsAHungSourcePlugin(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			u := newUserEnv(t)
			dir := t.TempDir()
			script, pidFile := hungPlugin(t, dir)
			kc := sourceKubeconfig(t, dir, "hung", execUser(script))
			cmd := u.kubemintCmd(t, "token", "--service-account=ci/deployer", "--source-context=hung", "--source-kubeconfig="+kc)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			// A plugin left running holds the pipe: stop waiting for it.
			cmd.WaitDelay = 2 * time.Second
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			pids := pluginPIDs(t, pidFile)
			assertNoLockHeld(t, pids)
			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err == nil {
					t.Error("exit 0 after the signal")
				}
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("still running 10 s after %v", sig)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v to end after %v", took, sig)
			}
			if s := stderr.String(); !strings.Contains(s, "kubemint: error: interrupted while minting with the source context \"hung\"'s exec plugin ("+script+")") {
				t.Errorf("stderr %q", s)
			}
			assertGone(t, pids)
		})
	}
}

// TestLoopThroughAWrapperScriptIsRefused: a source context whose exec
// plugin is a script that runs kubemint for the same account would wait a
// minute on the lock the outer kubemint holds; the inner kubemint refuses
// at once instead, naming the loop.
func TestLoopThroughAWrapperScriptIsRefused(t *testing.T) {
	u := newUserEnv(t)
	dir := t.TempDir()
	kc := filepath.Join(dir, "source-kubeconfig")
	wrapper := filepath.Join(dir, "login-wrapper")
	body := "#!/bin/sh\nexec kubemint token --service-account=ci/deployer --source-context=looped --source-kubeconfig=" + kc + "\n"
	if err := os.WriteFile(wrapper, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	sourceKubeconfig(t, dir, "looped", execUser(wrapper))
	start := time.Now()
	r := runCmd(t, u.kubemintCmd(t, "token", "--service-account=ci/deployer", "--source-context=looped", "--source-kubeconfig="+kc), 90*time.Second)
	took := time.Since(start)
	t.Logf("refused after %v", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("took %v", took)
	}
	if r.code == 0 || !strings.Contains(r.stderr, "kubemint: error: this kubemint was run by the source's exec plugin of another kubemint that is minting ci/deployer: a loop") ||
		!strings.Contains(r.stderr, "set --source-context to a context with credentials of its own") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "waiting for another kubemint") || strings.Contains(r.stderr, "cannot reach the API server") {
		t.Errorf("the error blames the lock or the server: %q", r.stderr)
	}
}

// measured makes cmd run under GNU time, and returns what reads the peak
// resident memory of the command itself, in bytes, once it has run. The
// rusage of a child this test process starts cannot say: os/exec starts it
// with vfork, and Linux carries the parent's high-water mark across the
// exec, so it reports this process's own peak (hundreds of MiB once other
// tests have run, under -race). GNU time forks, so its child's figure is
// the command's own. Signal the command with signalMeasured.
func measured(t *testing.T, cmd *exec.Cmd) (maxRSS func() int64) {
	t.Helper()
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		missingOptional(t, "GNU time", "no "+gnuTime+" to measure peak memory", "apt-get install time")
		return func() int64 { return 0 }
	}
	out := filepath.Join(t.TempDir(), "maxrss")
	cmd.Args = append([]string{gnuTime, "-f", "%M", "-o", out, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = gnuTime
	return func() int64 {
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("GNU time wrote no figure: %v", err)
		}
		// Its last line is the figure, in KiB (before it, a line
		// such as "Command terminated by signal 15").
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		kib, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
		if err != nil {
			t.Fatalf("GNU time wrote %q", b)
		}
		return kib << 10
	}
}

// signalMeasured sends sig to the command a measured cmd runs (GNU time's
// child), as a user's signal reaches kubemint; GNU time itself would die of
// SIGTERM without waiting for it.
func signalMeasured(t *testing.T, cmd *exec.Cmd, sig syscall.Signal) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, sig)
		}
	}
}

// TestTokenFileReadsAreBounded: a token file that is not a small regular
// file is refused at once by name, without reading it whole or hanging.
func TestTokenFileReadsAreBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("a"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"dev zero", "/dev/zero", "is a device, not a regular file"},
		{"named pipe", fifo, "is a named pipe, not a regular file"},
		{"directory", dir, "is a directory, not a file"},
		{"a 1 MiB file", big, "is larger than 16 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUserEnv(t)
			cmd := u.kubemintCmd(t, "token", "--service-account=ci/deployer", "--source-token-file="+tc.path, "--allow-server="+w.cp.Server)
			maxRSS := measured(t, cmd)
			start := time.Now()
			r := runCmd(t, cmd, 5*time.Second)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v", took)
			}
			oneErrorLine(t, r, "--source-token-file "+tc.path+" "+tc.want)
			if rss := maxRSS(); rss > 100<<20 {
				t.Errorf("peak memory %d MiB", rss>>20)
			}
		})
	}
}

// TestHugeResponseBodyIsBounded: an API server (here a fake: a real one
// cannot be made to) that answers a TokenRequest with 300 MiB is cut off
// at 1 MiB, named in one line, and kubemint's memory stays small.
func TestHugeResponseBodyIsBounded(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusCreated)
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for range 300 << 4 { // 300 MiB
			if _, err := rw.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("not-a-real-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	u := newUserEnv(t)
	cmd := exec.Command(filepath.Join(w.binDir, "kubemint"), "token", "--service-account=ci/deployer", "--source-token-file="+tokenFile, "--source-server="+srv.URL, "--source-certificate-authority="+ca, "--cache=none")
	cmd.Env = u.vars
	maxRSS := measured(t, cmd)
	r := runCmd(t, cmd, time.Minute)
	oneErrorLine(t, r, "the API server "+srv.URL+" sent an answer larger than 1 MiB")
	rss := maxRSS()
	t.Logf("peak memory %d MiB", rss>>20)
	if rss > 100<<20 {
		t.Errorf("peak memory %d MiB", rss>>20)
	}
}

// TestBadClientCertificateInTheSource: a source context whose client
// certificate cannot be used is named as such, not blamed on the CA, and
// client-go's own log line does not leak.
func TestBadClientCertificateInTheSource(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.crt")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, cert, key, want string }{
		{"garbage", garbage, garbage, "failed to find any PEM data"},
		{"key of another certificate", filepath.Join(w.cp.Dir, "admin.crt"), w.nobodyKey, "private key does not match public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUserEnv(t)
			kc := sourceKubeconfig(t, t.TempDir(), "certs", "    client-certificate: "+tc.cert+"\n    client-key: "+tc.key)
			r := runCmd(t, u.kubemintCmd(t, "token", "--service-account=ci/deployer", "--source-context=certs", "--source-kubeconfig="+kc, "--cache=none"), time.Minute)
			oneErrorLine(t, r, `the client certificate of context "certs" (user "certs-user": client-certificate `+tc.cert+`, client-key `+tc.key+`) cannot be used`, tc.want, "fix client-certificate and client-key")
			if strings.Contains(r.stderr, "certificate-authority") || strings.Contains(r.stderr, "TLS verification") {
				t.Errorf("blames the CA: %q", r.stderr)
			}
		})
	}
}

// TestEntryFromBeforeTheClockWentBackIsReminted: after this machine's
// clock goes back, a cached entry issued "in the future" is not trusted:
// its expiry was placed on the clock as it was, so kubemint mints anew
// instead of serving a token that may have expired. The jump is staged by
// moving the entry's times forward instead of the clock back.
func TestEntryFromBeforeTheClockWentBackIsReminted(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	// No exec info: the lean front hands off to the full binary, whose
	// check this is.
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + kc, "--cache=file"}
	if r := u.kubemint(t, "", args...); r.code != 0 {
		t.Fatalf("first mint: %s", r.stderr)
	}
	entries := u.cacheEntries()
	if len(entries) != 1 {
		t.Fatalf("cache entries %v", entries)
	}
	b, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"i", "e", "c"} {
		if v, ok := e[k].(float64); ok {
			e[k] = v + 2*3600
		}
	}
	if b, err = json.Marshal(e); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(entries[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	before := tokenRequests(t)
	r := u.kubemint(t, "", args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := tokenRequests(t) - before; n != 1 {
		t.Errorf("%v TokenRequests after the clock went back, want 1: the entry from the future was served", n)
	}
}

// TestSourceKubeconfigFilesAreReadBounded: every file a source context
// names (tokenFile, certificate-authority, client-certificate, client-key,
// the exec plugin's command) is read by kubemint itself, bounded, never by
// client-go: a named pipe or /dev/zero there is refused at once by name,
// memory stays small, and a --request-timeout of five minutes and SIGTERM
// are never needed. Before, a named pipe as tokenFile hung kubemint past
// --request-timeout and SIGTERM, and /dev/zero grew it to gigabytes.
func TestSourceKubeconfigFilesAreReadBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	adminCert, adminKey := filepath.Join(w.cp.Dir, "admin.crt"), filepath.Join(w.cp.Dir, "admin.key")
	for _, tc := range []struct {
		name, user, ca, want string
	}{
		{"tokenFile a named pipe", "    tokenFile: " + fifo, "", `the user "files-user" of context "files": tokenFile ` + fifo + " is a named pipe, not a regular file"},
		{"tokenFile /dev/zero", "    tokenFile: /dev/zero", "", "tokenFile /dev/zero is a device, not a regular file"},
		{"certificate-authority a named pipe", "    token: not-used", fifo, `the certificate-authority of context "files", ` + fifo + " is a named pipe"},
		{"client-certificate a named pipe", "    client-certificate: " + fifo + "\n    client-key: " + adminKey, "", "client-certificate " + fifo + " is a named pipe"},
		{"client-key /dev/zero", "    client-certificate: " + adminCert + "\n    client-key: /dev/zero", "", "client-key /dev/zero is a device"},
		{"exec plugin a named pipe", execUser(fifo), "", "exec plugin " + fifo + " is a named pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUserEnv(t)
			kc := sourceKubeconfig(t, t.TempDir(), "files", tc.user)
			if tc.ca != "" {
				b, err := os.ReadFile(kc)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(kc, []byte(strings.ReplaceAll(string(b), "certificate-authority: "+w.cp.CAFile, "certificate-authority: "+tc.ca)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cmd := u.kubemintCmd(t, "token", "--service-account=ci/deployer", "--source-context=files", "--source-kubeconfig="+kc, "--cache=none", "--request-timeout=5m")
			maxRSS := measured(t, cmd)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// The user gives up after a second, as a CI system's timeout
			// or systemd would: SIGTERM must end it at once.
			select {
			case <-done:
			case <-time.After(time.Second):
				signalMeasured(t, cmd, syscall.SIGTERM)
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					signalMeasured(t, cmd, syscall.SIGKILL)
					<-done
					t.Fatalf("still running 5 s after SIGTERM (stderr %q)", errb.String())
				}
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %v: not refused at once", took)
			}
			r := result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
			oneErrorLine(t, r, tc.want)
			if rss := maxRSS(); rss > 100<<20 {
				t.Errorf("peak memory %d MiB", rss>>20)
			}
		})
	}
}

// TestHungPluginDaemonIsStopped: the source's exec plugin double-forks a
// daemon into a session of its own (as an agent does) and then hangs. The
// daemon left kubemint's tree when its parent exited, and used to live on
// with KUBEMINT_MINTING in its environment, so a kubemint it ran later was
// refused as a loop. Now kubemint-full adopts it (a child subreaper) and
// stops it with the plugin; and the variable it kept names a kubemint that
// no longer runs, so a kubemint run with it is not refused.
func TestHungPluginDaemonIsStopped(t *testing.T) {
	u := newUserEnv(t)
	dir := t.TempDir()
	script, pidFile := filepath.Join(dir, "daemonizing-login"), filepath.Join(dir, "pids")
	daemonFile, envFile := filepath.Join(dir, "daemon"), filepath.Join(dir, "daemon.env")
	body := "#!/bin/sh\n" +
		"(setsid sh -c 'env > " + envFile + "; echo $$ > " + daemonFile + ".tmp; mv " + daemonFile + ".tmp " + daemonFile + "; exec sleep 600' &)\n" +
		"sleep 600 &\necho \"$$ $!\" > " + pidFile + ".tmp\nmv " + pidFile + ".tmp " + pidFile + "\nwait\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	kc := sourceKubeconfig(t, dir, "hung", execUser(script))
	r := runCmd(t, u.kubemintCmd(t, "token", "--service-account=ci/deployer", "--source-context=hung", "--source-kubeconfig="+kc, "--request-timeout=2s"), 20*time.Second)
	oneErrorLine(t, r, `the source context "hung"'s exec plugin (`+script+`) did not answer within 2s`, "--request-timeout")
	pids := pluginPIDs(t, pidFile)
	daemon := pluginPIDs(t, daemonFile)
	t.Cleanup(func() {
		for _, pid := range daemon {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	assertGone(t, append(pids, daemon...))

	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	var minting string
	for _, kv := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(kv, "KUBEMINT_MINTING="); ok {
			minting = v
		}
	}
	if minting == "" {
		t.Fatalf("the daemon's environment has no KUBEMINT_MINTING:\n%s", b)
	}
	// What the daemon would run, with what it kept.
	cmd := u.kubemintCmd(t, "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc)
	cmd.Env = append(cmd.Env, "KUBEMINT_MINTING="+minting)
	if r := runCmd(t, cmd, 20*time.Second); r.code != 0 {
		t.Errorf("kubemint run with the daemon's KUBEMINT_MINTING=%q after the minting kubemint ended: exit %d:\n%s", minting, r.code, r.stderr)
	}
}
