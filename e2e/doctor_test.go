package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubemint/kubemint/cache"
)

// TestDoctor: with a source that may mint, every check passes; with one
// that may not, doctor names the missing RBAC rule and how to grant it; an
// exec entry whose binary is gone is found.
func TestDoctor(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	u.vars = append(u.vars, "KUBECONFIG="+kc)

	r := u.kubemint(t, "", "doctor", "--service-account=ci/deployer", "--source-context=admin")
	if r.code != 0 {
		t.Fatalf("doctor with admin: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"ok    kubeconfig " + kc + " loads: 3 contexts",
		`ok    user "deployer" runs ` + filepath.Join(w.binDir, "kubemint"),
		"ok    keyring: no D-Bus session bus",
		`ok    context "admin" reaches ` + w.cp.Server,
		"ok    clocks agree",
		`ok    context "admin" may create serviceaccounts/token for ci/deployer`,
		"the API server sets no maximum token lifetime",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.stdout)
		}
	}
	// Which backend --cache=auto uses, and why.
	kernel := "ok    kernel keyring: usable; this user holds"
	auto := "--cache=auto uses the kernel keyring"
	if _, err := cache.KernelProbe(); err != nil {
		kernel, auto = "warn  kernel keyring: keyctl is refused", "--cache=auto uses the file cache"
	}
	for _, want := range []string{kernel, auto} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.stdout)
		}
	}

	r = u.kubemint(t, "", "doctor", "--service-account=ci/deployer", "--source-context=nobody")
	if r.code == 0 {
		t.Errorf("doctor with a source that may not mint: exit 0")
	}
	for _, want := range []string{
		`FAIL  context "nobody" (nobody) may not create serviceaccounts/token for ci/deployer`,
		"fix: kubectl create role kubemint-minter-deployer -n ci --verb=create --resource=serviceaccounts/token --resource-name=deployer --dry-run=client -o yaml | kubectl apply -f - && kubectl create rolebinding kubemint-minter-deployer-user-nobody-7e0f4fcf54d1 -n ci --role=kubemint-minter-deployer --user=nobody",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.stdout)
		}
	}

	broken := filepath.Join(t.TempDir(), "kubeconfig")
	b, _ := os.ReadFile(kc)
	if err := os.WriteFile(broken, []byte(strings.Replace(string(b), "command: kubemint", "command: /opt/gone/kubelogin", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = u.kubemint(t, "", "doctor", "--source-kubeconfig="+broken, "--source-context=admin")
	if r.code == 0 || !strings.Contains(r.stdout, `FAIL  user "deployer" runs "/opt/gone/kubelogin", which is not there`) {
		t.Errorf("doctor does not find the missing exec binary: exit %d\n%s", r.code, r.stdout)
	}
}
