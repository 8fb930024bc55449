package kubeconfig

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/internal/hint"
)

// jwt crafts an unsigned JWT with the given claims JSON.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"k"}`)) + "." + enc([]byte(claims)) + "." + enc([]byte("signature"))
}

const (
	legacyClaims = `{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"ci","kubernetes.io/serviceaccount/secret.name":"deployer-token-abcde","kubernetes.io/serviceaccount/service-account.name":"deployer","kubernetes.io/serviceaccount/service-account.uid":"1234","sub":"system:serviceaccount:ci:deployer"}`
	boundClaims  = `{"aud":["https://kubernetes.default.svc"],"exp":1800000000,"iat":1799996400,"iss":"https://kubernetes.default.svc","kubernetes.io":{"namespace":"team-a","serviceaccount":{"name":"alice","uid":"5678"}},"nbf":1799996400,"sub":"system:serviceaccount:team-a:alice"}`
)

func TestAccountOf(t *testing.T) {
	tests := map[string]struct {
		token   string
		want    Account
		wantErr bool
	}{
		"legacy Secret-based token": {token: jwt(legacyClaims), want: Account{Namespace: "ci", Name: "deployer", Legacy: true}},
		"TokenRequest token":        {token: jwt(boundClaims), want: Account{Namespace: "team-a", Name: "alice"}},
		"subject only":              {token: jwt(`{"sub":"system:serviceaccount:ops:bot"}`), want: Account{Namespace: "ops", Name: "bot"}},
		"padded payload":            {token: "h." + base64.URLEncoding.EncodeToString([]byte(`{"sub":"system:serviceaccount:ops:bot"} `)) + ".s", want: Account{Namespace: "ops", Name: "bot"}},
		"OIDC user token":           {token: jwt(`{"iss":"https://accounts.example","sub":"alice@example.com"}`), wantErr: true},
		"subject without name":      {token: jwt(`{"sub":"system:serviceaccount:ops"}`), wantErr: true},
		"name with a colon":         {token: jwt(`{"sub":"system:serviceaccount:ops:bot:x"}`), wantErr: true},
		"static token file value":   {token: "31ada4fd-adec-460c-809a-9e56ceb75269", wantErr: true},
		"payload not base64":        {token: "a.!!!.c", wantErr: true},
		"payload not JSON":          {token: "a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".c", wantErr: true},
		"empty":                     {token: "", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := AccountOf(tt.token)
			if tt.wantErr {
				if !errors.Is(err, ErrNotServiceAccount) {
					t.Fatalf("AccountOf = %v, %v; want ErrNotServiceAccount", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzAccountOf(f *testing.F) {
	f.Add(jwt(legacyClaims))
	f.Add(jwt(boundClaims))
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		a, err := AccountOf(token)
		if err != nil {
			if len(token) > 8 && strings.Contains(err.Error(), token) {
				t.Errorf("error quotes the token")
			}
			return
		}
		if a.Namespace == "" || a.Name == "" || strings.ContainsAny(a.Namespace+a.Name, "/:") {
			t.Errorf("accepted account %+v", a)
		}
	})
}

func testConfig() *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["prod"] = &clientcmdapi.Cluster{Server: "https://prod:6443"}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificate: "/admin.crt", ClientKey: "/admin.key"}
	cfg.AuthInfos["ci-bot"] = &clientcmdapi.AuthInfo{Token: jwt(legacyClaims)}
	cfg.AuthInfos["alice"] = &clientcmdapi.AuthInfo{Token: jwt(boundClaims)}
	cfg.AuthInfos["oidc"] = &clientcmdapi.AuthInfo{Token: jwt(`{"sub":"alice@example.com"}`)}
	cfg.AuthInfos["plugin"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "kubelogin"}}
	cfg.Contexts["admin"] = &clientcmdapi.Context{Cluster: "prod", AuthInfo: "admin"}
	cfg.Contexts["ci"] = &clientcmdapi.Context{Cluster: "prod", AuthInfo: "ci-bot"}
	return cfg
}

func execFor(a Account) *clientcmdapi.ExecConfig {
	return &clientcmdapi.ExecConfig{Command: "kubemint", Args: []string{"token", "--service-account=" + a.String()}}
}

func TestConvert(t *testing.T) {
	cfg := testConfig()
	got, err := Convert(cfg, "admin", execFor)
	if err != nil {
		t.Fatal(err)
	}
	want := []Conversion{
		{User: "alice", Account: Account{Namespace: "team-a", Name: "alice"}},
		{User: "ci-bot", Account: Account{Namespace: "ci", Name: "deployer", Legacy: true}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if u := cfg.AuthInfos["ci-bot"]; u.Token != "" || u.Exec == nil || u.Exec.Args[1] != "--service-account=ci/deployer" {
		t.Errorf("ci-bot not rewritten: %+v", u)
	}
	if cfg.AuthInfos["oidc"].Token == "" || cfg.AuthInfos["admin"].ClientCertificate == "" || cfg.AuthInfos["plugin"].Exec.Command != "kubelogin" {
		t.Errorf("a user that holds no service-account token was changed")
	}
}

func TestConvertRefusesToConvertTheSource(t *testing.T) {
	if _, err := Convert(testConfig(), "ci", execFor); err == nil || !strings.Contains(err.Error(), `the source context "ci" uses user "ci-bot"`) {
		t.Errorf("Convert = %v", err)
	}
	_, err := Convert(testConfig(), "nope", execFor)
	if err == nil || err.Error() != `context "nope" not found` || !slices.Contains(hint.Hints(err), "set --source-context to one of: admin, ci") {
		t.Errorf("Convert = %v, hints %q", err, hint.Hints(err))
	}
}

func TestWriteWithBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	cfg := testConfig()
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(path)
	if _, err := Convert(cfg, "admin", execFor); err != nil {
		t.Fatal(err)
	}
	backup, err := WriteWithBackup(cfg, path, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if backup != path+".kubemint-backup-20261124T120000Z" {
		t.Errorf("backup = %s", backup)
	}
	if b, _ := os.ReadFile(backup); string(b) != string(orig) {
		t.Errorf("the backup differs from the original")
	}
	got, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.AuthInfos["ci-bot"].Token != "" || got.AuthInfos["ci-bot"].Exec == nil {
		t.Errorf("the written file still holds the token")
	}
	for _, p := range []string{path, backup} {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", p, fi.Mode().Perm())
		}
	}
	if files, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".config.tmp*")); len(files) != 0 {
		t.Errorf("temporary files left: %v", files)
	}
}

// TestBackupKeepsTheLastFew: each backup holds the kubeconfig's secrets;
// only the newest KeepBackups of one file stay, another file's and other
// names are left alone.
func TestBackupKeepsTheLastFew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	other := filepath.Join(dir, "config.kubemint-backup-notatime")
	for _, p := range []string{path, filepath.Join(dir, "other"), other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for i := range KeepBackups + 3 {
		if _, err := Backup(path, start.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := Backup(filepath.Join(dir, "other"), start.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := filepath.Glob(path + ".kubemint-backup-2*")
	if len(got) != KeepBackups || !strings.HasSuffix(got[0], "20261124T120300Z") {
		t.Errorf("backups of config: %v, want the newest %d", got, KeepBackups)
	}
	if others, _ := filepath.Glob(filepath.Join(dir, "other.kubemint-backup-*")); len(others) != KeepBackups {
		t.Errorf("backups of other: %d", len(others))
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not a backup was removed: %v", err)
	}
}
