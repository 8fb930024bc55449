//go:build unix

package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobody is the uid another user's files get in these tests.
const nobody = 65534

func chownToNobody(t *testing.T, paths ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give a file to another user (uid 65534)")
	}
	for _, p := range paths {
		if err := os.Lchown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// Every file kubemint opens in its cache is opened without following a
// link and checked after the open: a file planted in the directory while
// it was open to others (a loose mode, a shared XDG_CACHE_HOME) is never
// read as ours nor written through.
func TestPlantedFilesAreNotUsed(t *testing.T) {
	served := fmt.Sprintf("%10d %20d %20d\n", 42, t0.UnixNano(), t0.Add(time.Hour).UnixNano())
	info, _ := json.Marshal(Info{Key: "k", Labels: map[string]string{"serviceAccount": "ci/attacker"}})
	tests := []struct {
		name string
		// plant puts something in dir at name, given a victim file outside.
		plant func(t *testing.T, dir, victim string)
		// use does what kubemint does with the file and fails the test if
		// it used what was planted.
		use func(t *testing.T, s *Store)
		// victim is what the victim file must still hold afterwards.
		victim string
	}{{
		name:   "served record linked to a file of the victim's, on a hit",
		plant:  func(t *testing.T, dir, victim string) { symlink(t, victim, filepath.Join(dir, "k.served")) },
		victim: "ssh-ed25519 AAAA victim\n",
		use: func(t *testing.T, s *Store) {
			if err := s.WriteServed("k", Served{PID: 7, Last: t0}); err != nil {
				t.Fatalf("WriteServed: %v", err)
			}
			if fi, err := os.Lstat(s.servedPath("k")); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("the link was not replaced by a record: %v", err)
			}
			if r := s.ReadServed("k"); r.PID != 7 {
				t.Errorf("ReadServed = %+v after the write", r)
			}
		},
	}, {
		name:   "served record linked to a record elsewhere, read",
		plant:  func(t *testing.T, dir, victim string) { symlink(t, victim, filepath.Join(dir, "k.served")) },
		victim: served,
		use: func(t *testing.T, s *Store) {
			if r := s.ReadServed("k"); !r.Unknown {
				t.Errorf("ReadServed followed the link: %+v", r)
			}
		},
	}, {
		name: "lock linked to a path that does not exist",
		plant: func(t *testing.T, dir, victim string) {
			symlink(t, victim+".created", filepath.Join(dir, "k.lock"))
		},
		victim: "unchanged",
		use: func(t *testing.T, s *Store) {
			unlock, err := s.Lock(context.Background(), "k")
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			unlock()
			if fi, err := os.Lstat(s.lockPath("k")); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("the link was not replaced by a lock file: %v", err)
			}
		},
	}, {
		name:   "index linked to an index elsewhere",
		plant:  func(t *testing.T, dir, victim string) { symlink(t, victim, filepath.Join(dir, "k.info")) },
		victim: string(info),
		use: func(t *testing.T, s *Store) {
			if infos, err := s.List(); err != nil || len(infos) != 0 {
				t.Errorf("List = %v, %v; want nothing", infos, err)
			}
		},
	}, {
		name:   "keyring marker linked to a file elsewhere",
		plant:  func(t *testing.T, dir, victim string) { symlink(t, victim, filepath.Join(dir, "keyring-unavailable")) },
		victim: "planted reason\n",
		use: func(t *testing.T, s *Store) {
			if _, why, off := s.KeyringOffSince(); off {
				t.Errorf("the marker was followed: %q", why)
			}
		},
	}, {
		name: "entry hard-linked to a file of the victim's",
		plant: func(t *testing.T, dir, victim string) {
			if err := os.Link(victim, filepath.Join(dir, "k.json")); err != nil {
				t.Fatal(err)
			}
		},
		victim: string(entry().Encode("k")),
		use: func(t *testing.T, s *Store) {
			if _, _, err := s.Load("k"); !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "hard links") {
				t.Errorf("Load = %v, want ErrInsecure", err)
			}
		},
	}, {
		name: "entry that is a named pipe",
		plant: func(t *testing.T, dir, victim string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "k.json"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		victim: "unchanged",
		use: func(t *testing.T, s *Store) {
			done := make(chan error, 1)
			go func() { _, _, err := s.Load("k"); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "not a regular file") {
					t.Errorf("Load = %v, want ErrInsecure", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Load hangs on a named pipe")
			}
		},
	}, {
		name: "entry of another user's",
		plant: func(t *testing.T, dir, victim string) {
			p := filepath.Join(dir, "k.json")
			write(t, p, string(entry().Encode("k")))
			chownToNobody(t, p)
		},
		victim: "unchanged",
		use: func(t *testing.T, s *Store) {
			if _, _, err := s.Load("k"); !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "owned by uid 65534") {
				t.Errorf("Load = %v, want ErrInsecure", err)
			}
		},
	}, {
		name: "served record of another user's",
		plant: func(t *testing.T, dir, victim string) {
			p := filepath.Join(dir, "k.served")
			write(t, p, served)
			chownToNobody(t, p)
		},
		victim: "unchanged",
		use: func(t *testing.T, s *Store) {
			if r := s.ReadServed("k"); !r.Unknown {
				t.Errorf("ReadServed trusted another user's record: %+v", r)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kubemint")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			victim := filepath.Join(t.TempDir(), "victim")
			write(t, victim, tt.victim)
			tt.plant(t, dir, victim)
			tt.use(t, &Store{Mode: File, Dir: dir})
			if got := read(t, victim); got != tt.victim {
				t.Errorf("the victim file changed: %q", got)
			}
			if _, err := os.Lstat(victim + ".created"); err == nil {
				t.Errorf("a file was created through the link")
			}
		})
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// A cache directory that is a link, not a directory, or another user's is
// never used, written or chmodded, by any operation; the error names the
// directory and the fix.
func TestUntrustedDirIsNotUsed(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, dir, elsewhere string)
		why   string
	}{{
		name:  "a link to another directory",
		plant: func(t *testing.T, dir, elsewhere string) { symlink(t, elsewhere, dir) },
		why:   "it is a symbolic link",
	}, {
		name: "a file",
		plant: func(t *testing.T, dir, elsewhere string) {
			write(t, dir, "")
		},
		why: "it is not a directory",
	}, {
		name: "another user's, with an entry in it",
		plant: func(t *testing.T, dir, elsewhere string) {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "k.json"), string(entry().Encode("k")))
			chownToNobody(t, dir, filepath.Join(dir, "k.json"))
		},
		why: fmt.Sprintf("it is owned by uid %d, not you (uid %d)", nobody, os.Geteuid()),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kubemint")
			elsewhere := t.TempDir()
			if err := os.Chmod(elsewhere, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.plant(t, dir, elsewhere)
			before, _ := os.Lstat(dir)
			s := &Store{Mode: File, Dir: dir}
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "not using the cache directory "+dir+": "+tt.why) ||
					!strings.Contains(err.Error(), "set XDG_CACHE_HOME to a directory of your own") {
					t.Errorf("%s = %v, want ErrUntrusted naming the directory, why and the fix", op, err)
				}
			}
			_, _, err := s.Load("k")
			check("Load", err)
			_, err = s.Save("k", entry())
			check("Save", err)
			_, err = s.Lock(context.Background(), "k")
			check("Lock", err)
			check("WriteServed", s.WriteServed("k", Served{PID: 1}))
			check("SaveInfo", s.SaveInfo(Info{Key: "k"}))
			_, err = s.List()
			check("List", err)
			if r := s.ReadServed("k"); !r.Unknown {
				t.Errorf("ReadServed = %+v", r)
			}
			if files, _ := os.ReadDir(elsewhere); len(files) != 0 {
				t.Errorf("files written through the link: %v", files)
			}
			assertPerm(t, elsewhere, 0o755)
			if after, _ := os.Lstat(dir); after.Mode() != before.Mode() {
				t.Errorf("the directory's mode changed from %v to %v", before.Mode(), after.Mode())
			}
		})
	}
}

// A loose mode on our own directory is repaired on a cache hit too, not
// only when a mint writes.
func TestLooseDirIsRepairedOnAHit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	if _, err := (&Store{Mode: File, Dir: dir}).Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	var logs []string
	s := &Store{Mode: File, Dir: dir, Logf: func(level int, format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }}
	if _, _, err := s.Load("k"); err != nil {
		t.Fatalf("Load: %v", err)
	}
	assertPerm(t, dir, 0o700)
	if len(logs) != 1 || !strings.Contains(logs[0], "warning: the cache directory "+dir+" had mode drwxrwxrwx") {
		t.Errorf("logs = %q, want one warning", logs)
	}
}

// With HOME unset and no XDG_CACHE_HOME there is no cache directory:
// kubemint does not invent /.cache, nor write beside the working directory.
func TestNoHomeMeansNoCache(t *testing.T) {
	for _, xdgHome := range []string{"", "relative/cache"} {
		t.Setenv("HOME", "")
		t.Setenv("XDG_CACHE_HOME", xdgHome)
		if d := DefaultDir(); d != "" {
			t.Errorf("XDG_CACHE_HOME=%q: DefaultDir = %q, want none", xdgHome, d)
		}
	}
	t.Chdir(t.TempDir())
	s := &Store{Mode: File, Dir: ""}
	if _, _, err := s.Load("k"); !errors.Is(err, ErrNoCacheDir) {
		t.Errorf("Load = %v", err)
	}
	if _, err := s.Lock(context.Background(), "k"); !errors.Is(err, ErrNoCacheDir) || !strings.Contains(err.Error(), "set one of them") {
		t.Errorf("Lock = %v", err)
	}
	if _, err := s.Save("k", entry()); !errors.Is(err, ErrNoCacheDir) {
		t.Errorf("Save = %v", err)
	}
	if files, _ := os.ReadDir("."); len(files) != 0 {
		t.Errorf("files written in the working directory: %v", files)
	}
}

// An entry larger than a read accepts is not written: it would be refused
// on every read.
func TestEntryTooLargeIsNotWritten(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: File, Dir: dir}
	e := entry()
	e.Token = strings.Repeat("x", maxEntrySize)
	if _, err := s.Save("k", e); err == nil || !strings.Contains(err.Error(), "not caching it") {
		t.Fatalf("Save = %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the entry was written: %v", err)
	}
}

// kubemint clean removes every temporary file, of any age: a writer killed
// before its rename left a live token in it.
func TestCleanRemovesTemps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: File, Dir: dir}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveInfo(Info{Key: "k", Backend: BackendFile}); err != nil {
		t.Fatal(err)
	}
	fresh := []string{filepath.Join(dir, ".k.json.tmp1"), filepath.Join(dir, ".other.json.tmp2")}
	for _, p := range fresh {
		write(t, p, "token")
	}
	infos, err := s.List()
	if err != nil || len(infos) != 1 {
		t.Fatalf("List = %v, %v", infos, err)
	}
	if err := s.Forget(infos[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(fresh[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Forget left the entry's temporary file")
	}
	if err := s.RemoveTemps(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(fresh[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("RemoveTemps left a temporary file")
	}
}

// No keyring call starts without a session bus, whatever the mode or the
// operation: godbus would try to launch a bus (dbus-launch), which fails,
// hangs or opens a window.
func TestKeyringNeedsASessionBusForEveryCall(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: Keyring, Dir: dir}
	if err := s.Delete("k"); !errors.Is(err, ErrNoSessionBus) {
		t.Errorf("Delete = %v, want ErrNoSessionBus", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveInfo(Info{Key: "k", Backend: BackendKeyring}); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(Info{Key: "k", Backend: BackendKeyring}); !errors.Is(err, ErrNoSessionBus) || !strings.Contains(err.Error(), "run kubemint clean where the keyring is reachable") {
		t.Errorf("Forget = %v, want ErrNoSessionBus and a hint", err)
	}
	if infos, _ := s.List(); len(infos) != 1 {
		t.Errorf("the index of an entry still in the keyring was removed: %v", infos)
	}
	if _, err := s.Save("k", entry()); !errors.Is(err, ErrNoSessionBus) {
		t.Errorf("Save = %v, want ErrNoSessionBus", err)
	}
	if _, _, err := s.Load("k"); !errors.Is(err, ErrNoSessionBus) {
		t.Errorf("Load = %v, want ErrNoSessionBus", err)
	}
}

// A keyring that does not answer costs one timeout per kubectl call, not
// one per keyring call: the lean front's read times out and is remembered,
// so the full binary it hands over to neither reads nor writes the keyring.
func TestHungKeyringCostsOneTimeout(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", silentBus(t))
	dir := filepath.Join(t.TempDir(), "kubemint")
	if err := os.Mkdir(dir, 0o700); err != nil { // as every call after the first finds it
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	start := time.Now()
	lean := &Store{Mode: Auto, Dir: dir, KeyringTimeout: timeout}
	t.Cleanup(func() { dropKernel(dir, "k") })
	if _, _, err := lean.Load("k"); err == nil {
		t.Fatal("Load found an entry")
	}
	full := &Store{Mode: Auto, Dir: dir, KeyringTimeout: timeout}
	if err := full.ensureDir(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := full.Load("k"); err == nil {
		t.Fatal("Load found an entry")
	}
	if b, err := full.Save("k", entry()); err != nil || b != autoFallback() {
		t.Fatalf("Save = %v, %v", b, err)
	}
	if took := time.Since(start); took > timeout*3/2 {
		t.Errorf("a hung keyring cost %v over one call, want one timeout (%v)", took, timeout)
	}
}

// TestHelperServedUnwritable is not a test: TestUnwritableServedRecordIsChecked
// runs it as another user, for whom a mode can forbid a write (root
// ignores modes).
func TestHelperServedUnwritable(t *testing.T) {
	dir := os.Getenv("KUBEMINT_TEST_SERVED_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	s := &Store{Mode: File, Dir: dir}
	if err := s.WriteServed("k", Served{PID: 42, Last: t0}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.servedPath("k"), 0o400); err != nil {
		t.Fatal(err)
	}
	err := s.WriteServed("k", Served{PID: 43, Last: t0.Add(time.Second)})
	r := s.ReadServed("k")
	fmt.Printf("%v|%v\n", err != nil, r.Unknown)
}

// A served record that cannot be updated is not left stale: a retry after
// a 401 would look like a first call. It is removed, so that the next call
// finds it Unknown and has the token checked.
func TestUnwritableServedRecordIsChecked(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the helper as another user (uid 65534)")
	}
	// The helper, run as nobody, needs a path it can reach.
	shared, err := os.MkdirTemp("", "kubemint-served-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shared) })
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(shared, "cache.test")
	dir := filepath.Join(shared, "kubemint")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	chownToNobody(t, dir)
	child := exec.Command(bin, "-test.run=^TestHelperServedUnwritable$")
	child.Env = []string{"KUBEMINT_TEST_SERVED_DIR=" + dir}
	child.Dir = shared
	child.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := child.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if line := strings.SplitN(string(out), "\n", 2)[0]; line != "true|true" {
		t.Errorf("helper said %q, want the write to fail and the next call to be checked", line)
	}
}

// Every operation after the check goes through the open directory: a link
// swapped into a parent of the cache directory (one the user can be made
// to use, as a shared XDG_CACHE_HOME) does not redirect a write.
func TestParentSwapDoesNotRedirect(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "p", "kubemint")
	s := &Store{Mode: File, Dir: dir}
	if err := s.ensureDir(); err != nil {
		t.Fatal(err)
	}
	evil := filepath.Join(base, "evil")
	if err := os.MkdirAll(filepath.Join(evil, "kubemint"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(base, "p"), filepath.Join(base, "p.orig")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(evil, filepath.Join(base, "p")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(evil, "kubemint", "k.json")); err == nil {
		t.Errorf("the entry was written where the swapped-in link points")
	}
	if _, err := os.Lstat(filepath.Join(base, "p.orig", "kubemint", "k.json")); err != nil {
		t.Errorf("the entry is not in the directory that was checked: %v", err)
	}
}

// A parent directory another user owns, or that others may write to
// without the sticky bit, could have the cache directory swapped under
// it: the cache is not used, and nothing is created in it.
func TestUnsafeParentIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    os.FileMode
		foreign bool
		ok      bool
	}{
		{name: "own private", mode: 0o700, ok: true},
		{name: "world-writable", mode: 0o777},
		{name: "group-writable", mode: 0o770},
		{name: "sticky world-writable", mode: 0o777 | os.ModeSticky, ok: true},
		{name: "another user's", mode: 0o755, foreign: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := filepath.Join(t.TempDir(), "c2")
			if err := os.Mkdir(parent, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(parent, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.foreign {
				if os.Geteuid() != 0 {
					t.Skip("needs root to give the directory to another user")
				}
				if err := os.Chown(parent, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			dir := filepath.Join(parent, "kubemint")
			_, err := (&Store{Mode: File, Dir: dir}).Save("k", entry())
			if tc.ok {
				if err != nil {
					t.Fatalf("Save: %v", err)
				}
				return
			}
			var ue *UntrustedDirError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), parent+" is not safe") {
				t.Fatalf("Save = %v, want an UntrustedDirError naming %s", err, parent)
			}
			if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("kubemint created %s in the unsafe directory", dir)
			}
		})
	}
}

// Only kubemint's own temporary files are removed: a name of its pattern,
// a private regular file of the user's.
func TestRemoveTempsOnlyOwnPattern(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	s := &Store{Mode: File, Dir: dir}
	if _, err := s.Save("k", entry()); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, ".k.json.tmp42")
	keep := []string{filepath.Join(dir, ".notes.txt.tmp1"), filepath.Join(dir, ".k.json.tmpx"), filepath.Join(dir, ".k.json.tmp9.bak")}
	for _, p := range append(keep, mine) {
		write(t, p, "x")
	}
	if os.Geteuid() == 0 {
		foreign := filepath.Join(dir, ".k.info.tmp7")
		write(t, foreign, "x")
		if err := os.Chown(foreign, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		keep = append(keep, foreign)
	}
	if err := s.RemoveTemps(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(mine); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kubemint's own temporary file was left")
	}
	for _, p := range keep {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: not kubemint's temporary file", p)
		}
	}
}

func TestIsTempName(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for name, want := range map[string]bool{
		"." + hex + ".json.tmp123":    true,
		".keyring-unavailable.tmp1":   true,
		"." + hex + ".json.tmp":       false,
		"." + hex + ".exe.tmp1":       false,
		".a.b.json.tmp1":              false,
		hex + ".json.tmp1":            false,
		"." + hex + ".json.tmp1/../x": false,
	} {
		if got := isTempName(name); got != want {
			t.Errorf("isTempName(%q) = %v, want %v", name, got, want)
		}
	}
}

// A directory planted at one of kubemint's file names (while the cache
// directory was open to others) is removed with what it holds, so that
// caching works again instead of failing its rename on every call.
func TestPlantedDirectoriesAreReplaced(t *testing.T) {
	ops := map[string]func(s *Store) error{
		"k.json": func(s *Store) error { _, err := s.Save("k", entry()); return err },
		"k.served": func(s *Store) error {
			return s.WriteServed("k", Served{PID: 1, Last: time.Now()})
		},
		"k.lock": func(s *Store) error {
			unlock, err := s.Lock(context.Background(), "k")
			if err == nil {
				unlock()
			}
			return err
		},
		"k.failed": func(s *Store) error { return s.RememberFailure("k", Failure{PID: 1, At: time.Now(), Message: "x"}) },
		"k.info":   func(s *Store) error { return s.SaveInfo(Info{Key: "k", Backend: BackendFile}) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kubemint")
			s := &Store{Mode: File, Dir: dir}
			if err := s.ensureDir(); err != nil {
				t.Fatal(err)
			}
			planted := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Join(planted, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(planted, "sub", "x"), "x")
			if os.Geteuid() == 0 {
				for _, p := range []string{planted, filepath.Join(planted, "sub"), filepath.Join(planted, "sub", "x")} {
					if err := os.Chown(p, 65534, 65534); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := op(s); err != nil {
				t.Fatalf("with a directory planted at %s: %v", name, err)
			}
			if fi, err := os.Lstat(planted); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("%s is not a regular file after the write: %v, %v", name, fi, err)
			}
		})
	}
}

// TestAnotherUsersLinkAsParentIsNotFollowed: XDG_CACHE_HOME names a link
// that another user made in a sticky shared directory, aimed at a
// directory of ours: the cache was made where they chose, and they could
// flip the link to force mints. Now it is refused, and nothing is made
// there; a link of our own (or root's) is followed as before.
func TestAnotherUsersLinkAsParentIsNotFollowed(t *testing.T) {
	if !checkParents {
		t.Skip("no parent walk here")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a link to another user")
	}
	for _, tc := range []struct {
		name string
		uid  int
		ok   bool
	}{
		{"another user's link", 65534, false},
		{"our own link", os.Geteuid(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			shared := filepath.Join(base, "shared")
			if err := os.Mkdir(shared, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
				t.Fatal(err)
			}
			chosen := filepath.Join(base, "chosen")
			if err := os.Mkdir(chosen, 0o700); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(shared, "cache")
			if err := os.Symlink(chosen, link); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(link, tc.uid, tc.uid); err != nil {
				t.Fatal(err)
			}
			_, err := (&Store{Mode: File, Dir: filepath.Join(link, "kubemint")}).Save("k", entry())
			if tc.ok {
				if err != nil {
					t.Fatalf("Save: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), link+" is a symbolic link of uid 65534") {
				t.Fatalf("Save = %v, want the link refused", err)
			}
			if _, err := os.Lstat(filepath.Join(chosen, "kubemint")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the cache was made where the link points")
			}
		})
	}
}
