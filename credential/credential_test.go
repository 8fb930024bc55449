package credential

import (
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func validOptions() Options {
	return Options{ServiceAccount: "ci/deployer", Duration: time.Hour, Cache: "auto"}
}

func TestValidate(t *testing.T) {
	tests := map[string]struct {
		change  func(o *Options)
		wantErr string
	}{
		"defaults":              {change: func(o *Options) {}},
		"no account":            {change: func(o *Options) { o.ServiceAccount = "" }, wantErr: "--service-account is required"},
		"no namespace":          {change: func(o *Options) { o.ServiceAccount = "deployer" }, wantErr: "must be NAMESPACE/NAME"},
		"too many slashes":      {change: func(o *Options) { o.ServiceAccount = "a/b/c" }, wantErr: "must be NAMESPACE/NAME"},
		"empty name":            {change: func(o *Options) { o.ServiceAccount = "ci/" }, wantErr: "must be NAMESPACE/NAME"},
		"dotted name":           {change: func(o *Options) { o.ServiceAccount = "ci/deploy.bot-1" }},
		"upper-case namespace":  {change: func(o *Options) { o.ServiceAccount = "CI/deployer" }, wantErr: `namespace "CI" is not a valid name`},
		"dotted namespace":      {change: func(o *Options) { o.ServiceAccount = "c.i/deployer" }, wantErr: `namespace "c.i" is not a valid name`},
		"namespace of 64":       {change: func(o *Options) { o.ServiceAccount = strings.Repeat("a", 64) + "/deployer" }, wantErr: "is not a valid name"},
		"name with underscore":  {change: func(o *Options) { o.ServiceAccount = "ci/deploy_bot" }, wantErr: `"deploy_bot" is not a valid service account name`},
		"name ends with dash":   {change: func(o *Options) { o.ServiceAccount = "ci/deployer-" }, wantErr: "is not a valid service account name"},
		"name with empty label": {change: func(o *Options) { o.ServiceAccount = "ci/a..b" }, wantErr: "is not a valid service account name"},
		"name with space":       {change: func(o *Options) { o.ServiceAccount = "ci/de ployer" }, wantErr: "is not a valid service account name"},
		"name of 254":           {change: func(o *Options) { o.ServiceAccount = "ci/" + strings.Repeat("a.", 126) + "aa" }, wantErr: "at most 253"},
		"ten minutes":           {change: func(o *Options) { o.Duration = 10 * time.Minute }},
		"under ten minutes":     {change: func(o *Options) { o.Duration = 9*time.Minute + 59*time.Second }, wantErr: "--duration must be at least 10m"},
		"negative duration":     {change: func(o *Options) { o.Duration = -time.Hour }, wantErr: "greater than or equal to 0"},
		"sub-second duration":   {change: func(o *Options) { o.Duration = time.Hour + time.Millisecond }, wantErr: "units less than seconds"},
		"refresh too long":      {change: func(o *Options) { o.RefreshBefore = time.Hour }, wantErr: "--refresh-before (1h) must be shorter than --duration (1h)"},
		"empty audience":        {change: func(o *Options) { o.Audiences = []string{""} }, wantErr: "--audience must not be an empty string"},
		"bound secret":          {change: func(o *Options) { o.BoundObjectKind, o.BoundObjectName = "Secret", "s" }},
		"bound pod with uid":    {change: func(o *Options) { o.BoundObjectKind, o.BoundObjectName, o.BoundObjectUID = "Pod", "p", "u" }},
		"bound node":            {change: func(o *Options) { o.BoundObjectKind, o.BoundObjectName = "Node", "n" }, wantErr: "supported --bound-object-kind values are Pod, Secret"},
		"bound kind no name":    {change: func(o *Options) { o.BoundObjectKind = "Secret" }, wantErr: "--bound-object-name is required"},
		"bound name no kind":    {change: func(o *Options) { o.BoundObjectName = "s" }, wantErr: "--bound-object-name can only be set"},
		"bound uid no kind":     {change: func(o *Options) { o.BoundObjectUID = "u" }, wantErr: "--bound-object-uid can only be set"},
		"unknown cache backend": {change: func(o *Options) { o.Cache = "disk" }, wantErr: "--cache must be one of"},
		"github actions":        {change: func(o *Options) { o.SourceContext, o.SourceGitHubActions, o.SourceAudience = "", true, "k8s" }},
		"github actions server": {change: func(o *Options) { o.SourceContext, o.SourceGitHubActions, o.SourceServer = "", true, "https://x" }},
		"github and context":    {change: func(o *Options) { o.SourceContext, o.SourceGitHubActions = "admin", true }, wantErr: "choose one source"},
		"github and token env":  {change: func(o *Options) { o.SourceContext, o.SourceGitHubActions, o.SourceTokenEnv = "", true, "T" }, wantErr: "choose one source"},
		"token env":             {change: func(o *Options) { o.SourceContext, o.SourceTokenEnv, o.SourceCA = "", "CI_JOB_JWT_KUBE", "/ca" }},
		"token env bad name":    {change: func(o *Options) { o.SourceContext, o.SourceTokenEnv = "", "1X" }, wantErr: "--source-token-env takes the name of an environment variable"},
		"token env with equals": {change: func(o *Options) { o.SourceContext, o.SourceTokenEnv = "", "A=B" }, wantErr: "--source-token-env takes the name"},
		"audience without gh":   {change: func(o *Options) { o.SourceContext, o.SourceTokenEnv, o.SourceAudience = "", "T", "k8s" }, wantErr: "--source-audience goes with --source-github-actions"},
		"server with context":   {change: func(o *Options) { o.SourceServer = "https://x" }, wantErr: "--source-server and --source-certificate-authority go with"},
		"allow-server":          {change: func(o *Options) { o.AllowServers = []string{"https://lb.example:6443", "http://127.0.0.1:8080"} }},
		"allow-server no host":  {change: func(o *Options) { o.AllowServers = []string{"lb.example:6443"} }, wantErr: `--allow-server takes an API server's URL, as a kubeconfig cluster's server field has it (for example --allow-server=https://prod.example.com:6443), got "lb.example:6443"`},
		"allow-server empty":    {change: func(o *Options) { o.AllowServers = []string{""} }, wantErr: `--allow-server takes an API server's URL`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			o := validOptions()
			tt.change(&o)
			err := o.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSameServer(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"https://a.example:6443", "https://a.example:6443", true},
		{"https://a.example:6443", "HTTPS://A.Example:6443/", true},
		{"https://a.example", "https://a.example:443", true},
		{"http://a.example:80", "http://a.example", true},
		{"https://a.example/prefix/", "https://a.example/prefix", true},
		{"https://a.example:6443", "https://a.example:6444", false},
		{"https://a.example:80", "https://a.example", false},
		{"https://a.example:6443", "http://a.example:6443", false},
		{"https://127.0.0.1:6443", "https://localhost:6443", false},
		{"https://a.example/x", "https://a.example/y", false},
		{"https://a.example", "https://a.example.evil", false},
		// Go's strings.ToLower folds U+0130 (İ) to "i", but the HTTP client
		// looks the host up by its IDNA form, k8s.xn--itops-7fd.com: a
		// domain anyone may register. Only ASCII case is folded.
		{"https://k8s.itops.com", "https://k8s.İtops.com", false},
		{"https://kube.example", "https://Kube.example", false},
		{"https://ÄPI.example", "https://äpi.example", false},
	}
	for _, tt := range tests {
		if got := SameServer(tt.a, tt.b); got != tt.want {
			t.Errorf("SameServer(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestKey(t *testing.T) {
	base := validOptions()
	cluster := Cluster{Server: "https://a.example:6443", CertificateAuthorityData: []byte("ca-a")}
	baseKey := Key(&base, cluster)
	if len(baseKey) != 64 {
		t.Fatalf("key %q is not a hex SHA-256", baseKey)
	}
	same := map[string]func(o *Options, c *Cluster){
		"audiences in another order": func(o *Options, c *Cluster) {},
		"duplicate audience":         func(o *Options, c *Cluster) {},
		"flags parsed again":         func(o *Options, c *Cluster) { o.Verbosity = 9; o.Cache = "file"; o.RequestTimeout = 5 * time.Second },
		"no --allow-server":          func(o *Options, c *Cluster) { o.AllowServers = []string{} },
	}
	withAuds := base
	withAuds.Audiences = []string{"b", "a"}
	audKey := Key(&withAuds, cluster)
	for name, change := range same {
		o, c := base, cluster
		o.Audiences = []string{"a", "b"}
		if name == "duplicate audience" {
			o.Audiences = []string{"a", "b", "a"}
		}
		change(&o, &c)
		if got := Key(&o, c); got != audKey {
			t.Errorf("%s: key changed", name)
		}
	}
	differ := map[string]func(o *Options, c *Cluster){
		"server":     func(o *Options, c *Cluster) { c.Server = "https://b.example:6443" },
		"CA":         func(o *Options, c *Cluster) { c.CertificateAuthorityData = []byte("ca-b") },
		"no CA":      func(o *Options, c *Cluster) { c.CertificateAuthorityData = nil },
		"namespace":  func(o *Options, c *Cluster) { o.ServiceAccount = "prod/deployer" },
		"name":       func(o *Options, c *Cluster) { o.ServiceAccount = "ci/other" },
		"audience":   func(o *Options, c *Cluster) { o.Audiences = []string{"vault"} },
		"duration":   func(o *Options, c *Cluster) { o.Duration = 2 * time.Hour },
		"bound kind": func(o *Options, c *Cluster) { o.BoundObjectKind, o.BoundObjectName = "Secret", "x" },
		"bound uid": func(o *Options, c *Cluster) {
			o.BoundObjectKind, o.BoundObjectName, o.BoundObjectUID = "Secret", "x", "1"
		},
		// Two clusters behind one URL and CA, reached by two sources, must
		// not share an entry: prod's token would be sent to staging.
		"source context":    func(o *Options, c *Cluster) { o.SourceContext = "staging-admin" },
		"source kubeconfig": func(o *Options, c *Cluster) { o.SourceKubeconfig = "/home/u/.kube/staging" },
		"in-cluster source": func(o *Options, c *Cluster) { o.SourceContext = ""; o.SourceInCluster = true },
		"token-file source": func(o *Options, c *Cluster) { o.SourceContext = ""; o.SourceTokenFile = "/run/ci/token" },
		// Keyless CI: the kind, and what names the identity within it.
		"github source": func(o *Options, c *Cluster) { o.SourceContext = ""; o.SourceGitHubActions = true },
		"github source audience": func(o *Options, c *Cluster) {
			o.SourceContext = ""
			o.SourceGitHubActions = true
			o.SourceAudience = "prod"
		},
		"token-env source":    func(o *Options, c *Cluster) { o.SourceContext = ""; o.SourceTokenEnv = "KUBE_ID_TOKEN" },
		"token-env other var": func(o *Options, c *Cluster) { o.SourceContext = ""; o.SourceTokenEnv = "OTHER_ID_TOKEN" },
		// An entry minted while a server was allowed is not served once
		// it is not.
		"allow-server": func(o *Options, c *Cluster) { o.AllowServers = []string{"https://lb.example"} },
		// "ci/deployer" + "x" must not collide with "ci/deploye" + "rx".
		"field boundary": func(o *Options, c *Cluster) { o.ServiceAccount = "ci/deploye"; c.Server = "rhttps://a.example:6443" },
	}
	seen := map[string]string{baseKey: "base"}
	for name, change := range differ {
		o, c := base, cluster
		change(&o, &c)
		k := Key(&o, c)
		if prev, ok := seen[k]; ok {
			t.Errorf("%s: same key as %s", name, prev)
		}
		seen[k] = name
	}
}

func TestParseExecInfo(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    ExecInfo
		wantErr string
	}{
		"run by hand": {in: "", want: ExecInfo{APIVersion: APIVersionV1}},
		"v1 with cluster": {
			in:   `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://x:6443","certificate-authority-data":"Y2E="},"interactive":true}}`,
			want: ExecInfo{APIVersion: APIVersionV1, Interactive: true, Cluster: &Cluster{Server: "https://x:6443", CertificateAuthorityData: []byte("ca")}},
		},
		"v1beta1 without cluster": {
			in:   `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`,
			want: ExecInfo{APIVersion: APIVersionV1beta1},
		},
		"not JSON":      {in: `{`, wantErr: "not valid JSON"},
		"huge":          {in: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"` + strings.Repeat("x", MaxExecInfo) + `"}}}`, wantErr: "more than client-go ever sends"},
		"whitespace":    {in: " ", wantErr: "not valid JSON"},
		"wrong kind":    {in: `{"kind":"Pod","apiVersion":"v1"}`, wantErr: `kind "Pod"`},
		"v1alpha1":      {in: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`, wantErr: "kubemint speaks"},
		"bad CA base64": {in: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"s","certificate-authority-data":"!!"}}}`, wantErr: "not valid JSON"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseExecInfo(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
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

func FuzzParseExecInfo(f *testing.F) {
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://x"}}}`)
	f.Add(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1"}`)
	f.Add(`{`)
	f.Fuzz(func(t *testing.T, s string) {
		info, err := ParseExecInfo(s)
		if err == nil && info.APIVersion != APIVersionV1 && info.APIVersion != APIVersionV1beta1 {
			t.Errorf("accepted apiVersion %q", info.APIVersion)
		}
		if err != nil && s != "" && len(s) > 8 && strings.Contains(err.Error(), s) {
			t.Errorf("error quotes the input")
		}
	})
}

// TestKeySourceKubeconfigFromEnv: without --source-kubeconfig the source is
// the file $KUBECONFIG names, so the key follows it, as the token would.
func TestKeySourceKubeconfigFromEnv(t *testing.T) {
	o := validOptions()
	o.SourceContext = "admin"
	cluster := Cluster{Server: "https://a.example:6443"}
	t.Setenv("KUBECONFIG", "/home/u/.kube/prod")
	prod := Key(&o, cluster)
	t.Setenv("KUBECONFIG", "/home/u/.kube/staging")
	if Key(&o, cluster) == prod {
		t.Errorf("two $KUBECONFIG files share a key")
	}
	o.SourceKubeconfig = "/etc/kubemint/kubeconfig"
	flag := Key(&o, cluster)
	t.Setenv("KUBECONFIG", "/home/u/.kube/prod")
	if Key(&o, cluster) != flag {
		t.Errorf("$KUBECONFIG changed the key although --source-kubeconfig is set")
	}
}

// The key names whose source it is beyond the flags' spelling: a relative
// path is taken from the working directory, the token in
// --source-token-env by its issuer, subject and audience, and a GitHub
// Actions source by its repository and ref. Two jobs on one shared-uid
// runner, or one relative path in two directories, never share an entry.
// unsigned is token with its header changed to alg none and no signature.
func unsigned(token string) string {
	parts := strings.Split(token, ".")
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
}

func rawJWT(claims string) string {
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".c2ln"
}

func TestKeySourceIdentity(t *testing.T) {
	jwtFor := func(sub string) string {
		payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://token.actions.githubusercontent.com","sub":"` + sub + `","aud":"kubernetes","exp":1}`))
		return "eyJhbGciOiJSUzI1NiJ9." + payload + ".c2ln"
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	cluster := Cluster{Server: "https://a.example:6443"}
	tests := []struct {
		name string
		set  func(o *Options) // applied to a fresh Options, then for the second key too
		env  [2]map[string]string
		dirs [2]string
		same bool
	}{
		{name: "relative token file in two directories", set: func(o *Options) { o.SourceTokenFile = "token" }, dirs: [2]string{dirA, dirB}},
		{name: "relative token file, one directory", set: func(o *Options) { o.SourceTokenFile = "token" }, dirs: [2]string{dirA, dirA}, same: true},
		{name: "relative kubeconfig in two directories", set: func(o *Options) { o.SourceKubeconfig = "kc"; o.SourceContext = "x" }, dirs: [2]string{dirA, dirB}},
		{name: "relative CA in two directories", set: func(o *Options) { o.SourceTokenFile = "/t"; o.SourceCA = "ca.crt" }, dirs: [2]string{dirA, dirB}},
		{name: "relative $KUBECONFIG in two directories", set: func(o *Options) { o.SourceContext = "x" }, env: [2]map[string]string{{"KUBECONFIG": "kc"}, {"KUBECONFIG": "kc"}}, dirs: [2]string{dirA, dirB}},
		{name: "token-env: two subjects", set: func(o *Options) { o.SourceTokenEnv = "ID_TOKEN" },
			env: [2]map[string]string{{"ID_TOKEN": jwtFor("repo:a/a:ref:refs/heads/main")}, {"ID_TOKEN": jwtFor("repo:b/b:ref:refs/heads/main")}}},
		// The claims are not verified: a forged unsigned JWT that copies
		// another job's must not be served that job's token.
		{name: "token-env: one subject, a forged unsigned token", set: func(o *Options) { o.SourceTokenEnv = "ID_TOKEN" },
			env: [2]map[string]string{{"ID_TOKEN": jwtFor("repo:a/a:ref:refs/heads/main")}, {"ID_TOKEN": unsigned(jwtFor("repo:a/a:ref:refs/heads/main"))}}},
		{name: "token-env: opaque tokens", set: func(o *Options) { o.SourceTokenEnv = "ID_TOKEN" },
			env: [2]map[string]string{{"ID_TOKEN": "opaque-1"}, {"ID_TOKEN": "opaque-2"}}},
		{name: "token-env: one token", set: func(o *Options) { o.SourceTokenEnv = "ID_TOKEN" },
			env: [2]map[string]string{{"ID_TOKEN": jwtFor("repo:a/a:ref:refs/heads/main")}, {"ID_TOKEN": jwtFor("repo:a/a:ref:refs/heads/main") + "\n"}}, same: true},
		// iss "a\nb", sub "c" and iss "a", sub "b\nc" were one identity
		// when joined with newlines.
		{name: "token-env: claims that joined alike", set: func(o *Options) { o.SourceTokenEnv = "ID_TOKEN" },
			env: [2]map[string]string{{"ID_TOKEN": rawJWT(`{"iss":"a\nb","sub":"c","aud":"k"}`)}, {"ID_TOKEN": rawJWT(`{"iss":"a","sub":"b\nc","aud":"k"}`)}}},
		{name: "github: two repositories", set: func(o *Options) { o.SourceGitHubActions = true },
			env: [2]map[string]string{{"GITHUB_REPOSITORY": "a/a"}, {"GITHUB_REPOSITORY": "b/b"}}},
		{name: "github: two workflow refs", set: func(o *Options) { o.SourceGitHubActions = true },
			env: [2]map[string]string{{"GITHUB_WORKFLOW_REF": "a/a/.github/workflows/x.yml@refs/heads/main"}, {"GITHUB_WORKFLOW_REF": "a/a/.github/workflows/y.yml@refs/heads/main"}}},
		{name: "github: two refs", set: func(o *Options) { o.SourceGitHubActions = true },
			env: [2]map[string]string{{"GITHUB_REF": "refs/heads/main"}, {"GITHUB_REF": "refs/pull/1/merge"}}},
	}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys [2]string
			for i := range keys {
				for _, k := range []string{"KUBECONFIG", "ID_TOKEN", "GITHUB_REPOSITORY", "GITHUB_WORKFLOW_REF", "GITHUB_REF"} {
					t.Setenv(k, tt.env[i][k])
				}
				if tt.dirs[i] != "" {
					if err := os.Chdir(tt.dirs[i]); err != nil {
						t.Fatal(err)
					}
				}
				o := validOptions()
				o.SourceContext = ""
				tt.set(&o)
				keys[i] = Key(&o, cluster)
			}
			if (keys[0] == keys[1]) != tt.same {
				t.Errorf("same key = %v, want %v", keys[0] == keys[1], tt.same)
			}
		})
	}
}
