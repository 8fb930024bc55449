package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// otherKubectls finds the kubectl on PATH and the versioned ones installed
// beside it (the Google Cloud SDK ships kubectl.1.27 ... next to kubectl).
func otherKubectls() []string {
	onPath, err := exec.LookPath("kubectl")
	if err != nil {
		return nil
	}
	found := []string{onPath}
	dir := filepath.Dir(onPath)
	if real, err := filepath.EvalSymlinks(onPath); err == nil {
		// /usr/bin/kubectl links into the SDK, where the others are.
		dir = filepath.Dir(real)
	}
	versioned, _ := filepath.Glob(filepath.Join(dir, "kubectl.1.*"))
	slices.Sort(versioned)
	return append(found, versioned...)
}

// TestEveryKubectl runs the exec entry through every kubectl this machine
// has besides the pinned one the other tests use.
func TestEveryKubectl(t *testing.T) {
	kubectls := otherKubectls()
	if len(kubectls) == 0 {
		t.Skip("no kubectl on PATH besides the pinned one in tools/bin; the other tests cover that one")
	}
	for _, k := range kubectls {
		t.Run(filepath.Base(k), func(t *testing.T) {
			if fi, err := os.Stat(k); err != nil || fi.IsDir() {
				t.Skipf("%s is not a file", k)
			}
			u := newUserEnv(t)
			kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
			u.vars = append(u.vars, "KUBECONFIG="+kc)
			version := u.run(t, nil, k, "version", "--client")
			t.Logf("%s: %s", k, strings.TrimSpace(version.stdout))
			r := u.run(t, nil, k, "get", "pods", "-n", "ci")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if r := u.run(t, nil, k, "get", "pods", "-n", "other"); r.code == 0 {
				t.Errorf("get pods -n other succeeded; want forbidden")
			}
			// The same kubeconfig with the exec entry in v1beta1.
			b, err := os.ReadFile(kc)
			if err != nil {
				t.Fatal(err)
			}
			beta := strings.Replace(string(b), "apiVersion: client.authentication.k8s.io/v1\n", "apiVersion: client.authentication.k8s.io/v1beta1\n", 1)
			if err := os.WriteFile(kc, []byte(beta), 0o600); err != nil {
				t.Fatal(err)
			}
			if r := u.run(t, nil, k, "get", "pods", "-n", "ci"); r.code != 0 {
				t.Errorf("with a v1beta1 exec entry: exit %d: %s", r.code, r.stderr)
			}
		})
	}
}
