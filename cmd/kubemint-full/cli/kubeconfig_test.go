package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubemint/kubemint/internal/hint"
)

// TestKubeconfigForARunner: the printed kubeconfig carries the CA inline,
// the bare command, the runner's source flags and nothing of this machine;
// bad flag sets fail with one line naming the fix.
func TestKubeconfigForARunner(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := testCA(t)
	ca := filepath.Join(dir, "ca.crt")
	key := filepath.Join(dir, "ca.key")
	both := filepath.Join(dir, "both.pem")
	junk := filepath.Join(dir, "junk")
	for f, data := range map[string][]byte{ca: certPEM, key: keyPEM, both: append(append([]byte{}, certPEM...), keyPEM...), junk: []byte("not a certificate\n")} {
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"kubeconfig", "--service-account=ci/deployer", "--server=https://k8s.example:6443", "--certificate-authority=" + ca}
	tests := map[string]struct {
		args     []string
		wantArgs []string
		wantErr  string
		wantHint string
		warn     string
	}{
		"source server":                 {args: []string{"--source-token-env=KUBE_ID_TOKEN", "--source-server=https://k8s.example:6443", "--source-certificate-authority=/etc/ci/ca.crt"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-token-env=KUBE_ID_TOKEN", "--source-server=https://k8s.example:6443", "--source-certificate-authority=/etc/ci/ca.crt"}},
		"source server, context source": {args: []string{"--source-in-cluster", "--source-server=https://k8s.example:6443"}, wantErr: "--source-server and --source-certificate-authority go with"},
		"source server http":            {args: []string{"--source-token-env=X", "--source-server=http://k8s.example"}, wantErr: `--source-server "http://k8s.example" is not an https URL`},
		"private key":                   {args: []string{"--source-in-cluster", "--certificate-authority=" + key}, wantErr: "holds a private key", wantHint: "| base64 -d > ca.crt"},
		"certificate and key":           {args: []string{"--source-in-cluster", "--certificate-authority=" + both}, wantErr: "holds a private key"},
		"no certificate":                {args: []string{"--source-in-cluster", "--certificate-authority=" + junk}, wantErr: "holds no PEM certificate", wantHint: "| base64 -d > ca.crt"},
		"http server":                   {args: []string{"--source-in-cluster", "--server=http://k8s.example:6443"}, wantErr: "is not an https URL", wantHint: "--server=https://"},
		"no host":                       {args: []string{"--source-in-cluster", "--server=k8s.example:6443"}, wantErr: "is not an https URL"},
		"no server":                     {args: []string{"--source-in-cluster"}, wantErr: "--server is required", wantHint: "--server=https://prod.example.com:6443"},
		"context without its file":      {args: []string{"--source-context=runner"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-context=runner", "--allow-server=https://k8s.example:6443"}, warn: "kubemint: warning: --source-context=runner without --source-kubeconfig"},
		"github actions":                {args: []string{"--source-github-actions", "--source-audience=k8s"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-github-actions", "--source-audience=k8s", "--allow-server=https://k8s.example:6443"}},
		"token env":                     {args: []string{"--source-token-env=KUBE_ID_TOKEN", "--duration=30m"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-token-env=KUBE_ID_TOKEN", "--allow-server=https://k8s.example:6443", "--duration=30m0s"}},
		"runner's context":              {args: []string{"--source-context=runner", "--source-kubeconfig=/etc/runner/kubeconfig"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-context=runner", "--source-kubeconfig=/etc/runner/kubeconfig", "--allow-server=https://k8s.example:6443"}},
		"revocable":                     {args: []string{"--source-in-cluster", "--revocable"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-in-cluster", "--allow-server=https://k8s.example:6443", "--bound-object-kind=Secret", "--bound-object-name=deployer-kubemint"}},
		"another name":                  {args: []string{"--source-in-cluster", "--allow-server=https://10.0.0.1:6443"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-in-cluster", "--allow-server=https://10.0.0.1:6443", "--allow-server=https://k8s.example:6443"}},
		"another source server":         {args: []string{"--source-token-file=/t", "--source-server=https://10.0.0.1:6443"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-token-file=/t", "--source-server=https://10.0.0.1:6443", "--allow-server=https://k8s.example:6443"}},
		"in cluster":                    {args: []string{"--source-in-cluster"}, wantArgs: []string{"token", "--service-account=ci/deployer", "--source-in-cluster", "--allow-server=https://k8s.example:6443"}},
		"no source":                     {wantErr: "name the runner's source"},
		"two sources":                   {args: []string{"--source-in-cluster", "--source-token-env=X"}, wantErr: "choose one source"},
		"no CA":                         {args: []string{"--source-in-cluster"}, wantErr: "needs the cluster's CA", wantHint: "| base64 -d > ca.crt"},
		"CA and context":                {args: []string{"--source-in-cluster", "--from-context=admin"}, wantErr: "choose one of --certificate-authority and --from-context"},
		"force without file":            {args: []string{"--source-in-cluster", "--force"}, wantErr: "--force goes with -o"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			args := append(append([]string{}, base...), tt.args...)
			switch name {
			case "no CA":
				args = []string{"kubeconfig", "--service-account=ci/deployer", "--server=https://k8s.example:6443", "--source-in-cluster"}
			case "CA and context":
				args = append(args[:len(args):len(args)], "--from-context=admin")
			case "no server":
				args = []string{"kubeconfig", "--service-account=ci/deployer", "--certificate-authority=" + ca, "--source-in-cluster"}
			}
			var stdout, stderr bytes.Buffer
			root := NewRootCmd("test", strings.NewReader(""), &stdout, &stderr)
			root.SetArgs(args)
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if hs := strings.Join(hint.Hints(err), "\n"); !strings.Contains(hs, tt.wantHint) {
					t.Errorf("hints = %q, want %q", hs, tt.wantHint)
				}
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q", stdout.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tt.warn == "") != (stderr.Len() == 0) || !strings.Contains(stderr.String(), tt.warn) {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.warn)
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
			if c == nil || c.Server != "https://k8s.example:6443" || !bytes.Equal(c.CertificateAuthorityData, certPEM) || c.CertificateAuthority != "" {
				t.Errorf("cluster: server %q, CA %q (file %q)", c.Server, c.CertificateAuthorityData, c.CertificateAuthority)
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

// testCA returns a self-signed CA certificate and its private key, PEM.
func testCA(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}
