package e2e

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/internal/controlplane"
)

// errorAndHints splits stderr into kubemint's one error line and the
// "kubemint: hint:" lines after it; ok is false when stderr is anything
// else (more than one error line, other lines, no error line).
func errorAndHints(stderr string) (errLine string, hints []string, ok bool) {
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "kubemint: error: ") {
		return "", nil, false
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "kubemint: hint: ") {
			return "", nil, false
		}
		hints = append(hints, strings.TrimPrefix(l, "kubemint: hint: "))
	}
	return lines[0], hints, true
}

// oneErrorLine checks that the command failed with nothing on stdout and
// stderr is one `kubemint: error:` line, then only `kubemint: hint:` lines,
// which hold every one of want.
func oneErrorLine(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code == 0 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q; want a failure with nothing on stdout", r.code, r.stdout)
	}
	if _, _, ok := errorAndHints(strings.TrimSpace(r.stderr)); !ok {
		t.Errorf("stderr is not one error line and its hints:\n%s", r.stderr)
	}
	for _, s := range want {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("the error and its hints lack %q:\n%s", s, r.stderr)
		}
	}
}

// TestErrors: every way a user can get it wrong ends in one error line on
// stderr, then the fix on hint lines of their own, a non-zero exit and an
// empty stdout.
func TestErrors(t *testing.T) {
	u := newUserEnv(t)
	good := u.kubeconfig(t)

	deadServer := deadServer(t)
	dead := writeKubeconfig(t, filepath.Join(t.TempDir(), "kubeconfig"), deadServer, w.cp.CAFile)

	// A CA that did not sign the API server's certificate.
	other, err := controlplane.NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wrongCA := writeKubeconfig(t, filepath.Join(t.TempDir(), "kubeconfig"), w.cp.Server, other)

	garbage := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(garbage, []byte("apiVersion: v1\nclusters: {{{\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		execInfo string
		args     []string
		want     []string // substrings of stderr
		hints    []string // substrings of a hint line each
	}{
		{
			name:  "unknown service account",
			args:  []string{"--service-account=ci/ghost", "--source-context=admin", "--source-kubeconfig=" + good},
			want:  []string{"service account ci/ghost not found on " + w.cp.Server},
			hints: []string{"kubectl create serviceaccount ghost -n ci"},
		},
		{
			name:  "source may not mint",
			args:  []string{"--service-account=ci/deployer", "--source-context=nobody", "--source-kubeconfig=" + good},
			want:  []string{`context "nobody" may not mint tokens for ci/deployer`, "create serviceaccounts/token"},
			hints: []string{"--resource=serviceaccounts/token --resource-name=deployer", "--role=kubemint-minter-deployer --user=nobody", "kubemint setup --service-account=ci/deployer --source-context=ADMIN --minter=user:nobody"},
		},
		{
			name:  "source context missing",
			args:  []string{"--service-account=ci/deployer", "--source-context=prod", "--source-kubeconfig=" + good},
			want:  []string{`context "prod" not found in ` + good},
			hints: []string{"set --source-context to one of: admin, deployer, nobody"},
		},
		{
			name:  "source context is kubemint itself",
			args:  []string{"--service-account=ci/deployer", "--source-context=deployer", "--source-kubeconfig=" + good},
			want:  []string{`context "deployer" authenticates with kubemint itself`},
			hints: []string{"set --source-context to a context with credentials of its own"},
		},
		{
			name: "API server unreachable",
			args: []string{"--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + dead},
			want: []string{"cannot reach the API server " + deadServer, "connection refused"},
		},
		{
			name:  "TLS failure",
			args:  []string{"--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + wrongCA},
			want:  []string{"TLS verification of the API server " + w.cp.Server + " failed"},
			hints: []string{"certificate-authority-data"},
		},
		{
			name: "kubeconfig does not parse",
			args: []string{"--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + garbage},
			want: []string{"loading " + garbage},
		},
		{
			name: "service account name not a DNS name",
			args: []string{"--service-account=ci/Deploy_Bot", "--source-context=admin"},
			want: []string{`"Deploy_Bot" is not a valid service account name`},
		},
		{
			name: "duration too short",
			args: []string{"--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + good, "--duration=5m"},
			want: []string{"--duration must be at least 10m", "got 5m"},
		},
		{
			name: "service account not NAMESPACE/NAME",
			args: []string{"--service-account=deployer", "--source-context=admin"},
			want: []string{"--service-account must be NAMESPACE/NAME", `got "deployer"`},
		},
		{
			name: "service account missing",
			args: []string{"--source-context=admin"},
			want: []string{"--service-account is required"},
		},
		{
			name:     "exec info is not JSON",
			execInfo: `{"kind":`,
			args:     []string{"--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + good},
			want:     []string{"KUBERNETES_EXEC_INFO is not valid JSON"},
		},
		{
			name:     "exec info in an unknown apiVersion",
			execInfo: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`,
			args:     []string{"--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig=" + good},
			want:     []string{`apiVersion "client.authentication.k8s.io/v1alpha1"`, "set users[].user.exec.apiVersion"},
		},
		{
			name: "unknown cache",
			args: []string{"--service-account=ci/deployer", "--source-context=admin", "--cache=redis"},
			want: []string{"--cache must be one of auto, keyring, kernel, file, none"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := u.kubemint(t, tt.execInfo, append([]string{"token"}, tt.args...)...)
			if r.code == 0 {
				t.Fatalf("exit 0, want an error; stderr: %s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want empty", r.stdout)
			}
			t.Log(r.stderr)
			line, hints, ok := errorAndHints(r.stderr)
			if !ok {
				t.Errorf("stderr is not one kubemint error line and its hints:\n%s", r.stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			for _, want := range tt.hints {
				if !slices.ContainsFunc(hints, func(h string) bool { return strings.Contains(h, want) }) {
					t.Errorf("no hint line says %q:\n%s", want, r.stderr)
				}
			}
			for _, want := range tt.hints {
				if strings.Contains(line, want) {
					t.Errorf("the error line carries the fix %q; it belongs on a hint line:\n%s", want, line)
				}
			}
			if strings.Contains(r.stderr, "eyJ") {
				t.Errorf("stderr holds something like a token")
			}
			// The same at the highest verbosity: more lines, never a token.
			r = u.kubemint(t, tt.execInfo, append([]string{"token", "-v=10"}, tt.args...)...)
			if r.code == 0 || r.stdout != "" || strings.Contains(r.stderr, "eyJ") {
				t.Errorf("at -v=10: exit %d, stdout %q, or a token on stderr", r.code, r.stdout)
			}
		})
	}
}

// TestServesValidTokenWhenMintFails: with the API server out of reach, a
// cached token that is due for a re-mint but still valid is served, and the
// client is asked to come back soon.
func TestServesValidTokenWhenMintFails(t *testing.T) {
	u := newUserEnv(t)
	good := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	// The source's server is swapped for a dead one below; --allow-server
	// keeps the exec info's cluster pinned (one server under two names), so
	// what is tested is the outage, not the server pin.
	args := []string{"token", "--service-account=ci/deployer", "--source-context=admin", "--duration=10m", "--refresh-before=9m58s", "-v=1", "--allow-server=" + w.cp.Server}

	first := u.kubemint(t, info, append(args, "--source-kubeconfig="+good)...)
	if first.code != 0 {
		t.Fatalf("mint: exit %d: %s", first.code, first.stderr)
	}
	time.Sleep(2500 * time.Millisecond) // now due for a re-mint
	// The same source (it is part of the cache key), its server now down.
	writeKubeconfig(t, good, deadServer(t), w.cp.CAFile)
	second := u.kubemint(t, info, append(args, "--source-kubeconfig="+good)...)
	if second.code != 0 {
		t.Fatalf("with the server down: exit %d: %s", second.code, second.stderr)
	}
	if tokenOf(t, first.stdout) != tokenOf(t, second.stdout) {
		t.Errorf("served a different token than the cached one")
	}
	if !strings.Contains(second.stderr, "cannot reach the API server") || !strings.Contains(second.stderr, "serving the cached token for ci/deployer") {
		t.Errorf("-v=1 does not say the cached token was served:\n%s", second.stderr)
	}
	var ec struct {
		Status struct {
			ExpirationTimestamp time.Time `json:"expirationTimestamp"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(second.stdout), &ec); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(ec.Status.ExpirationTimestamp); d <= 0 || d > time.Minute {
		t.Errorf("expirationTimestamp is %v away, want a retry within a minute", d)
	}
}

// TestTokenNeverLogged: at the highest verbosity, mint and cache hit, the
// token appears on stdout only.
func TestTokenNeverLogged(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	for _, phase := range []string{"mint", "hit"} {
		r := u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc, "--duration=30m", "-v=10")
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", phase, r.code, r.stderr)
		}
		tok := tokenOf(t, r.stdout)
		if strings.Contains(r.stderr, tok) || strings.Contains(r.stderr, tok[len(tok)-20:]) {
			t.Errorf("%s: the token appears on stderr at -v=10", phase)
		}
		if phase == "mint" && (!strings.Contains(r.stderr, "POST "+w.cp.Server+"/api/v1/namespaces/ci/serviceaccounts/deployer/token") || !strings.Contains(r.stderr, " 201 Created in ")) {
			t.Errorf("-v=10 does not log the TokenRequest:\n%s", r.stderr)
		}
	}
}

func tokenOf(t *testing.T, stdout string) string {
	t.Helper()
	var ec struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(stdout), &ec); err != nil || ec.Status.Token == "" {
		t.Fatalf("stdout is not an ExecCredential with a token: %v", err)
	}
	return ec.Status.Token
}

// deadServer is the URL of a loopback port that nothing listens on.
func deadServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "https://" + l.Addr().String()
}
