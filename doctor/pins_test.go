package doctor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// TestPins: doctor fails a context that runs a kubemint exec user with a
// cluster its source does not pin (kubemint refuses every call from it),
// and passes the contexts the pin lets through.
func TestPins(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "config")
	user := func(args ...string) string {
		return "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: kubemint\n      args: [token, --service-account=ci/deployer, " + strings.Join(args, ", ") + "]\n"
	}
	src := "--source-context=admin, --source-kubeconfig=" + kc
	config := `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://a.example:6443"}
- name: a-default-port
  cluster: {server: "https://A.example:6443/"}
- name: b
  cluster: {server: "https://b.example:6443"}
users:
- name: admin
  user: {token: not-a-real-token}
- name: same
` + user(src) + `- name: allowed
` + user(src, "--allow-server=https://b.example:6443") + `- name: env
` + user("--source-token-env=KUBE_ID_TOKEN", "--allow-server=https://a.example:6443") + `- name: pod
` + user("--source-in-cluster") + `
contexts:
- name: admin
  context: {cluster: a, user: admin}
`
	tests := map[string]struct {
		cluster, user string
		fail          string
	}{
		"source's own server":               {cluster: "a", user: "same"},
		"source's server, another spelling": {cluster: "a-default-port", user: "same"},
		"another server":                    {cluster: "b", user: "same", fail: `context "c" runs user "same" with cluster https://b.example:6443, which its source does not pin (context "admin" is for https://a.example:6443)`},
		"another server, allowed":           {cluster: "b", user: "allowed"},
		"token source, pinned":              {cluster: "a", user: "env"},
		"token source, not pinned":          {cluster: "b", user: "env", fail: "(no API server of its own)"},
		"in a pod: not known here":          {cluster: "b", user: "pod"},
	}
	for name, tc := range tests {
		file := config + "- name: c\n  context: {cluster: " + tc.cluster + ", user: " + tc.user + "}\n"
		if err := os.WriteFile(kc, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		raw, err := clientcmd.LoadFromFile(kc)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		d := &doctor{w: &out}
		d.pins(raw)
		switch {
		case tc.fail == "" && (d.failed || out.Len() > 0):
			t.Errorf("%s: failed=%v, output:\n%s", name, d.failed, out.String())
		case tc.fail != "" && (!d.failed || !strings.Contains(out.String(), tc.fail) || !strings.Contains(out.String(), "fix: ")):
			t.Errorf("%s: failed=%v, output:\n%s\nwant a FAIL containing %q and its fix", name, d.failed, out.String(), tc.fail)
		}
	}
}
