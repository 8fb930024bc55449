package e2e

// Keyless CI: a CI system's own OIDC token is kubemint's source. The shared
// control plane trusts two local OIDC issuers, standing in for GitHub
// Actions and GitLab CI, through the AuthenticationConfiguration of
// docs/ci/authentication-config.yaml as written (only the issuer URLs and
// their CA differ); the RBAC of docs/ci/rbac.yaml is applied as written.
// A fake is used only for what no real server here can produce: the CI
// systems' issuers and GitHub's ID-token request endpoint.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The names docs/ci/*.yaml use: the real issuers, and the subjects their
// RoleBinding grants minting to.
const (
	githubIssuer = "https://token.actions.githubusercontent.com"
	gitlabIssuer = "https://gitlab.com"
	githubMain   = "repo:octo-org/app:ref:refs/heads/main"
	gitlabMain   = "project_path:octo-group/app:ref_type:branch:ref:main"
)

// ciIssuers is one local HTTPS server that serves two OIDC issuers
// (/github and /gitlab: discovery and JWKS) and GitHub's ID-token request
// endpoint (/github-idtoken).
type ciIssuers struct {
	srv    *httptest.Server
	key    *ecdsa.PrivateKey
	caFile string

	mu sync.Mutex
	// requestTokens maps an ACTIONS_ID_TOKEN_REQUEST_TOKEN to the sub of
	// the job it belongs to.
	requestTokens map[string]string
	// asked counts the ID-token requests, by audience.
	asked map[string]int
}

var ci *ciIssuers

func (c *ciIssuers) close() {
	if c != nil {
		c.srv.Close()
	}
}

func (c *ciIssuers) url(path string) string { return c.srv.URL + path }

// startCIIssuers starts the issuers and writes the AuthenticationConfiguration
// of the recipe, pointed at them, under dir. It returns the API server's
// flag that loads it.
func startCIIssuers(dir string) ([]string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	c := &ciIssuers{key: key, requestTokens: map[string]string{}, asked: map[string]int{}}
	mux := http.NewServeMux()
	for _, iss := range []string{"/github", "/gitlab"} {
		mux.HandleFunc(iss+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, map[string]any{
				"issuer":                                c.url(iss),
				"jwks_uri":                              c.url(iss + "/jwks"),
				"response_types_supported":              []string{"id_token"},
				"subject_types_supported":               []string{"public"},
				"id_token_signing_alg_values_supported": []string{"ES256"},
			})
		})
		mux.HandleFunc(iss+"/jwks", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, map[string]any{"keys": []map[string]string{{
				"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "ci-1",
				"x": b64(pad32(key.X)), "y": b64(pad32(key.Y)),
			}}})
		})
	}
	mux.HandleFunc("/github-idtoken", c.serveGitHubIDToken)
	// A stuck endpoint, and one that answers without end.
	mux.HandleFunc("/github-idtoken-hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	})
	mux.HandleFunc("/github-idtoken-huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(`{"value":"` + strings.Repeat("a", 64<<10))
		for i := 0; i < 1024 && r.Context().Err() == nil; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	c.srv = httptest.NewTLSServer(mux)
	ci = c
	c.caFile = filepath.Join(dir, "ci-issuer-ca.crt")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.srv.Certificate().Raw})
	if err := os.WriteFile(c.caFile, caPEM, 0o644); err != nil {
		return nil, err
	}
	recipe, err := os.ReadFile("../docs/ci/authentication-config.yaml")
	if err != nil {
		return nil, err
	}
	conf, err := pointAuthnConfig(string(recipe), caPEM, map[string]string{githubIssuer: c.url("/github"), gitlabIssuer: c.url("/gitlab")})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "authentication-config.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return []string{"--authentication-config=" + path}, nil
}

// pointAuthnConfig rewrites the recipe's issuer URLs to the local issuers
// and gives each the local CA; nothing else of the recipe changes.
func pointAuthnConfig(recipe string, caPEM []byte, urls map[string]string) (string, error) {
	var ca strings.Builder
	ca.WriteString("    certificateAuthority: |\n")
	for _, l := range strings.Split(strings.TrimSpace(string(caPEM)), "\n") {
		ca.WriteString("      " + l + "\n")
	}
	for real, local := range urls {
		line := "    url: " + real + "\n"
		if !strings.Contains(recipe, line) {
			return "", fmt.Errorf("docs/ci/authentication-config.yaml has no issuer %s", real)
		}
		recipe = strings.Replace(recipe, line, "    url: "+local+"\n"+ca.String(), 1)
	}
	return recipe, nil
}

// serveGitHubIDToken answers as GitHub's ID-token endpoint does: a GET
// with the job's request token as bearer and the audience as a query
// parameter, answered with {"count": N, "value": "<jwt>"}.
func (c *ciIssuers) serveGitHubIDToken(w http.ResponseWriter, r *http.Request) {
	scheme, reqToken, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	c.mu.Lock()
	sub, ok := c.requestTokens[reqToken]
	c.mu.Unlock()
	if r.Method != http.MethodGet || !strings.EqualFold(scheme, "bearer") || !ok {
		http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		http.Error(w, "the request URL lost its api-version", http.StatusBadRequest)
		return
	}
	aud := r.URL.Query().Get("audience")
	if aud == "" {
		// GitHub's default audience is the owner's URL.
		aud = "https://github.com/octo-org"
	}
	c.mu.Lock()
	c.asked[aud]++
	c.mu.Unlock()
	owner, _, _ := strings.Cut(strings.TrimPrefix(sub, "repo:"), "/")
	jwt := c.sign(map[string]any{
		"iss": c.url("/github"), "sub": sub, "aud": aud,
		"repository_owner": owner, "repository": "octo-org/app", "ref": "refs/heads/main",
	})
	writeJSON(w, map[string]any{"count": len(jwt), "value": jwt})
}

// githubJob registers a job whose ID tokens carry sub and returns the
// variables GitHub Actions sets for it.
func (c *ciIssuers) githubJob(t *testing.T, sub string) []string {
	t.Helper()
	reqToken := "ghs_" + randomHex(t, 20)
	c.mu.Lock()
	c.requestTokens[reqToken] = sub
	c.mu.Unlock()
	return []string{
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + c.url("/github-idtoken?api-version=2.0"),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + reqToken,
		// The runner trusts GitHub's endpoint through the system's CAs;
		// here, the local one's.
		"SSL_CERT_FILE=" + c.caFile,
	}
}

// gitlabToken is the JWT GitLab CI puts in a job's id_tokens variable.
func (c *ciIssuers) gitlabToken(sub, aud string) string {
	return c.sign(map[string]any{"iss": c.url("/gitlab"), "sub": sub, "aud": aud, "namespace_path": "octo-group", "project_path": "octo-group/app"})
}

func (c *ciIssuers) askedFor(aud string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.asked[aud]
}

// sign returns an ES256 JWT with claims, valid for five minutes as CI
// tokens are.
func (c *ciIssuers) sign(claims map[string]any) string {
	now := time.Now()
	claims["iat"], claims["nbf"], claims["exp"] = now.Unix(), now.Add(-time.Minute).Unix(), now.Add(5*time.Minute).Unix()
	claims["jti"] = fmt.Sprint(now.UnixNano())
	h, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "ci-1"})
	p, _ := json.Marshal(claims)
	signed := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, c.key, sum[:])
	if err != nil {
		panic(err)
	}
	return signed + "." + b64(append(pad32(r), pad32(s)...))
}

func pad32(n *big.Int) []byte {
	b := make([]byte, 32)
	return n.FillBytes(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

// applyCIRBAC applies docs/ci/rbac.yaml as written.
func applyCIRBAC(t *testing.T) {
	t.Helper()
	manifest, err := os.ReadFile("../docs/ci/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := admin(string(manifest), "apply", "-f", "-"); err != nil {
		t.Fatalf("applying docs/ci/rbac.yaml: %v: %s", err, stderr)
	}
}

// runnerKubeconfig writes a runner's kubeconfig in the shape of the one
// docs/recipes.md shows (kubemint kubeconfig's output; TestTeamRunnerKubeconfig
// runs that command itself): the cluster's CA inline, `command: kubemint`
// found on PATH, and the CI source's flags. It holds no credential.
func runnerKubeconfig(t *testing.T, u *userEnv, provideClusterInfo bool, tokenArgs ...string) string {
	t.Helper()
	ca, err := os.ReadFile(w.cp.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	var quoted []string
	for _, a := range append([]string{"token"}, tokenArgs...) {
		quoted = append(quoted, fmt.Sprintf("%q", a))
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: deployer
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubemint
      args: [%s]
      interactiveMode: Never
      provideClusterInfo: %t
      installHint: install kubemint on the runner (see https://github.com/kubemint/kubemint)
contexts:
- name: deploy
  context: {cluster: prod, user: deployer, namespace: ci}
current-context: deploy
`, w.cp.Server, encodeBase64(ca), strings.Join(quoted, ", "), provideClusterInfo)
	path := filepath.Join(u.home, "runner.kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// noLongLivedSecret fails when the runner's kubeconfig holds a credential.
func noLongLivedSecret(t *testing.T, kubeconfig string) {
	t.Helper()
	b, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"token:", "tokenFile:", "client-key", "client-certificate", "password:", "--source-kubeconfig", "--source-context"} {
		if strings.Contains(string(b), field) {
			t.Errorf("the runner's kubeconfig holds %s:\n%s", field, b)
		}
	}
}

func TestCIGitHubActions(t *testing.T) {
	applyCIRBAC(t)
	u := newUserEnv(t)
	// The recipe's args exactly (what kubemint kubeconfig writes): the
	// default audience (kubernetes) and cache (auto: files, on a runner
	// without D-Bus), and the cluster's server pinned.
	kubeconfig := runnerKubeconfig(t, u, true, "--service-account=ci/deployer", "--source-github-actions", "--allow-server="+w.cp.Server)
	noLongLivedSecret(t, kubeconfig)
	job := ci.githubJob(t, githubMain)
	env := append([]string{"KUBECONFIG=" + kubeconfig}, job...)

	before := ci.askedFor("kubernetes")
	r := u.run(t, env, w.kubectl, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	if r.code != 0 || r.stdout != "system:serviceaccount:ci:deployer" {
		t.Fatalf("kubectl auth whoami through the runner's kubeconfig: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := ci.askedFor("kubernetes") - before; got != 1 {
		t.Errorf("GitHub's ID-token endpoint was asked %d times for audience kubernetes, want 1", got)
	}
	// The service account's own rights (the seed's pod reader) apply.
	if r := u.run(t, env, w.kubectl, "get", "pods"); r.code != 0 {
		t.Fatalf("kubectl get pods as ci/deployer: exit %d:\n%s", r.code, r.stderr)
	}
	// The second call was a cache hit: no new ID token.
	if got := ci.askedFor("kubernetes") - before; got != 1 {
		t.Errorf("GitHub's ID-token endpoint was asked %d times in all, want 1 (the cache answers the second call)", got)
	}
}

func TestCIGitHubActionsSecretsNeverPrinted(t *testing.T) {
	applyCIRBAC(t)
	u := newUserEnv(t)
	job := ci.githubJob(t, githubMain)
	r := u.run(t, append([]string{"KUBERNETES_EXEC_INFO=" + execInfo(t, "client.authentication.k8s.io/v1")}, job...),
		filepath.Join(w.binDir, "kubemint"), "token", "--service-account=ci/deployer", "--source-github-actions", "--allow-server="+w.cp.Server, "--cache=none", "-v=9")
	if r.code != 0 {
		t.Fatalf("kubemint token: exit %d:\n%s", r.code, r.stderr)
	}
	// The log must be there for its silence about secrets to mean
	// anything: the mint's request and its outcome, at least.
	for _, want := range []string{"kubemint: POST https://", "/api/v1/namespaces/ci/serviceaccounts/deployer/token", "kubemint: minted a token for ci/deployer"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr at -v=9 lacks %q, so it proves nothing about secrets:\n%s", want, r.stderr)
		}
	}
	reqToken := strings.TrimPrefix(job[1], "ACTIONS_ID_TOKEN_REQUEST_TOKEN=")
	if reqToken == "" || strings.Contains(r.stderr, reqToken) {
		t.Errorf("stderr at -v=9 shows ACTIONS_ID_TOKEN_REQUEST_TOKEN:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "eyJ") {
		t.Errorf("stderr at -v=9 shows a JWT:\n%s", r.stderr)
	}
}

func TestCIGitHubActionsFailures(t *testing.T) {
	applyCIRBAC(t)
	kubemint := filepath.Join(w.binDir, "kubemint")
	info := "KUBERNETES_EXEC_INFO=" + execInfo(t, "client.authentication.k8s.io/v1")
	args := []string{"token", "--service-account=ci/deployer", "--source-github-actions", "--allow-server=" + w.cp.Server, "--cache=none"}

	t.Run("no id-token permission", func(t *testing.T) {
		u := newUserEnv(t)
		r := u.run(t, []string{info}, kubemint, args...)
		oneErrorLine(t, r, "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN", "permissions: id-token: write")
	})
	t.Run("request token refused", func(t *testing.T) {
		u := newUserEnv(t)
		job := ci.githubJob(t, githubMain)
		job[1] = "ACTIONS_ID_TOKEN_REQUEST_TOKEN=ghs_expired"
		r := u.run(t, append([]string{info}, job...), kubemint, args...)
		oneErrorLine(t, r, "refused ACTIONS_ID_TOKEN_REQUEST_TOKEN", "401", "permissions: id-token: write")
	})
	t.Run("audience the cluster does not trust", func(t *testing.T) {
		u := newUserEnv(t)
		job := ci.githubJob(t, githubMain)
		r := u.run(t, append([]string{info}, job...), kubemint, append(args, "--source-audience=sts.amazonaws.com")...)
		oneErrorLine(t, r, "401 Unauthorized", `audience "sts.amazonaws.com"`, "--source-audience", "AuthenticationConfiguration")
	})
	t.Run("identity without the RBAC rule", func(t *testing.T) {
		u := newUserEnv(t)
		// A feature branch of the same repository: trusted by the
		// issuer's rules, not granted minting by the RoleBinding.
		job := ci.githubJob(t, "repo:octo-org/app:ref:refs/heads/feature")
		r := u.run(t, append([]string{info}, job...), kubemint, args...)
		oneErrorLine(t, r, "may not mint tokens for ci/deployer",
			"--role=kubemint-minter-deployer --user=github:repo:octo-org/app:ref:refs/heads/feature", "--minter=user:github:repo:octo-org/app:ref:refs/heads/feature")
	})
	t.Run("endpoint hangs", func(t *testing.T) {
		u := newUserEnv(t)
		job := ci.githubJob(t, githubMain)
		job[0] = "ACTIONS_ID_TOKEN_REQUEST_URL=" + ci.url("/github-idtoken-hang?api-version=2.0")
		start := time.Now()
		r := u.run(t, append([]string{info}, job...), kubemint, append(args, "--request-timeout=2s")...)
		oneErrorLine(t, r, "GitHub's ID-token endpoint", "--request-timeout")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("kubemint took %v with --request-timeout=2s", d)
		}
	})
	t.Run("endpoint answers without end", func(t *testing.T) {
		u := newUserEnv(t)
		job := ci.githubJob(t, githubMain)
		job[0] = "ACTIONS_ID_TOKEN_REQUEST_URL=" + ci.url("/github-idtoken-huge?api-version=2.0")
		r := u.run(t, append([]string{info}, job...), kubemint, args...)
		oneErrorLine(t, r, "larger than 16 KiB")
	})
	t.Run("through kubectl", func(t *testing.T) {
		// kubectl shows kubemint's line; nothing hangs or retries for long.
		u := newUserEnv(t)
		kubeconfig := runnerKubeconfig(t, u, true, "--service-account=ci/deployer", "--source-github-actions", "--allow-server="+w.cp.Server)
		start := time.Now()
		r := u.run(t, []string{"KUBECONFIG=" + kubeconfig}, w.kubectl, "auth", "whoami")
		if r.code == 0 || !strings.Contains(r.stderr, "permissions: id-token: write") {
			t.Fatalf("kubectl without the id-token permission: exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("kubectl took %v to fail", d)
		}
	})
}

func TestCIGitLabTokenEnv(t *testing.T) {
	applyCIRBAC(t)
	u := newUserEnv(t)
	// Without provideClusterInfo (the Python and JavaScript clients send
	// none): the API server comes from --source-server and its CA.
	kubeconfig := runnerKubeconfig(t, u, false, "--service-account=ci/deployer", "--source-token-env=KUBE_ID_TOKEN",
		"--source-server="+w.cp.Server, "--source-certificate-authority="+w.cp.CAFile)
	noLongLivedSecret(t, kubeconfig)
	env := []string{"KUBECONFIG=" + kubeconfig, "KUBE_ID_TOKEN=" + ci.gitlabToken(gitlabMain, "kubernetes")}
	r := u.run(t, env, w.kubectl, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	if r.code != 0 || r.stdout != "system:serviceaccount:ci:deployer" {
		t.Fatalf("kubectl auth whoami with GitLab's id_token: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}

	kubemint := filepath.Join(w.binDir, "kubemint")
	args := []string{"token", "--service-account=ci/deployer", "--source-token-env=KUBE_ID_TOKEN", "--source-server=" + w.cp.Server,
		"--source-certificate-authority=" + w.cp.CAFile, "--cache=none"}
	t.Run("variable not set", func(t *testing.T) {
		r := newUserEnv(t).run(t, nil, kubemint, args...)
		oneErrorLine(t, r, "KUBE_ID_TOKEN is not set", "id_tokens")
	})
	t.Run("wrong audience", func(t *testing.T) {
		tok := ci.gitlabToken(gitlabMain, "https://gitlab.com")
		r := newUserEnv(t).run(t, []string{"KUBE_ID_TOKEN=" + tok}, kubemint, args...)
		oneErrorLine(t, r, "401 Unauthorized", "$KUBE_ID_TOKEN", "audience", "AuthenticationConfiguration")
		if strings.Contains(r.stderr, tok) {
			t.Errorf("stderr shows the token")
		}
	})
	t.Run("identity without the RBAC rule", func(t *testing.T) {
		sub := "project_path:octo-group/app:ref_type:branch:ref:feature"
		r := newUserEnv(t).run(t, []string{"KUBE_ID_TOKEN=" + ci.gitlabToken(sub, "kubernetes")}, kubemint, args...)
		oneErrorLine(t, r, "may not mint tokens for ci/deployer", "--user=gitlab:"+sub)
	})
}

// TestCITokenEnvForgedTokenNotServed: a job caches a token minted with
// GitLab's real id_token; another process under the same uid puts a
// forged, unsigned JWT with the same issuer, subject and audience in the
// variable. kubemint used to serve it the cached token (the key held the
// claims, which it cannot verify); now the forged token is its own entry,
// and the cluster refuses it.
func TestCITokenEnvForgedTokenNotServed(t *testing.T) {
	applyCIRBAC(t)
	u := newUserEnv(t)
	real := ci.gitlabToken(gitlabMain, "kubernetes")
	parts := strings.Split(real, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	args := []string{"token", "--service-account=ci/deployer", "--source-token-env=KUBE_ID_TOKEN", "--source-server=" + w.cp.Server,
		"--source-certificate-authority=" + w.cp.CAFile}
	kubemint := filepath.Join(w.binDir, "kubemint")
	r := u.run(t, []string{"KUBE_ID_TOKEN=" + real}, kubemint, args...)
	if r.code != 0 {
		t.Fatalf("with the real id_token: exit %d:\n%s", r.code, r.stderr)
	}
	r = u.run(t, []string{"KUBE_ID_TOKEN=" + forged}, kubemint, args...)
	if r.code == 0 || r.stdout != "" {
		t.Errorf("the forged token was served the cached token: exit %d, stdout %q", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, "401 Unauthorized") {
		t.Errorf("want the cluster's refusal of the forged token:\n%s", r.stderr)
	}
	if r := u.run(t, []string{"KUBE_ID_TOKEN=" + real}, kubemint, args...); r.code != 0 || r.stdout == "" {
		t.Errorf("the real token again: exit %d:\n%s", r.code, r.stderr)
	}
}
