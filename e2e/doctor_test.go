package e2e

import (
	"net/url"
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
		"ok    minting one probe token for ci/deployer to measure its lifetime: 1h0m0s, unbound, audience kubemint-doctor-probe.invalid",
		"ok    the API server grants the 1h0m0s asked for",
		"ok    ci/deployer may do nothing that defeats short-lived, revocable tokens",
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

// TestDoctorOnARunner: on a runner, `KUBECONFIG=runner.kubeconfig kubemint
// doctor` checks the current context's exec entry with its own source
// flags, for every source kind, and finds nothing wrong with a runner that
// works. Before, it loaded the current context as a source, and each one
// FAILed with "authenticates with kubemint itself" (rc 1). Its probe says
// it mints a token, and asks for no more than the entry does.
func TestDoctorOnARunner(t *testing.T) {
	applyCIRBAC(t)
	u := newUserEnv(t)
	tokenFile := filepath.Join(u.home, "ci-token")
	if err := os.WriteFile(tokenFile, []byte(ci.gitlabToken(gitlabMain, "kubernetes")), 0o600); err != nil {
		t.Fatal(err)
	}
	mount := t.TempDir()
	ca, _ := os.ReadFile(w.cp.CAFile)
	for name, content := range map[string]string{"token": minter(t), "ca.crt": string(ca), "namespace": "pods"} {
		if err := os.WriteFile(filepath.Join(mount, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	server, _ := url.Parse(w.cp.Server)
	for _, tt := range []struct {
		name string
		kind string
		// kubeconfig writes the runner's kubeconfig; env is the runner's.
		kubeconfig func() string
		env        []string
	}{
		{"GitHub Actions", "--source-github-actions",
			func() string {
				return runnerKubeconfig(t, u, true, "--service-account=ci/deployer", "--source-github-actions", "--allow-server="+w.cp.Server, "--duration=30m")
			}, ci.githubJob(t, githubMain)},
		{"a token in a variable", "--source-token-env=KUBE_ID_TOKEN",
			func() string {
				return runnerKubeconfig(t, u, false, "--service-account=ci/deployer", "--source-token-env=KUBE_ID_TOKEN", "--source-server="+w.cp.Server, "--source-certificate-authority="+w.cp.CAFile)
			}, []string{"KUBE_ID_TOKEN=" + ci.gitlabToken(gitlabMain, "kubernetes")}},
		{"a token file", "--source-token-file=" + tokenFile,
			func() string {
				return runnerKubeconfig(t, u, true, "--service-account=ci/deployer", "--source-token-file="+tokenFile, "--allow-server="+w.cp.Server)
			}, nil},
		{"the pod's account", "--source-in-cluster",
			func() string {
				return runnerKubeconfig(t, u, true, "--service-account=ci/deployer", "--source-in-cluster")
			},
			[]string{"KUBEMINT_TEST_SERVICEACCOUNT_DIR=" + mount, "KUBERNETES_SERVICE_HOST=" + server.Hostname(), "KUBERNETES_SERVICE_PORT=" + server.Port()}},
		{"a kubeconfig context", "--source-context=admin",
			func() string { return u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin") }, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"KUBECONFIG=" + tt.kubeconfig()}, tt.env...)
			// The runner works...
			if r := u.run(t, env, w.kubectl, "auth", "whoami"); r.code != 0 {
				t.Fatalf("the runner's kubectl: %s", r.stderr)
			}
			// ...and doctor says so.
			r := u.run(t, env, filepath.Join(w.binDir, "kubemint"), "doctor")
			if r.code != 0 || strings.Contains(r.stdout, "FAIL") {
				t.Fatalf("doctor on the runner: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			duration := "1h0m0s"
			if tt.kind == "--source-github-actions" {
				duration = "30m0s"
			}
			for _, want := range []string{
				"runs kubemint token for ci/deployer with " + tt.kind,
				" may create serviceaccounts/token for ci/deployer",
				"ok    minting one probe token for ci/deployer to measure its lifetime: " + duration + ", unbound, audience kubemint-doctor-probe.invalid (which no API server accepts)",
				"ok    the API server grants the " + duration + " asked for",
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("doctor output lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}
