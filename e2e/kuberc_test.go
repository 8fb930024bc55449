package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubercAllowlist checks docs/kuberc.md against the real kubectl: an
// allow-list naming kubemint's path lets it run; a list without it, or
// DenyAll, stops kubectl before kubemint runs.
func TestKubercAllowlist(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	kuberc := filepath.Join(u.home, "kuberc")
	u.vars = append(u.vars, "KUBECONFIG="+kc, "KUBERC="+kuberc)
	kubemint := filepath.Join(w.binDir, "kubemint")
	tests := []struct {
		name    string
		policy  string
		allowed bool
	}{
		{"allow-listed by path", "credentialPluginPolicy: Allowlist\ncredentialPluginAllowlist:\n- name: " + kubemint + "\n", true},
		{"another plugin allow-listed", "credentialPluginPolicy: Allowlist\ncredentialPluginAllowlist:\n- name: /usr/local/bin/kubelogin\n", false},
		{"DenyAll", "credentialPluginPolicy: DenyAll\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pref := "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n" + tt.policy
			if err := os.WriteFile(kuberc, []byte(pref), 0o600); err != nil {
				t.Fatal(err)
			}
			r := u.kubectl(t, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
			if tt.allowed && (r.code != 0 || r.stdout != "system:serviceaccount:ci:deployer") {
				t.Errorf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
			}
			if !tt.allowed && (r.code == 0 || !strings.Contains(r.stderr, "getting credentials: plugin")) {
				t.Errorf("kubectl ran kubemint against the policy: exit %d, stderr %s", r.code, r.stderr)
			}
		})
	}
}
