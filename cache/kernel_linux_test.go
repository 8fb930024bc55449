package cache

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/sys/unix"
)

func kernelStore(t *testing.T) *Store {
	t.Helper()
	if _, err := KernelProbe(); err != nil {
		t.Skipf("no kernel keyring here: %v", err)
	}
	s := &Store{Mode: Kernel, Dir: filepath.Join(t.TempDir(), "kubemint")}
	t.Cleanup(func() { _ = s.Delete("k") })
	return s
}

// TestKernelStore: in kernel mode an entry, its served record and a failure
// live in the kernel keyring, time out at the token's expiry, and nothing
// is written to disk (the cache directory is not even made).
func TestKernelStore(t *testing.T) {
	s := kernelStore(t)
	now := time.Now().Truncate(time.Second)
	e := Entry{Token: "header.payload.signature", Issued: now, Expiry: now.Add(time.Hour), ChainStart: now}
	if b, err := s.Save("k", e); err != nil || b != BackendKernel {
		t.Fatalf("Save = %v, %v", b, err)
	}
	if got := s.ReadServed("k"); !got.Unknown {
		t.Errorf("a new entry's served record = %+v, want Unknown until written", got)
	}
	r := Served{PID: 42, Last: now, VerifiedUntil: now.Add(time.Minute)}
	if err := s.WriteServed("k", r); err != nil {
		t.Fatal(err)
	}
	fresh := &Store{Mode: Kernel, Dir: s.Dir}
	got, b, err := fresh.Load("k")
	if err != nil || b != BackendKernel || got.Token != e.Token || !got.Expiry.Equal(e.Expiry) {
		t.Fatalf("Load = %+v, %v, %v", got, b, err)
	}
	if sr := fresh.ReadServed("k"); sr.PID != 42 || !sr.Last.Equal(now) || !sr.VerifiedUntil.Equal(r.VerifiedUntil) {
		t.Errorf("ReadServed = %+v, want %+v", sr, r)
	}
	if err := fresh.RememberFailure("k", Failure{PID: 7, At: now, Message: "it failed"}); err != nil {
		t.Fatal(err)
	}
	if f, ok := fresh.RecallFailure("k"); !ok || f.Message != "it failed" || f.PID != 7 {
		t.Errorf("RecallFailure = %+v, %v", f, ok)
	}
	if _, err := os.Stat(filepath.Dir(s.Dir)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kernel mode touched the disk: %s exists (%v)", s.Dir, err)
	}
	id, err := kernelFind(s.kernelName("k", ""))
	if err != nil {
		t.Fatal(err)
	}
	if left := keyTimeout(t, id); left <= 55*time.Minute || left > time.Hour+time.Second {
		t.Errorf("the key times out in %v, want at the token's expiry (1h)", left)
	}
	// The served record too, after a hit rewrote it in place (the
	// kernel clears a key's timeout when it updates its payload).
	if err := fresh.WriteServed("k", r); err != nil {
		t.Fatal(err)
	}
	sid, err := kernelFind(s.kernelName("k", "served"))
	if err != nil {
		t.Fatal(err)
	}
	if left := keyTimeout(t, sid); left <= 55*time.Minute || left > time.Hour+time.Second {
		t.Errorf("the served record times out in %v after a rewrite, want at the token's expiry (1h)", left)
	}
	if err := fresh.Forget(Info{Key: "k", Backend: BackendKernel}); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"", "served", "failed"} {
		if _, err := kernelFind(s.kernelName("k", ext)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Forget, %q: %v", ext, err)
		}
	}
}

// TestKernelKeyNotOursIsNotUsed: a key of kubemint's name whose
// permissions let the group or others at it is refused as a file with a
// loose mode is (a miss), and the next save replaces it with a private one.
func TestKernelKeyNotOursIsNotUsed(t *testing.T) {
	s := kernelStore(t)
	now := time.Now().Truncate(time.Second)
	e := Entry{Token: "planted.token.value", Issued: now, Expiry: now.Add(time.Hour)}
	id, err := unix.AddKey("user", s.kernelName("k", ""), e.Encode("k"), unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.KeyctlSetperm(id, 0x3f3f3f3f); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load("k"); !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "3f3f3f3f") {
		t.Fatalf("Load of a world-readable key = %v, want ErrInsecure", err)
	}
	e.Token = "our.own.token"
	if _, err := (&Store{Mode: Kernel, Dir: s.Dir}).Save("k", e); err != nil {
		t.Fatal(err)
	}
	got, _, err := (&Store{Mode: Kernel, Dir: s.Dir}).Load("k")
	if err != nil || got.Token != "our.own.token" {
		t.Fatalf("Load after the save = %q, %v", got.Token, err)
	}
	for _, tc := range []struct{ desc, why string }{
		{"user;0;0;003f0000;NAME", ""},
		{"user;0;0;00010000;NAME", ""},
		{"user;1234;0;003f0000;NAME", "owned by uid 1234"},
		{"user;0;0;3f010000;NAME", "a possessor of another uid"},
		{"user;0;0;01000000;NAME", "a possessor of another uid"},
		{"user;0;0;003f0100;NAME", "group or others"},
		{"user;0;0;003f0001;NAME", "group or others"},
		{"keyring;0;0;003f0000;NAME", "not a user key"},
		{"user;0;0;003f0000;other", "not a user key"},
	} {
		desc := strings.Replace(strings.Replace(tc.desc, "NAME", "n", 1), ";0;", ";"+strconv.Itoa(effectiveUID())+";", 1)
		if got := kernelUntrusted(desc, "n"); (tc.why == "") != (got == "") || !strings.Contains(got, tc.why) {
			t.Errorf("kernelUntrusted(%q) = %q, want %q", desc, got, tc.why)
		}
	}
}

// keyTimeout reads the key's time left from /proc/keys.
func keyTimeout(t *testing.T, id int) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/keys")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[0] != strconv.FormatInt(int64(id), 16) && f[0] != leftPad(strconv.FormatInt(int64(id), 16)) {
			continue
		}
		d, err := time.ParseDuration(strings.Replace(f[3], "h", "h0m", 1))
		if err != nil {
			t.Fatalf("expiry %q: %v", f[3], err)
		}
		return d
	}
	t.Fatalf("key %x not in /proc/keys", id)
	return 0
}

func leftPad(s string) string { return strings.Repeat("0", max(0, 8-len(s))) + s }

// TestHelperSecretServiceCopy is not a test: TestSecretServiceEntryHasAKernelCopy
// runs it in a child process, because go-keyring's mock replaces a
// process-wide provider.
func TestHelperSecretServiceCopy(t *testing.T) {
	dir := os.Getenv("KUBEMINT_TEST_SS_COPY")
	if dir == "" {
		t.Skip("helper process only")
	}
	keyring.MockInit()
	now := time.Now().Truncate(time.Second)
	e := Entry{Token: "header.payload.signature", Issued: now, Expiry: now.Add(time.Hour)}
	if b, err := (&Store{Mode: Auto, Dir: dir}).Save("k", e); err != nil || b != BackendKeyring {
		t.Fatalf("Save = %v, %v; want the Secret Service", b, err)
	}
	got, b, err := (&Store{Mode: Auto, Dir: dir}).Load("k")
	if err != nil || b != BackendKernel || got.Token != e.Token {
		t.Fatalf("Load = %q, %v, %v; want the kernel keyring copy", got.Token, b, err)
	}
	// A refused token is forgotten from where Load found it: the copy,
	// and the Secret Service behind it.
	if err := (&Store{Mode: Auto, Dir: dir}).Forget(Info{Key: "k", Backend: BackendKernel}); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(Service, "k"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("the Secret Service item survived Forget: %v", err)
	}
	if _, _, err := (&Store{Mode: Auto, Dir: dir}).Load("k"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load after Forget = %v, want a miss", err)
	}
	fmt.Println("ok")
}

// TestSecretServiceEntryHasAKernelCopy: in auto mode an entry the Secret
// Service holds is copied into the kernel keyring, which the next hit
// reads without D-Bus; forgetting it forgets both.
func TestSecretServiceEntryHasAKernelCopy(t *testing.T) {
	if _, err := KernelProbe(); err != nil {
		t.Skipf("no kernel keyring here: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "kubemint")
	child := exec.Command(os.Args[0], "-test.run=^TestHelperSecretServiceCopy$", "-test.v")
	child.Env = append(os.Environ(), "KUBEMINT_TEST_SS_COPY="+dir, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent")
	out, err := child.CombinedOutput()
	t.Cleanup(func() { dropKernel(dir, "k") })
	if err != nil || !strings.Contains(string(out), "\nok\n") {
		t.Fatalf("helper: %v\n%s", err, out)
	}
}

// An entry larger than kernelRead's first buffer is read whole (a second
// read, sized by the first); one larger than the limit is refused.
func TestKernelReadLargePayload(t *testing.T) {
	s := kernelStore(t)
	now := time.Now().Truncate(time.Second)
	// Small enough for a user's default quota (20000 bytes).
	for _, size := range []int{10, 4<<10 - 100, 4 << 10, 6 << 10} {
		e := Entry{Token: strings.Repeat("t", size), Issued: now, Expiry: now.Add(time.Hour)}
		_, err := s.Save("k", e)
		if errors.Is(err, errKernelQuota) {
			t.Skipf("%d bytes: %v", size, err)
		}
		if err != nil {
			t.Fatalf("%d bytes: Save: %v", size, err)
		}
		got, _, err := (&Store{Mode: Kernel, Dir: s.Dir}).Load("k")
		if err != nil || got.Token != e.Token {
			t.Fatalf("%d bytes: Load = %d bytes, %v", size, len(got.Token), err)
		}
	}
	id, err := kernelFind(s.kernelName("k", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kernelRead(id, 5<<10); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a payload over the limit: kernelRead = %v, want ErrCorrupt", err)
	}
}

// TestForgetFileEntryTakesItsKernelCopy: one key cached in the kernel
// keyring (an exec entry with --cache=auto, or setup's check) and then in
// files (another entry of the same account with --cache=file) leaves the
// index naming files. Forgetting that entry (clean, revoke) must take the
// kernel keyring's copy too: left there, status no longer lists it and
// the next auto call serves it, a token revoke meant to forget.
func TestForgetFileEntryTakesItsKernelCopy(t *testing.T) {
	s := kernelStore(t)
	now := time.Now().Truncate(time.Second)
	e := Entry{Token: "header.payload.signature", Issued: now, Expiry: now.Add(time.Hour), ChainStart: now}
	if b, err := s.Save("k", e); err != nil || b != BackendKernel {
		t.Fatalf("kernel Save = %v, %v", b, err)
	}
	files := &Store{Mode: File, Dir: s.Dir}
	if b, err := files.Save("k", e); err != nil || b != BackendFile {
		t.Fatalf("file Save = %v, %v", b, err)
	}
	if err := files.Forget(Info{Key: "k", Backend: BackendFile}); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{Auto, Kernel, File} {
		if _, b, err := (&Store{Mode: mode, Dir: s.Dir}).Load("k"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after forgetting the file entry, a %v store loads it from %v (%v)", mode, b, err)
		}
	}
}

// TestKernelKeyNotForAPossessor: a process of another uid that possesses
// the user's keyring (root's session keyring links it, and a program root
// starts with setpriv inherits that session keyring) may neither read
// kubemint's keys nor change their permissions: they give a possessor
// nothing, only the owner's uid. With the kernel's default permissions
// (all for the possessor) nobody read root's token. A key with the old
// default permissions is not trusted, and the next save replaces it.
func TestKernelKeyNotForAPossessor(t *testing.T) {
	s := kernelStore(t)
	now := time.Now().Truncate(time.Second)
	e := Entry{Token: "root.only.token", Issued: now, Expiry: now.Add(time.Hour)}
	if _, err := s.Save("k", e); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"", "served"} {
		id, err := kernelFind(s.kernelName("k", ext))
		if err != nil {
			t.Fatalf("%q: %v", ext, err)
		}
		desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
		if err != nil {
			t.Fatal(err)
		}
		if perm := strings.Split(desc, ";")[3]; perm != "003f0000" {
			t.Errorf("key %q has permissions %s, want 003f0000 (the owner's uid alone)", ext, perm)
		}
	}
	id, err := kernelFind(s.kernelName("k", ""))
	if err != nil {
		t.Fatal(err)
	}
	// A key as kubemint made them before: the kernel's default permissions.
	if err := unix.KeyctlSetperm(id, 0x3f010000); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load("k"); !errors.Is(err, ErrInsecure) {
		t.Errorf("Load of a key with a possessor's permissions = %v, want ErrInsecure", err)
	}
	if _, err := s.Save("k", e); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Load("k"); err != nil || got.Token != e.Token {
		t.Fatalf("Load after the save = %q, %v", got.Token, err)
	}

	setpriv, err := exec.LookPath("setpriv")
	if os.Geteuid() != 0 || err != nil {
		t.Skip("the possessor of another uid needs root and setpriv")
	}
	if id, err = kernelFind(s.kernelName("k", "")); err != nil {
		t.Fatal(err)
	}
	// This process's session keyring links the user keyring (accessing it
	// installs the user's default session keyring, which does), and the
	// child inherits it across setpriv.
	if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, unix.KEY_SPEC_USER_KEYRING, unix.KEY_SPEC_SESSION_KEYRING, 0, 0); err != nil {
		t.Skipf("cannot link the user keyring into the session keyring: %v", err)
	}
	child := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", os.Args[0], "-test.run=^TestHelperPossessorRead$", "-test.v")
	child.Env = append(os.Environ(), "KUBEMINT_TEST_POSSESSOR_KEY="+strconv.Itoa(id))
	out, err := child.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHelperPossessorRead") {
		t.Fatalf("another uid, possessing the keyring, got at the key: %v\n%s", err, out)
	}
}

// TestHelperPossessorRead is not a test: TestKernelKeyNotForAPossessor
// runs it as another uid. It passes when it can neither read the key nor
// change its permissions.
func TestHelperPossessorRead(t *testing.T) {
	v := os.Getenv("KUBEMINT_TEST_POSSESSOR_KEY")
	if v == "" {
		t.Skip("helper process only")
	}
	id, _ := strconv.Atoi(v)
	buf := make([]byte, 4096)
	if n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0); err == nil {
		t.Errorf("uid %d read the key: %q", os.Getuid(), buf[:min(n, len(buf))])
	}
	if err := unix.KeyctlSetperm(id, 0x3f3f3f3f); err == nil {
		t.Errorf("uid %d changed the key's permissions", os.Getuid())
	}
}
