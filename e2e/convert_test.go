package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConvert: a kubeconfig whose user holds a pasted TokenRequest token,
// the way the seed guides write one, becomes a kubemint exec entry that
// kubectl uses; the original is kept beside it.
func TestConvert(t *testing.T) {
	u := newUserEnv(t)
	kc := u.adminKubeconfig(t)
	tok, stderr, err := admin("", "create", "token", "deployer", "-n", "ci", "--duration=10m")
	if err != nil {
		t.Fatalf("kubectl create token: %v: %s", err, stderr)
	}
	tok = strings.TrimSpace(tok)
	for _, args := range [][]string{
		{"config", "set-credentials", "ci-bot", "--token=" + tok},
		{"config", "set-context", "ci", "--cluster=local", "--user=ci-bot", "--namespace=ci"},
	} {
		if r := u.kubectl(t, args...); r.code != 0 {
			t.Fatalf("kubectl %v: %s", args[:2], r.stderr)
		}
	}
	orig, _ := os.ReadFile(kc)

	dry := u.mustKubemint(t, "convert", "--source-context=admin")
	if !strings.Contains(dry.stdout, `user "ci-bot": a pasted TokenRequest token of ci/deployer`) || !strings.Contains(dry.stdout, "Dry run") {
		t.Errorf("dry run output:\n%s", dry.stdout)
	}
	if now, _ := os.ReadFile(kc); string(now) != string(orig) {
		t.Fatalf("the dry run changed the kubeconfig")
	}
	if strings.Contains(dry.stdout, tok) {
		t.Errorf("convert printed the token")
	}

	r := u.mustKubemint(t, "convert", "--source-context=admin", "--write")
	if !strings.Contains(r.stdout, "Converted 1 user(s) in "+kc) {
		t.Errorf("convert output:\n%s", r.stdout)
	}
	backups, _ := filepath.Glob(kc + ".kubemint-backup-*")
	if len(backups) != 1 {
		t.Fatalf("backups: %v", backups)
	}
	if b, _ := os.ReadFile(backups[0]); string(b) != string(orig) {
		t.Errorf("the backup is not the original")
	}
	now, _ := os.ReadFile(kc)
	if strings.Contains(string(now), tok) || !strings.Contains(string(now), "--service-account=ci/deployer") {
		t.Errorf("the converted kubeconfig:\n%s", now)
	}
	if got := whoami(t, u, "--context=ci"); got != "system:serviceaccount:ci:deployer" {
		t.Errorf("whoami through the converted user = %q", got)
	}
	if r := u.kubectl(t, "--context=ci", "get", "pods"); r.code != 0 {
		t.Errorf("get pods through the converted user: %s", r.stderr)
	}
	again := u.mustKubemint(t, "convert", "--source-context=admin")
	if !strings.Contains(again.stdout, "nothing to convert") {
		t.Errorf("second convert:\n%s", again.stdout)
	}
}
