package cache

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel keyring (keyrings(7)), used through keyctl(2) and add_key(2):
// each item is a key of type "user" in the user's keyring (@u), named in
// kubemint's namespace (see kernelName). The kernel keeps it in memory
// only, drops it at its timeout (the token's expiry), and lets no other uid
// read it unless the key's permissions say so; root can read it, as root
// can read files. Why the user keyring and not the persistent one: see
// docs/security.md.

// kernelSupported: keyctl exists here.
const kernelSupported = true

// maxKernelPayload is the largest payload a "user" key takes (the kernel's
// limit for the type, 32767 bytes).
const maxKernelPayload = 32767

// errKernelRefused wraps a keyctl that a seccomp profile or the kernel
// refused (EPERM, ENOSYS, EACCES on the user keyring itself): the kernel
// keyring cannot be used by this process at all.
var errKernelRefused = errors.New("keyctl is refused in this process")

// errKernelQuota wraps an add that the user's key quota refused.
var errKernelQuota = errors.New("the kernel keyring quota of this user is full")

// errKernelTooLarge reports an entry larger than a key holds.
var errKernelTooLarge = errors.New("the entry is larger than a kernel keyring key holds")

// kernelError says what a keyctl error means for the cache.
func kernelError(op string, err error) error {
	switch err {
	case unix.ENOKEY, unix.EKEYEXPIRED, unix.EKEYREVOKED:
		return fmt.Errorf("kernel keyring: %w", os.ErrNotExist)
	case unix.EPERM, unix.ENOSYS:
		return fmt.Errorf("%w (%s: %v; a seccomp profile such as Docker's default blocks keyctl)", errKernelRefused, op, err)
	case unix.EDQUOT:
		return fmt.Errorf("%w (%s: %v; root raises it with sysctl kernel.keys.maxbytes and kernel.keys.maxkeys)", errKernelQuota, op, err)
	}
	return fmt.Errorf("kernel keyring: %s: %w", op, err)
}

// kernelFind looks up the key named name in the user's keyring and checks
// that it is kubemint's own (kernelTrusted). It returns the key's id; a
// missing key wraps os.ErrNotExist, one that is not trusted ErrInsecure.
func kernelFind(name string) (int, error) {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", name, 0)
	if err != nil {
		return 0, kernelError("search", err)
	}
	var buf [256]byte
	n, err := unix.KeyctlBuffer(unix.KEYCTL_DESCRIBE, id, buf[:], 0)
	if err != nil {
		return 0, kernelError("describe", err)
	}
	if n > len(buf) {
		return 0, fmt.Errorf("%w: the kernel keyring key %s has a description of %d bytes", ErrInsecure, name, n)
	}
	if why := kernelUntrusted(strings.TrimRight(string(buf[:n]), "\x00"), name); why != "" {
		return id, fmt.Errorf("%w: the kernel keyring key %s %s", ErrInsecure, name, why)
	}
	return id, nil
}

// kernelKeyPerm is the permission of kubemint's keys: everything for the
// owner's uid (KEY_USR_ALL), nothing for a possessor, the group or others.
// The kernel's default gives a possessor everything: any process whose
// session keyring links the user's keyring possesses its keys, whatever
// its uid, and a program that root or the user starts as another user
// without a new session keyring (setpriv, su or runuser without
// pam_keyinit) inherits that session keyring, and with it could read the
// token.
const kernelKeyPerm = 0x003f0000

// kernelUntrusted says why a key, as KEYCTL_DESCRIBE gives it
// ("type;uid;gid;perm;description"), is not kubemint's to use ("" when it
// is): it must be a "user" key named name, owned by this user, with no
// permission for a possessor, the group or others. A key of another uid
// (linked in from elsewhere, by root or a tool the user ran) could hold a
// token chosen by someone else; one with wider permissions may have been
// read (see kernelKeyPerm).
func kernelUntrusted(desc, name string) string {
	parts := strings.SplitN(desc, ";", 5)
	if len(parts) != 5 || parts[0] != "user" || parts[4] != name {
		return "is not a user key of kubemint's"
	}
	uid, err := strconv.Atoi(parts[1])
	if err != nil || uid != effectiveUID() {
		return fmt.Sprintf("is owned by uid %s, not you (uid %d)", parts[1], effectiveUID())
	}
	perm, err := strconv.ParseUint(parts[3], 16, 32)
	if err != nil || perm&^kernelKeyPerm != 0 {
		return fmt.Sprintf("has permissions %s, which let a possessor of another uid, the group or others at it", parts[3])
	}
	return ""
}

// kernelRead returns the payload of the key id, at most max bytes. It
// reads into a buffer the size of a usual entry first, and again into one
// of the payload's size if that is larger (KEYCTL_READ returns the
// payload's size whatever the buffer's): a buffer of max bytes (32 KiB for
// an entry) cost a hit eight pages of fresh memory, zeroed.
func kernelRead(id, max int) ([]byte, error) {
	size := min(max, 4<<10)
	for {
		buf := make([]byte, size)
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			return nil, kernelError("read", err)
		}
		if n > max {
			return nil, ErrCorrupt
		}
		if n <= size {
			return buf[:n], nil
		}
		// Larger than the first buffer (or updated in between): again,
		// with room for what the key holds now.
		size = n
	}
}

// kernelUpdate replaces the payload of the key id, which kernelFind found
// trusted in this process, in place: the hit path's one write. The kernel
// clears a user key's timeout when it updates the payload, so the timeout
// is set again (none when expiry is zero).
func kernelUpdate(id int, payload []byte, expiry, now time.Time) error {
	if _, err := unix.KeyctlBuffer(unix.KEYCTL_UPDATE, id, payload, 0); err != nil {
		return kernelError("update", err)
	}
	return setTimeout(id, expiry, now)
}

// setTimeout has the kernel drop the key id at expiry (a whole second
// after it, at least one from now).
func setTimeout(id int, expiry, now time.Time) error {
	if expiry.IsZero() {
		return nil
	}
	secs := max(1, int(expiry.Sub(now).Seconds()+1))
	if _, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, secs, 0, 0); err != nil {
		return kernelError("set_timeout", err)
	}
	return nil
}

// kernelAdd stores payload under name in the user's keyring, timing out at
// expiry (none when zero), and returns the key's id. A trusted key of that
// name is updated in place by add_key, keeping its private permissions
// (KEYCTL_UPDATE would take at most a page); one that is not trusted is
// unlinked first. A new key is made where no other process can reach it
// (kernelAddPrivate): with the kernel's default permissions a possessor of
// another uid could read it, or change its permissions, meanwhile.
func kernelAdd(name string, payload []byte, expiry, now time.Time) (int, error) {
	if len(payload) > maxKernelPayload {
		return 0, fmt.Errorf("%w (%d bytes, at most %d)", errKernelTooLarge, len(payload), maxKernelPayload)
	}
	id, err := kernelFind(name)
	switch {
	case err == nil:
		if id, err = unix.AddKey("user", name, payload, unix.KEY_SPEC_USER_KEYRING); err != nil {
			return 0, kernelError("add_key", err)
		}
		// An update clears the timeout: set it again.
		if err := setTimeout(id, expiry, now); err != nil {
			_ = kernelUnlink(id)
			return 0, err
		}
		return id, nil
	case errors.Is(err, ErrInsecure):
		if err := kernelUnlink(id); err != nil {
			return 0, err
		}
	}
	return kernelAddPrivate(name, payload, expiry, now)
}

// kernelAddPrivate makes a new key in this thread's keyring, which no
// other thread or process possesses, gives it kernelKeyPerm and its
// timeout, and only then links it into the user's keyring.
func kernelAddPrivate(name string, payload []byte, expiry, now time.Time) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	id, err := unix.AddKey("user", name, payload, unix.KEY_SPEC_THREAD_KEYRING)
	if err != nil {
		return 0, kernelError("add_key", err)
	}
	defer func() { _, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_THREAD_KEYRING, 0, 0) }()
	if _, err := unix.KeyctlInt(unix.KEYCTL_SETPERM, id, kernelKeyPerm, 0, 0); err != nil {
		return 0, kernelError("setperm", err)
	}
	if err := setTimeout(id, expiry, now); err != nil {
		return 0, err
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0); err != nil {
		return 0, kernelError("link", err)
	}
	return id, nil
}

// kernelUnlink removes the key id from the user's keyring; the kernel
// frees it once nothing else links it.
func kernelUnlink(id int) error {
	if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0); err != nil {
		return kernelError("unlink", err)
	}
	return nil
}

// kernelRemove unlinks the key named name, if there is one, whoever owns
// it: a planted key is dropped too.
func kernelRemove(name string) error {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", name, 0)
	if err != nil {
		return kernelError("search", err)
	}
	return kernelUnlink(id)
}

// KernelProbe reports whether this process may use the kernel keyring,
// for doctor: it looks up the user keyring (creating nothing in it) and
// reads the user's key quota and use from /proc/key-users.
func KernelProbe() (KernelStatus, error) {
	var st KernelStatus
	id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, true)
	if err != nil {
		return st, kernelError("get_keyring_id", err)
	}
	st.Keyring = id
	st.MaxBytes, _ = readSysctl("/proc/sys/kernel/keys/maxbytes")
	st.MaxKeys, _ = readSysctl("/proc/sys/kernel/keys/maxkeys")
	if effectiveUID() == 0 {
		st.MaxBytes, _ = readSysctl("/proc/sys/kernel/keys/root_maxbytes")
		st.MaxKeys, _ = readSysctl("/proc/sys/kernel/keys/root_maxkeys")
	}
	if b, err := os.ReadFile("/proc/key-users"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 5 || f[0] != strconv.Itoa(effectiveUID())+":" {
				continue
			}
			st.Keys, _ = strconv.Atoi(strings.SplitN(f[3], "/", 2)[0])
			st.Bytes, _ = strconv.Atoi(strings.SplitN(f[4], "/", 2)[0])
		}
	}
	return st, nil
}

func readSysctl(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
