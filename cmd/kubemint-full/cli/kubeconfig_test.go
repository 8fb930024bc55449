package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// TestKubeconfigForARunner: the printed kubeconfig carries the CA inline,
// the bare command, the runner's source flags and nothing of this machine;
// bad flag sets fail with one line naming the fix.
func TestKubeconfigForARunner(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"kubeconfig", "--service-account=ci/deployer", "--server=https://k8s.example:6443", "--certificate-authority=" + ca}
	tests := map[string]struct {
		args     []string
		wantArgs []string
		wantErr  string
	}{
		"github actions":     {args: []string{"--source-github-actions", "--source-audience=k8s"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-github-actions", "--source-audience=k8s"}},
		"token env":          {args: []string{"--source-token-env=KUBE_ID_TOKEN", "--duration=30m"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-token-env=KUBE_ID_TOKEN", "--duration=30m0s"}},
		"runner's context":   {args: []string{"--source-context=runner", "--source-kubeconfig=/etc/runner/kubeconfig"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-context=runner", "--source-kubeconfig=/etc/runner/kubeconfig"}},
		"revocable":          {args: []string{"--source-in-cluster", "--revocable"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-in-cluster", "--bound-object-kind=Secret", "--bound-object-name=deployer-kubemint"}},
		"in cluster":         {args: []string{"--source-in-cluster"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-in-cluster"}},
		"no source":          {wantErr: "name the runner's source"},
		"two sources":        {args: []string{"--source-in-cluster", "--source-token-env=X"}, wantErr: "choose one source"},
		"no CA":              {args: []string{"--source-in-cluster"}, wantErr: "needs the cluster's CA"},
		"CA and context":     {args: []string{"--source-in-cluster", "--from-context=admin"}, wantErr: "choose one of --certificate-authority and --from-context"},
		"force without file": {args: []string{"--source-in-cluster", "--force"}, wantErr: "--force goes with -o"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			args := append(append([]string{}, base...), tt.args...)
			switch name {
			case "no CA":
				args = []string{"kubeconfig", "--service-account=ci/deployer", "--server=https://k8s.example:6443", "--source-in-cluster"}
			case "CA and context":
				args = append(args[:len(args):len(args)], "--from-context=admin")
			}
			var stdout, stderr bytes.Buffer
			root := NewRootCmd("test", strings.NewReader(""), &stdout, &stderr)
			root.SetArgs(args)
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := clientcmd.Load(stdout.Bytes())
			if err != nil {
				t.Fatalf("the output is no kubeconfig: %v\n%s", err, stdout.String())
			}
			u := cfg.AuthInfos["ci-deployer"]
			if u == nil || u.Exec == nil {
				t.Fatalf("no exec user ci-deployer:\n%s", stdout.String())
			}
			if u.Exec.Command != "kubemint" || !u.Exec.ProvideClusterInfo || u.Exec.InteractiveMode != "Never" || !strings.Contains(u.Exec.InstallHint, "the .deb or .rpm package of a release") {
				t.Errorf("exec entry: %+v", u.Exec)
			}
			if strings.Join(u.Exec.Args, " ") != strings.Join(tt.wantArgs, " ") {
				t.Errorf("args = %q, want %q", u.Exec.Args, tt.wantArgs)
			}
			c := cfg.Clusters["cluster"]
			if c == nil || c.Server != "https://k8s.example:6443" || !strings.Contains(string(c.CertificateAuthorityData), "MIIB") || c.CertificateAuthority != "" {
				t.Errorf("cluster: %+v", c)
			}
			if cfg.CurrentContext != "ci-deployer" || cfg.Contexts["ci-deployer"].Namespace != "ci" {
				t.Errorf("context: %q %+v", cfg.CurrentContext, cfg.Contexts["ci-deployer"])
			}
			if strings.Contains(stdout.String(), ca) {
				t.Errorf("the kubeconfig names this machine's CA file:\n%s", stdout.String())
			}
		})
	}
}
