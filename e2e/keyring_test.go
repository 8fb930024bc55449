package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// keyringScript runs in a fresh D-Bus session with an unlocked
// gnome-keyring, as a desktop login has: two kubectl calls through the
// exec entry (a mint, then a hit from the keyring), then what secret-tool
// finds under the service "kubemint".
const keyringScript = `set -e
echo -n test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$KUBECTL" auth whoami -o jsonpath='{.status.userInfo.username}' > "$OUT/whoami1"
"$KUBECTL" auth whoami -o jsonpath='{.status.userInfo.username}' > "$OUT/whoami2"
secret-tool search --all service kubemint > "$OUT/search" 2>&1
kubemint status -o json > "$OUT/status"
kubemint clean > "$OUT/clean"
secret-tool search --all service kubemint > "$OUT/search-after-clean" 2>&1 || true
`

// TestKeyringSecretService stores the token in a real Secret Service
// (gnome-keyring in its own D-Bus session) and proves it is there, readable
// by secret-tool, and absent from disk.
func TestKeyringSecretService(t *testing.T) {
	for _, bin := range []string{"dbus-run-session", "gnome-keyring-daemon", "secret-tool"} {
		if _, err := exec.LookPath(bin); err != nil {
			if testing.Short() {
				t.Skipf("%s not installed", bin)
			}
			t.Fatalf("%s not found: install the Debian packages gnome-keyring dbus libsecret-tools (.ci/run does)", bin)
		}
	}
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	out := t.TempDir()
	u.vars = append(u.vars, "KUBECONFIG="+kc, "KUBECTL="+w.kubectl, "OUT="+out,
		// gnome-keyring keeps its keyring files under the data home.
		"XDG_DATA_HOME="+filepath.Join(u.home, ".local", "share"),
		"XDG_RUNTIME_DIR="+t.TempDir())
	before := tokenRequests(t)
	r := u.run(t, nil, "dbus-run-session", "--", "sh", "-c", keyringScript)
	if r.code != 0 {
		t.Fatalf("in the D-Bus session: exit %d: %s", r.code, r.stderr)
	}
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
	files, _ := filepath.Glob(filepath.Join(u.cache, "kubemint", "*.json"))
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
	if _, err := os.Stat(filepath.Join(u.cache, "kubemint", "keyring-unavailable")); err == nil {
		t.Errorf("the keyring was judged unavailable")
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
