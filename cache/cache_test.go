package cache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"
)

var t0 = time.Unix(1_800_000_000, 0)

func entry() Entry {
	return Entry{Token: "header.payload.signature", Issued: t0, Expiry: t0.Add(time.Hour), ChainStart: t0}
}

func TestEntryRoundTrip(t *testing.T) {
	e := entry()
	got, err := Decode("k", e.Encode("k"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A token that renewed itself carries the start of its chain.
func TestChainStartRoundTrip(t *testing.T) {
	e := entry()
	e.ChainStart = t0.Add(-5 * time.Hour)
	got, err := Decode("k", e.Encode("k"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.ChainStart.Equal(e.ChainStart) {
		t.Errorf("ChainStart = %v, want %v", got.ChainStart, e.ChainStart)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := map[string]string{
		"empty":            ``,
		"truncated":        string(entry().Encode("k")[:20]),
		"not an object":    `[1,2]`,
		"future version":   `{"v":3,"k":"k","t":"x","i":1,"e":2}`,
		"old version":      `{"v":1,"t":"x","i":1,"e":2}`,
		"no token":         `{"v":2,"k":"k","t":"","i":1,"e":2}`,
		"expiry not after": `{"v":2,"k":"k","t":"x","i":2,"e":2}`,
		"another key":      string(entry().Encode("other")),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Decode("k", []byte(in))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error = %v, want ErrCorrupt", err)
			}
			if strings.Contains(err.Error(), `"t":`) {
				t.Errorf("error quotes the entry: %v", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(entry().Encode("k"))
	f.Add([]byte(`{"v":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode("k", b)
		if err == nil && (e.Token == "" || !e.Expiry.After(e.Issued)) {
			t.Errorf("accepted an unusable entry")
		}
	})
}

func TestRefreshAt(t *testing.T) {
	tests := map[string]struct {
		margin time.Duration
		want   time.Time
	}{
		"default is a fifth":      {0, t0.Add(48 * time.Minute)},
		"explicit margin":         {10 * time.Minute, t0.Add(50 * time.Minute)},
		"margin beyond lifetime":  {2 * time.Hour, t0.Add(48 * time.Minute)},
		"margin equal to life":    {time.Hour, t0.Add(48 * time.Minute)},
		"negative margin ignored": {-time.Minute, t0.Add(48 * time.Minute)},
	}
	for name, tt := range tests {
		if got := entry().RefreshAt(tt.margin); !got.Equal(tt.want) {
			t.Errorf("%s: RefreshAt = %v, want %v", name, got, tt.want)
		}
	}
	e := entry()
	if !e.Fresh(t0.Add(47*time.Minute), 0) || e.Fresh(t0.Add(48*time.Minute), 0) {
		t.Errorf("Fresh does not switch at the refresh point")
	}
	if !e.Valid(t0.Add(59*time.Minute)) || e.Valid(t0.Add(time.Hour)) {
		t.Errorf("Valid does not switch at expiry")
	}
}

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: File, Dir: dir}
	if _, _, err := s.Load("k"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load on an empty cache = %v, want ErrNotExist", err)
	}
	if b, err := s.Save("k", entry()); err != nil || b != BackendFile {
		t.Fatalf("Save = %v, %v", b, err)
	}
	got, b, err := s.Load("k")
	if err != nil || b != BackendFile {
		t.Fatalf("Load = %v, %v", b, err)
	}
	if diff := cmp.Diff(entry(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	assertPerm(t, dir, 0o700)
	assertPerm(t, filepath.Join(dir, "k.json"), 0o600)
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Errorf("files left in the cache dir: %v", files)
	}
	// A torn or foreign file is a miss, and the next save replaces it.
	if err := os.WriteFile(filepath.Join(dir, "k.json"), []byte(`{"v":2,"k":"k","t":"abc`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load("k"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load of a torn entry = %v, want ErrCorrupt", err)
	}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load("k"); err != nil {
		t.Fatalf("Load after overwrite: %v", err)
	}
	if err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load("k"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load after Delete = %v", err)
	}
}

func TestNoneStoresNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: None, Dir: dir}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load("k"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load = %v, want a miss", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--cache=none created %s", dir)
	}
}

// A session bus that accepts connections and never answers: what a hung
// or prompting Secret Service looks like to a client.
func silentBus(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", sock)
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
	return "unix:path=" + sock
}

func TestAutoFallsBackFromASilentKeyring(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", silentBus(t))
	var logs []string
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: Auto, Dir: dir, KeyringTimeout: 200 * time.Millisecond,
		Logf: func(level int, format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }}
	t.Cleanup(func() { dropKernel(dir, "k", "k2") })

	start := time.Now()
	b, err := s.Save("k", entry())
	if want := autoFallback(); err != nil || b != want {
		t.Fatalf("Save = %v, %v; want the %s cache", b, err, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("fallback took %v", d)
	}
	if len(logs) != 1 || !strings.Contains(logs[0], "keyring is not usable") {
		t.Errorf("logs = %q, want one line about the keyring", logs)
	}
	// The line names where the entries go instead (it said "the file
	// cache" when they went to the kernel keyring).
	instead := map[Backend]string{BackendKernel: "; using the kernel keyring", BackendFile: "; using the file cache"}[autoFallback()]
	if len(logs) == 1 && !strings.Contains(logs[0], instead) {
		t.Errorf("log %q does not say %q", logs[0], instead)
	}
	// The decision is remembered: the next calls do not probe again.
	start = time.Now()
	if _, b, err := s.Load("k"); err != nil || b != autoFallback() {
		t.Fatalf("Load = %v, %v", b, err)
	}
	if _, _, err := s.Load("other"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load of a missing key = %v", err)
	}
	if _, err := s.Save("k2", entry()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("later calls took %v; the keyring was probed again", d)
	}
	if len(logs) != 1 {
		t.Errorf("the fallback was reported %d times, want once", len(logs))
	}
}

func TestExplicitKeyringFailsInsteadOfFallingBack(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", silentBus(t))
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: Keyring, Dir: dir, KeyringTimeout: 200 * time.Millisecond}
	if _, err := s.Save("k", entry()); err == nil || !strings.Contains(err.Error(), "did not answer in time") {
		t.Fatalf("Save = %v, want a timeout error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.json")); err == nil {
		t.Errorf("--cache=keyring wrote a file")
	}
}

// Without a session bus, auto mode asks no Secret Service: the entry goes
// to the kernel keyring (Linux) or the file cache, silently.
func TestNoSessionBusMeansNoSecretServiceProbe(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	dir := filepath.Join(t.TempDir(), "kubemint")
	var logs []string
	s := &Store{Mode: Auto, Dir: dir, Logf: func(level int, format string, args ...any) { logs = append(logs, format) }}
	t.Cleanup(func() { dropKernel(dir, "k") })
	if b, err := s.Save("k", entry()); err != nil || b != autoFallback() {
		t.Fatalf("Save = %v, %v", b, err)
	}
	if len(logs) != 0 {
		t.Errorf("logs = %q; no bus is not worth a message", logs)
	}
}

func TestLockExcludesAndTimesOut(t *testing.T) {
	s := &Store{Mode: File, Dir: filepath.Join(t.TempDir(), "kubemint")}
	unlock, err := s.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(ctx, "k"); err == nil || !strings.Contains(err.Error(), "waiting for another kubemint process") {
		t.Fatalf("second Lock = %v, want a timeout", err)
	}
	unlock()
	unlock2, err := s.Lock(context.Background(), "k")
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

func assertPerm(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}

// TestHelperHoldLock is not a test: TestLockOfAKilledProcess runs it in a
// child process to hold a lock until it is killed.
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv("KUBEMINT_TEST_HOLD_LOCK")
	if dir == "" {
		t.Skip("helper process only")
	}
	s := &Store{Mode: File, Dir: dir}
	if _, err := s.Lock(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Minute)
}

// A process killed while holding the lock (kill -9 mid-mint) never blocks
// the next call: the kernel drops a flock with its holder.
func TestLockOfAKilledProcessIsReleased(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	child := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	child.Env = append(os.Environ(), "KUBEMINT_TEST_HOLD_LOCK="+dir)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}
	s := &Store{Mode: File, Dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = s.Lock(ctx, "k")
	cancel()
	if err == nil {
		t.Fatal("took the lock while another process held it")
	}
	_ = child.Process.Kill()
	_ = child.Wait()
	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	unlock, err := s.Lock(ctx, "k")
	if err != nil {
		t.Fatalf("the lock of a killed process still blocks: %v", err)
	}
	unlock()
}

func TestInsecureFileIsAMissAndDirIsRepaired(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	var logs []string
	s := &Store{Mode: File, Dir: dir, Logf: func(level int, format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "k.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load("k"); !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "mode -rw-r--r--, readable by others") {
		t.Fatalf("Load of a world-readable entry = %v, want ErrInsecure naming the mode", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The next call (a new process) finds the loose directory.
	s = &Store{Mode: File, Dir: dir, Logf: s.Logf}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	assertPerm(t, dir, 0o700)
	assertPerm(t, filepath.Join(dir, "k.json"), 0o600)
	if _, _, err := s.Load("k"); err != nil {
		t.Fatalf("Load after the save: %v", err)
	}
	if len(logs) != 1 || !strings.Contains(logs[0], "had mode drwxr-xr-x, readable by others; made it drwx------") {
		t.Errorf("logs = %q", logs)
	}
}

func TestOversizedFileIsCorrupt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: File, Dir: dir}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "k.json"), make([]byte, maxEntrySize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load("k"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load = %v, want ErrCorrupt", err)
	}
}

// A cache file replaced by a symbolic link is not followed; the next save
// replaces the link itself, not its target.
func TestSymlinkedEntryIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: File, Dir: dir}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	if err := os.WriteFile(target, entry().Encode("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "k.json")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load("k"); !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Load through a symlink = %v, want ErrInsecure", err)
	}
	e := entry()
	e.Token = "new.token.value"
	if _, err := s.Save("k", e); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("the link is still there: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != string(entry().Encode("k")) {
		t.Errorf("the save wrote through the link into its target")
	}
}

// The served record round-trips, and one that cannot be read is Unknown
// (credential.Repeat decides what that means).
func TestServedRecord(t *testing.T) {
	s := &Store{Mode: File, Dir: t.TempDir()}
	if r := s.ReadServed("k"); !r.Unknown {
		t.Fatal("a missing record is not Unknown")
	}
	want := Served{PID: 42, Last: t0, VerifiedUntil: t0.Add(time.Minute)}
	if err := s.WriteServed("k", want); err != nil {
		t.Fatal(err)
	}
	if r := s.ReadServed("k"); r.Unknown || r.PID != 42 || !r.Last.Equal(t0) || !r.VerifiedUntil.Equal(want.VerifiedUntil) {
		t.Errorf("read back %+v, want %+v", r, want)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "k.served"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !s.ReadServed("k").Unknown {
		t.Errorf("a torn record is not Unknown")
	}
}

// An entry copied under another key's name is not served for that key.
func TestEntryCopiedUnderAnotherKeyIsAMiss(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: File, Dir: dir}
	a := strings.Repeat("a", 64)
	b := strings.Repeat("b", 64)
	if _, err := s.Save(a, entry()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, a+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, b+".json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load(b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "another credential") {
		t.Fatalf("Load of a copied entry = %v, want ErrCorrupt", err)
	}
	if _, _, err := s.Load(a); err != nil {
		t.Fatalf("Load of the original: %v", err)
	}
}

// TestHelperTooBig is not a test: TestKeyringRefusesALargeEntry runs it in
// a child process, because go-keyring's mock replaces a process-wide
// provider that the other tests need real.
func TestHelperTooBig(t *testing.T) {
	dir := os.Getenv("KUBEMINT_TEST_TOO_BIG")
	if dir == "" {
		t.Skip("helper process only")
	}
	keyring.MockInitWithError(keyring.ErrSetDataTooBig)
	var logs []string
	s := &Store{Mode: Auto, Dir: dir, Logf: func(level int, format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }}
	b, err := s.Save("k", entry())
	fmt.Printf("%s|%v|%s\n", b, err, strings.Join(logs, ";"))
}

// A keyring that refuses an entry as too large (Windows Credential
// Manager, the macOS security tool) sends only that entry to the file
// cache, says so, and is not written off for the next entries.
func TestKeyringRefusesALargeEntry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	child := exec.Command(os.Args[0], "-test.run=^TestHelperTooBig$")
	child.Env = append(os.Environ(), "KUBEMINT_TEST_TOO_BIG="+dir, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent")
	out, err := child.Output()
	t.Cleanup(func() { dropKernel(dir, "k") })
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	line := strings.SplitN(string(out), "\n", 2)[0]
	if !strings.HasPrefix(line, string(autoFallback())+"|<nil>|") || !strings.Contains(line, "refused this entry as too large") {
		t.Errorf("helper said %q", line)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.json")); (err == nil) != (autoFallback() == BackendFile) {
		t.Errorf("the entry is in the file cache: %v, want it there only without a kernel keyring", err == nil)
	}
	if _, err := os.Stat(filepath.Join(dir, "keyring-unavailable")); err == nil {
		t.Errorf("one large entry made the keyring count as unavailable")
	}
}

// A temporary file left by a writer killed before its rename (it may hold
// a token) is removed by a later save, once it is clearly not in progress.
func TestStaleTempFilesAreRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: File, Dir: dir}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".k.json.tmp123")
	fresh := filepath.Join(dir, ".k.json.tmp456")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTempAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale temporary file is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a temporary file that may be in use was removed")
	}
}

// autoFallback is where auto mode puts an entry when it does not use the
// OS keyring: the kernel keyring where this process may use it (Linux, no
// seccomp filter against keyctl), else the file cache.
func autoFallback() Backend {
	if _, err := KernelProbe(); err == nil {
		return BackendKernel
	}
	return BackendFile
}

// dropKernel removes what a test left in the kernel keyring under dir.
func dropKernel(dir string, keys ...string) {
	s := &Store{Mode: Kernel, Dir: dir}
	for _, k := range keys {
		_ = s.deleteKernel(k)
	}
}
