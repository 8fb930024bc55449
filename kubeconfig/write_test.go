package kubeconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/internal/hint"
)

const adminKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: admin
  user: {token: admin-token}
contexts:
- name: admin
  context: {cluster: dev, user: admin}
current-context: admin
`

func setupContext(d time.Duration) Context {
	return Context{Name: "ci-deployer@dev", Cluster: "dev", Namespace: "ci",
		Exec: Exec("/opt/kubemint", credential.Options{ServiceAccount: "ci/deployer", Duration: d, Cache: "auto"})}
}

// loadMerged loads path as kubectl would, with LocationOfOrigin set.
func loadMerged(t *testing.T, path string) *clientcmdapi.Config {
	t.Helper()
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: []string{path}}
	cfg, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestAddContext(t *testing.T) {
	tests := map[string]struct {
		before      string // "" for no file
		prepare     func(t *testing.T, path string)
		add         Context
		wantChanged bool
		wantErr     bool
	}{
		"new file":     {add: setupContext(time.Hour), wantChanged: true},
		"beside admin": {before: adminKubeconfig, add: setupContext(time.Hour), wantChanged: true},
		"existing context updated": {
			before:  adminKubeconfig,
			prepare: func(t *testing.T, path string) { mustAdd(t, path, setupContext(time.Hour)) },
			add:     setupContext(2 * time.Hour), wantChanged: true,
		},
		"unchanged: no write": {
			before:  adminKubeconfig,
			prepare: func(t *testing.T, path string) { mustAdd(t, path, setupContext(time.Hour)) },
			add:     setupContext(time.Hour),
		},
		"foreign user of that name": {
			before:  adminKubeconfig,
			add:     Context{Name: "admin", Cluster: "dev", Exec: Exec("/opt/kubemint", credential.Options{Duration: time.Hour})},
			wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			if tc.before != "" {
				if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.prepare != nil {
				tc.prepare(t, path)
			}
			before, _ := os.Stat(path)
			changed, _, err := AddContext(loadMerged(t, path), path, tc.add, time.Time{})
			var foreign *ForeignUserError
			if tc.wantErr != errors.As(err, &foreign) || (!tc.wantErr && err != nil) {
				t.Fatalf("AddContext error = %v, want a ForeignUserError: %v", err, tc.wantErr)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			after, statErr := os.Stat(path)
			if !tc.wantChanged {
				if before != nil && (statErr != nil || !os.SameFile(before, after)) {
					t.Errorf("the file was rewritten although nothing changed")
				}
				return
			}
			cfg := loadMerged(t, path)
			u, c := cfg.AuthInfos[tc.add.Name], cfg.Contexts[tc.add.Name]
			if u == nil || c == nil || !sameExec(u, &clientcmdapi.AuthInfo{Exec: tc.add.Exec}) {
				t.Fatalf("the file does not hold the new user and context: %+v %+v", u, c)
			}
			if c.Cluster != tc.add.Cluster || c.AuthInfo != tc.add.Name || c.Namespace != tc.add.Namespace {
				t.Errorf("context = %+v", c)
			}
			if tc.before != "" && (cfg.AuthInfos["admin"] == nil || cfg.AuthInfos["admin"].Token != "admin-token" || cfg.CurrentContext != "admin") {
				t.Errorf("the rest of the kubeconfig was not kept: %+v", cfg)
			}
			if after.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", after.Mode().Perm())
			}
		})
	}
}

func mustAdd(t *testing.T, path string, c Context) {
	t.Helper()
	if _, _, err := AddContext(loadMerged(t, path), path, c, time.Time{}); err != nil {
		t.Fatal(err)
	}
}

// TestAddContextEditsTheFileThatDefinesIt: with two files in $KUBECONFIG,
// an existing context is replaced where it lives, not shadowed by a copy
// in the default file.
func TestAddContextEditsTheFileThatDefinesIt(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	if err := os.WriteFile(first, []byte(adminKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, second, setupContext(time.Hour))
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: []string{first, second}}
	merged, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := AddContext(merged, first, setupContext(2*time.Hour), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if cfg, _ := clientcmd.LoadFromFile(first); cfg.AuthInfos["ci-deployer@dev"] != nil {
		t.Errorf("the user was copied into %s", first)
	}
	cfg, _ := clientcmd.LoadFromFile(second)
	if u := cfg.AuthInfos["ci-deployer@dev"]; u == nil || len(u.Exec.Args) != 3 {
		t.Errorf("the user in %s was not updated: %+v", second, u)
	}
}

func TestWriteStandalone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oncall.kubeconfig")
	cluster := clientcmdapi.NewCluster()
	cluster.Server, cluster.CertificateAuthorityData = "https://127.0.0.1:6443", []byte("ca")
	for i, tc := range []struct {
		add         Context
		wantChanged bool
	}{
		{setupContext(time.Hour), true},     // new file
		{setupContext(time.Hour), false},    // unchanged: no write
		{setupContext(3 * time.Hour), true}, // the entry changed
	} {
		before, _ := os.Stat(path)
		changed, err := WriteStandalone(path, "dev", cluster, tc.add, true)
		if err != nil || changed != tc.wantChanged {
			t.Fatalf("step %d: WriteStandalone = %v, %v; want %v", i, changed, err, tc.wantChanged)
		}
		after, _ := os.Stat(path)
		if !changed && !os.SameFile(before, after) {
			t.Errorf("step %d: the file was rewritten although nothing changed", i)
		}
		cfg, err := clientcmd.LoadFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.CurrentContext != tc.add.Name || len(cfg.Clusters) != 1 || len(cfg.AuthInfos) != 1 || !sameExec(cfg.AuthInfos[tc.add.Name], &clientcmdapi.AuthInfo{Exec: tc.add.Exec}) {
			t.Errorf("step %d: standalone kubeconfig = %+v", i, cfg)
		}
		if string(cfg.Clusters["dev"].CertificateAuthorityData) != "ca" || after.Mode().Perm() != 0o600 {
			t.Errorf("step %d: cluster %+v, mode %v", i, cfg.Clusters["dev"], after.Mode().Perm())
		}
	}
}

func TestKubemintBeside(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "kubemint-full")
	for _, f := range []string{full, filepath.Join(dir, "kubemint")} {
		if err := os.WriteFile(f, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := kubemintBeside(full); err != nil || p != filepath.Join(dir, "kubemint") {
		t.Errorf("kubemintBeside = %q, %v", p, err)
	}
	_, err := kubemintBeside(filepath.Join(t.TempDir(), "kubemint-full"))
	if err == nil {
		t.Fatal("kubemintBeside found a kubemint that is not there")
	}
	// The fix names every install path (docs/install.md), not only install.sh.
	if hs := strings.Join(hint.Hints(err), "\n"); !strings.Contains(hs, "docs/install.md") || !strings.Contains(hs, "go install") {
		t.Errorf("hints = %q", hs)
	}
}

func TestSourceFileFor(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte(adminKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", b+string(filepath.ListSeparator)+a)
	explicit := clientcmd.NewDefaultPathOptions()
	explicit.LoadingRules.ExplicitPath = a
	tests := map[string]struct {
		po         *clientcmd.PathOptions
		context    string
		standalone bool
		want       string
		wantErr    bool
	}{
		"explicit file":                    {po: explicit, context: "admin", want: a},
		"first file of KUBECONFIG with it": {po: clientcmd.NewDefaultPathOptions(), context: "admin", want: a},
		"standalone":                       {po: clientcmd.NewDefaultPathOptions(), context: "admin", standalone: true, want: a},
		"in no file":                       {po: clientcmd.NewDefaultPathOptions(), context: "nope", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := SourceFileFor(tc.po, tc.context, tc.standalone)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("SourceFileFor = %q, %v; want %q (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestWritesThroughALink: a kubeconfig that is a symbolic link (into a
// dotfiles repository) stays one; the file it points at is replaced.
// Renaming over the link itself, as convert did, turned it into a copy.
func TestWritesThroughALink(t *testing.T) {
	for name, write := range map[string]func(t *testing.T, link string) error{
		"setup": func(t *testing.T, link string) error {
			_, _, err := AddContext(loadMerged(t, link), link, setupContext(time.Hour), time.Time{})
			return err
		},
		"convert": func(t *testing.T, link string) error {
			cfg, err := clientcmd.LoadFromFile(link)
			if err != nil {
				return err
			}
			cfg.CurrentContext = "converted"
			_, err = WriteWithBackup(cfg, link, time.Now())
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			real := filepath.Join(dir, "dotfiles", "kubeconfig")
			if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(real, []byte(adminKubeconfig), 0o600); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, "config")
			if err := os.Symlink(real, link); err != nil {
				t.Skipf("no symbolic links here: %v", err)
			}
			if err := write(t, link); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("%s is no longer a link (%v)", link, err)
			}
			b, err := os.ReadFile(real)
			if err != nil || string(b) == adminKubeconfig {
				t.Errorf("the file the link points at was not updated (%v)", err)
			}
		})
	}
}

// TestWriteStandaloneNeedsForce: a file that holds something else is not
// replaced without force; the same content is no change either way.
func TestWriteStandaloneNeedsForce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runner.kubeconfig")
	if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cluster := clientcmdapi.NewCluster()
	cluster.Server = "https://k8s.example:6443"
	c := setupContext(time.Hour)
	data, err := Standalone("dev", cluster, c)
	if err != nil {
		t.Fatal(err)
	}
	var exists *ExistsError
	if err := CheckStandalone(path, data, false); !errors.As(err, &exists) {
		t.Fatalf("CheckStandalone without force = %v, want *ExistsError", err)
	}
	if _, err := WriteStandalone(path, "dev", cluster, c, false); !errors.As(err, &exists) {
		t.Fatalf("WriteStandalone without force = %v, want *ExistsError", err)
	}
	if err := CheckStandalone(path, data, true); err != nil {
		t.Fatalf("CheckStandalone with force = %v", err)
	}
	if changed, err := WriteStandalone(path, "dev", cluster, c, true); err != nil || !changed {
		t.Fatalf("WriteStandalone with force = %v, %v", changed, err)
	}
	if changed, err := WriteStandalone(path, "dev", cluster, c, false); err != nil || changed {
		t.Fatalf("WriteStandalone again, same content, no force = %v, %v; want no change", changed, err)
	}
}

// TestStableFront: setup run through krew's link (~/.krew/bin/kubectl-mint
// pointing into a versioned store directory) names the link, which krew
// keeps across upgrades, not the directory it points into.
func TestStableFront(t *testing.T) {
	root := t.TempDir()
	store := filepath.Join(root, "store", "mint", "v1.0.0")
	bin := filepath.Join(root, "bin")
	for _, d := range []string{store, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	kubemint := filepath.Join(store, "kubemint")
	if err := os.WriteFile(kubemint, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(bin, "kubectl-mint")
	if err := os.Symlink(kubemint, link); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(root, "other")
	if err := os.WriteFile(other, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	otherLink := filepath.Join(bin, "elsewhere")
	if err := os.Symlink(other, otherLink); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, front, want string
	}{
		{"run through krew's link", link, link},
		{"run directly", kubemint, kubemint},
		{"not run through the front", "", kubemint},
		{"a relative path", "bin/kubectl-mint", kubemint},
		{"a link to another binary", otherLink, kubemint},
		{"a link that is gone", filepath.Join(bin, "gone"), kubemint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stableFront(tc.front, kubemint); got != tc.want {
				t.Errorf("stableFront(%q) = %q, want %q", tc.front, got, tc.want)
			}
		})
	}
}

// TestWriteStandaloneMissingDir: -o ci/runner.kubeconfig without ci/ fails
// before anything is written, naming the directory and mkdir -p, not a
// temporary file; nothing is created.
func TestWriteStandaloneMissingDir(t *testing.T) {
	cluster := clientcmdapi.NewCluster()
	cluster.Server = "https://k8s.example:6443"
	c := setupContext(time.Hour)
	data, err := Standalone("dev", cluster, c)
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	file := filepath.Join(base, "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ dir, want, hint string }{
		"missing":      {filepath.Join(base, "ci"), "directory " + filepath.Join(base, "ci") + " does not exist", "mkdir -p " + filepath.Join(base, "ci")},
		"not a folder": {file, file + " is not a directory", ""},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(tc.dir, "runner.kubeconfig")
			for _, err := range []error{
				CheckStandalone(path, data, true),
				func() error { _, err := WriteStandalone(path, "dev", cluster, c, true); return err }(),
			} {
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), ".kubemint-") {
					t.Errorf("error = %v, want %q", err, tc.want)
				}
				if hs := hint.Hints(err); tc.hint != "" && (len(hs) != 1 || hs[0] != tc.hint) {
					t.Errorf("hints = %q, want %q", hs, tc.hint)
				}
			}
			if _, err := os.Stat(tc.dir); name == "missing" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the directory was created: %v", err)
			}
		})
	}
}

func TestTokenOptions(t *testing.T) {
	o := credential.Options{ServiceAccount: "ci/deployer", SourceContext: "admin", Duration: 2 * time.Hour, Cache: "auto", SelfRenew: true}
	got, err := TokenOptions(Exec("/opt/kubemint", o))
	if err != nil {
		t.Fatal(err)
	}
	if got.ServiceAccount != o.ServiceAccount || got.SourceContext != o.SourceContext || got.Duration != o.Duration || !got.SelfRenew {
		t.Errorf("TokenOptions(Exec(o)) = %+v, want %+v", got, o)
	}
	for name, e := range map[string]*clientcmdapi.ExecConfig{
		"none":              nil,
		"no args":           {Command: "kubemint"},
		"another verb":      {Command: "kubemint", Args: []string{"status"}},
		"a flag it has not": {Command: "kubemint", Args: []string{"token", "--nope"}},
	} {
		if _, err := TokenOptions(e); err == nil {
			t.Errorf("%s: TokenOptions succeeded, want an error", name)
		}
	}
}
