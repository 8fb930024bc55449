package e2e

import (
	"strings"
	"testing"
)

// TestNoTokenAtV10AcrossCommands runs every command that touches tokens at
// -v=10, on its success and error paths, and looks for the tokens involved
// (and their signature parts alone) in everything it prints.
func TestNoTokenAtV10AcrossCommands(t *testing.T) {
	podReaderClusterRole(t)
	u := newUserEnv(t)
	u.adminKubeconfig(t)
	pasted, stderr, err := admin("", "create", "token", "deployer", "-n", "ci", "--duration=10m")
	if err != nil {
		t.Fatal(stderr)
	}
	pasted = strings.TrimSpace(pasted)
	if r := u.kubectl(t, "config", "set-credentials", "pasted", "--token="+pasted); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := u.kubectl(t, "config", "set-context", "pasted", "--cluster=local", "--user=pasted"); r.code != 0 {
		t.Fatal(r.stderr)
	}

	var outputs []string
	run := func(wantOK bool, args ...string) {
		t.Helper()
		r := u.kubemint(t, "", append(args, "-v=10")...)
		if (r.code == 0) != wantOK {
			t.Errorf("kubemint %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		outputs = append(outputs, r.stdout+r.stderr)
	}
	run(true, "setup", "--service-account=sec/app", "--source-context=admin", "--cluster-role=e2e-pod-reader", "--revocable", "--context-name=app")
	// The token setup minted, read back from the cache as the exec entry would.
	minted := tokenOf(t, u.kubemint(t, execInfo(t, "client.authentication.k8s.io/v1"), "token", "--service-account=sec/app", "--source-context=admin",
		"--bound-object-kind=Secret", "--bound-object-name=app-kubemint").stdout)
	run(false, "setup", "--service-account=sec/app", "--source-context=admin", "--role=missing")
	run(true, "status", "-o", "yaml")
	run(true, "doctor", "--service-account=sec/app", "--source-context=admin")
	run(false, "doctor", "--service-account=sec/app", "--source-context=pasted")
	run(true, "convert", "--source-context=admin")
	run(false, "convert", "--source-context=pasted")
	run(true, "revoke", "--service-account=sec/app", "--source-context=admin")
	run(false, "revoke", "--service-account=ci/deployer", "--source-context=admin")
	run(true, "clean")

	for _, tok := range []string{pasted, minted} {
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		for i, out := range outputs {
			if strings.Contains(out, tok) || strings.Contains(out, sig) {
				t.Errorf("command %d printed a token at -v=10", i)
			}
		}
	}
}
