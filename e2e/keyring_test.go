package e2e

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// secretService is a Secret Service that kubemint's keyring mode must work
// with, started and unlocked in its own D-Bus session as a desktop login
// would.
type secretService struct {
	name     string
	commands []string // what it needs on PATH
	packages string   // the Debian packages that provide them
	// prepare sets up its store under the user's home and returns the
	// environment the session needs.
	prepare func(t *testing.T, u *userEnv) []string
	start   string // shell: start it and wait until it serves a collection
}

var secretServices = []secretService{
	{
		name:     "gnome-keyring",
		commands: []string{"gnome-keyring-daemon"},
		packages: "gnome-keyring",
		prepare: func(t *testing.T, u *userEnv) []string {
			// gnome-keyring keeps its keyring files under the data home.
			return []string{"XDG_DATA_HOME=" + filepath.Join(u.home, ".local", "share")}
		},
		start: `echo -n test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null`,
	},
	{
		name:     "KWallet",
		commands: []string{"kwalletd5"},
		packages: "libkf5wallet-bin",
		prepare:  prepareKWallet,
		// kwalletd5 serves a collection for each wallet file that exists
		// when it starts. A PAM login has made the wallet by then; here the
		// first start makes it, and the second serves it.
		start: `kw=$("$KWALLET_LAUNCHER")
poll "kwalletd5 makes the wallet" test -f "$XDG_DATA_HOME/kwalletd/kdewallet.kwl"
kill -9 $kw
poll "kwalletd5 goes away" secrets_free
kw=$("$KWALLET_LAUNCHER")
trap 'kill -9 $kw 2>/dev/null || true' EXIT
poll "kwalletd5 claims org.freedesktop.secrets" secrets_owned
poll "kwalletd5 serves kdewallet as the default collection" default_collection kdewallet`,
	},
	{
		name:     "KeePassXC",
		commands: []string{"keepassxc", "keepassxc-cli"},
		packages: "keepassxc",
		// KeePassXC names a database's collection after its file. Not
		// "login": go-keyring must find it as the default collection.
		prepare: func(t *testing.T, u *userEnv) []string { return prepareKeePassXC(t, u, "kubemint.kdbx") },
		start: `echo "$KDBX_PASSWORD" | keepassxc --pw-stdin "$KDBX" >"$OUT/keepassxc.log" 2>&1 &
kpx=$!
# Kill it, and wait until it is gone before the test removes its folder.
# SIGKILL: on SIGTERM KeePassXC may stop to ask about unsaved changes, in
# a dialog nobody can see.
trap 'kill -9 $kpx 2>/dev/null; wait $kpx 2>/dev/null || true' EXIT
poll "KeePassXC claims org.freedesktop.secrets" secrets_owned
poll "KeePassXC serves its database unlocked" unlocked kubemint`,
	},
}

// sessionHelpers are shell functions for the start scripts.
const sessionHelpers = `
# poll WHAT CMD...: run CMD every 0.1 s until it succeeds, for 15 s at most.
poll() {
	what=$1; shift; i=0
	until "$@" 2>/dev/null; do
		i=$((i+1)); [ $i -lt 150 ] || { echo "waited 15s for this, in vain: $what" >&2; exit 1; }
		sleep 0.1
	done
}
# Whether a process owns org.freedesktop.secrets. Ask the bus, not the
# service: a call to org.freedesktop.secrets while nobody owns it starts
# gnome-keyring by D-Bus activation, where it is installed.
secrets_owned() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q "boolean true"
}
secrets_free() { ! secrets_owned; }
default_collection() {
	dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
		org.freedesktop.Secret.Service.ReadAlias string:default | grep -q "/collection/$1\""
}
unlocked() {
	dbus-send --session --print-reply --dest=org.freedesktop.secrets "/org/freedesktop/secrets/collection/$1" \
		org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection string:Locked | grep -q "boolean false"
}
`

// keyringScript runs in a fresh D-Bus session once the Secret Service is
// up: two kubectl calls through the exec entry (a mint, then a hit from the
// keyring), then what secret-tool finds under the service "kubemint".
const keyringScript = `
"$KUBECTL" auth whoami -o jsonpath='{.status.userInfo.username}' > "$OUT/whoami1"
"$KUBECTL" auth whoami -o jsonpath='{.status.userInfo.username}' > "$OUT/whoami2"
secret-tool search --all service kubemint > "$OUT/search" 2>&1
kubemint status -o json > "$OUT/status"
kubemint clean > "$OUT/clean"
secret-tool search --all service kubemint > "$OUT/search-after-clean" 2>&1 || true
`

// TestKeyringSecretService stores the token in each real Secret Service
// (gnome-keyring, KWallet, KeePassXC) in its own D-Bus session and proves it is
// there, readable by secret-tool, and absent from disk.
func TestKeyringSecretService(t *testing.T) {
	for _, bin := range []string{"dbus-run-session", "dbus-send", "secret-tool"} {
		if _, err := exec.LookPath(bin); err != nil {
			missingOptional(t, "D-Bus", bin+" not installed", "make deps installs the Debian packages dbus libsecret-tools")
		}
	}
	for _, ss := range secretServices {
		t.Run(ss.name, func(t *testing.T) {
			for _, bin := range ss.commands {
				if _, err := exec.LookPath(bin); err != nil {
					missingOptional(t, ss.name, bin+" not installed", "make deps installs the Debian package "+ss.packages)
				}
			}
			u := newUserEnv(t)
			kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin", "--cache=auto")
			out := t.TempDir()
			u.vars = append(u.vars, "KUBECONFIG="+kc, "KUBECTL="+w.kubectl, "OUT="+out, "XDG_RUNTIME_DIR="+t.TempDir())
			u.vars = append(u.vars, ss.prepare(t, u)...)
			before := tokenRequests(t)
			r := u.run(t, nil, "dbus-run-session", "--", "sh", "-ec", sessionHelpers+ss.start+"\n"+keyringScript)
			if r.code != 0 {
				log, _ := os.ReadFile(filepath.Join(out, "keepassxc.log"))
				t.Fatalf("in the D-Bus session: exit %d: %s%s", r.code, r.stderr, log)
			}
			checkKeyringRun(t, u, out, before)
		})
	}
}

func checkKeyringRun(t *testing.T, u *userEnv, out string, before float64) {
	t.Helper()
	for _, f := range []string{"whoami1", "whoami2"} {
		b, _ := os.ReadFile(filepath.Join(out, f))
		if got := string(b); got != "system:serviceaccount:ci:deployer" {
			t.Errorf("%s: kubectl auth whoami = %q", f, got)
		}
	}
	if got := tokenRequests(t) - before; got != 1 {
		t.Errorf("two calls made %v TokenRequests, want 1 (the second from the keyring)", got)
	}
	search, _ := os.ReadFile(filepath.Join(out, "search"))
	if !strings.Contains(string(search), "service = kubemint") || !strings.Contains(string(search), `"t":"ey`) {
		t.Errorf("secret-tool search found no kubemint item holding a token:\n%s", redactJWT(string(search)))
	}
	// Nothing holding a token was written to the file cache.
	files := u.cacheEntries()
	if len(files) != 0 {
		t.Errorf("the keyring path left cache files on disk: %v", files)
	}
	status, _ := os.ReadFile(filepath.Join(out, "status"))
	if !strings.Contains(string(status), `"cache": "keyring"`) || strings.Contains(string(status), `"t":"ey`) {
		t.Errorf("kubemint status does not list a keyring entry:\n%s", status)
	}
	clean, _ := os.ReadFile(filepath.Join(out, "clean"))
	after, _ := os.ReadFile(filepath.Join(out, "search-after-clean"))
	if !strings.Contains(string(clean), "Forgot 1") || strings.Contains(string(after), "service = kubemint") {
		t.Errorf("kubemint clean left the keyring item: %s\n%s", clean, redactJWT(string(after)))
	}
	if why, err := os.ReadFile(filepath.Join(u.cache, "kubemint", "keyring-unavailable")); err == nil {
		t.Errorf("the keyring was judged unavailable: %s", why)
	}
}

// kwalletLauncherEnv, set, makes the e2e test binary launch kwalletd5
// instead of running tests.
const kwalletLauncherEnv = "KUBEMINT_E2E_LAUNCH_KWALLETD"

// prepareKWallet writes a kwalletrc with one wallet, kept open, and the
// Secret Service API on, and points the start script at the launcher.
func prepareKWallet(t *testing.T, u *userEnv) []string {
	t.Helper()
	config := filepath.Join(u.home, ".config")
	rc := `[Wallet]
Enabled=true
First Use=false
Use One Wallet=true
Default Wallet=kdewallet
Close When Idle=false
Leave Open=true
Prompt on Open=false

[org.freedesktop.secrets]
apiEnabled=true
`
	if err := os.MkdirAll(config, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(config, "kwalletrc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		"XDG_CONFIG_HOME=" + config,
		"XDG_DATA_HOME=" + filepath.Join(u.home, ".local", "share"),
		"KWALLET_LAUNCHER=" + self,
		kwalletLauncherEnv + "=1",
		"QT_QPA_PLATFORM=offscreen",
	}
}

// launchKWallet starts kwalletd5 the way pam_kwallet does at login: the
// wallet key on a pipe (fd 3), and a listening socket (fd 4) on which
// kwalletd5 takes the session's environment. It opens the default wallet
// with that key, creating it if missing, without a dialog. It prints
// kwalletd5's pid and leaves it running.
func launchKWallet() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "launching kwalletd5:", err)
		return 1
	}
	// A test wallet's key: pam_kwallet would derive it from the login
	// password with PBKDF2; any 56 bytes open a wallet they created.
	key := []byte(strings.Repeat("kubemint-e2e-wallet-key!", 3)[:56])
	pr, pw, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	if _, err := pw.Write(key); err != nil {
		return fail(err)
	}
	pw.Close()
	sock := filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "kwallet-pam.socket")
	_ = os.Remove(sock)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return fail(err)
	}
	lf, err := l.File()
	if err != nil {
		return fail(err)
	}
	log, err := os.OpenFile(filepath.Join(os.Getenv("OUT"), "kwalletd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(err)
	}
	cmd := exec.Command("kwalletd5", "--pam-login", "3", "4")
	cmd.ExtraFiles = []*os.File{pr, lf}
	cmd.Env = append(os.Environ(), "PAM_KWALLET5_LOGIN=1")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(c, "DBUS_SESSION_BUS_ADDRESS=%s\n", os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	c.Close()
	fmt.Println(cmd.Process.Pid)
	return 0
}

// prepareKeePassXC makes a KeePassXC database whose root group is exposed
// to the Secret Service, and a configuration that turns the integration on
// without the confirmation dialogs a headless session cannot answer.
// KeePassXC keeps the exposed group in the database's own custom data
// (FDO_SECRETS_EXPOSED_GROUP), which only its GUI sets; keepassxc-cli can
// export the database to XML and import it back, so the test adds the item
// in between.
func prepareKeePassXC(t *testing.T, u *userEnv, file string) []string {
	t.Helper()
	const password = "kubemint-test"
	dir := t.TempDir()
	cli := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("keepassxc-cli", args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		r := runCmd(t, cmd, time.Minute)
		if r.code != 0 {
			t.Fatalf("keepassxc-cli %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		return r.stdout
	}
	twice := password + "\n" + password + "\n"
	cli(twice, "db-create", "--set-password", "blank.kdbx")
	xml := cli(password+"\n", "export", "--format", "xml", "blank.kdbx")
	m := regexp.MustCompile(`<Group>\s*<UUID>([^<]+)</UUID>`).FindStringSubmatch(xml)
	if m == nil {
		t.Fatalf("no root group in keepassxc-cli's export")
	}
	id, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil || len(id) != 16 {
		t.Fatalf("root group UUID %q: %v", m[1], err)
	}
	exposed := fmt.Sprintf("<CustomData><Item><Key>FDO_SECRETS_EXPOSED_GROUP</Key><Value>{%x-%x-%x-%x-%x}</Value></Item></CustomData></Meta>",
		id[0:4], id[4:6], id[6:8], id[8:10], id[10:16])
	xml = strings.Replace(xml, "</Meta>", exposed, 1)
	if err := os.WriteFile(filepath.Join(dir, "exposed.xml"), []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	cli(twice, "import", "--set-password", "exposed.xml", file)
	config := filepath.Join(u.home, ".config")
	ini := `[General]
ConfigVersion=2
SingleInstance=false
RememberLastDatabases=false
UpdateCheckMessageShown=true

[GUI]
CheckForUpdates=false

[FdoSecrets]
Enabled=true
ShowNotification=false
ConfirmAccessItem=false
ConfirmDeleteItem=false
`
	if err := os.MkdirAll(filepath.Join(config, "keepassxc"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(config, "keepassxc", "keepassxc.ini"), []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"XDG_CONFIG_HOME=" + config,
		"KDBX=" + filepath.Join(dir, file),
		"KDBX_PASSWORD=" + password,
		// No display: Qt draws KeePassXC's window off screen.
		"QT_QPA_PLATFORM=offscreen",
	}
}

// redactJWT hides anything that looks like a token from test output.
func redactJWT(s string) string {
	var b strings.Builder
	for _, f := range strings.SplitAfter(s, `"t":"`) {
		if i := strings.IndexByte(f, '"'); strings.HasPrefix(f, "ey") && i > 0 {
			f = "REDACTED" + f[i:]
		}
		b.WriteString(f)
	}
	return b.String()
}
