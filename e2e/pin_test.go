package e2e

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// captureServer is an HTTPS server that is not the cluster: it records the
// Authorization header of every request it gets and answers 401.
type captureServer struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newCaptureServer(t *testing.T) *captureServer {
	t.Helper()
	c := &captureServer{}
	c.Server = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.auth = append(c.auth, r.Header.Get("Authorization"))
		c.mu.Unlock()
		http.Error(rw, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":401,"reason":"Unauthorized"}`, http.StatusUnauthorized)
	}))
	t.Cleanup(c.Close)
	return c
}

// got returns the Authorization headers it received.
func (c *captureServer) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{}, c.auth...)
}

// caPEM is the server's certificate, which is its own CA.
func (c *captureServer) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate().Raw})
}

// execInfoFor is the KUBERNETES_EXEC_INFO client-go sends for a cluster
// at server verified with caPEM.
func execInfoFor(server string, caPEM []byte) string {
	return fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":%q,"certificate-authority-data":%q},"interactive":false}}`,
		server, encodeBase64(caPEM))
}

// TestServerPinContextReuse: a context that reuses a kubemint exec user
// with another cluster is refused, by real kubectl, with one line that
// names both servers, and that cluster gets no token; one API server under
// a second name works once --allow-server names it. Before the pin,
// kubemint minted on the source's cluster and kubectl sent the token to
// the other server.
func TestServerPinContextReuse(t *testing.T) {
	u := newUserEnv(t)
	other := newCaptureServer(t)
	alias := strings.Replace(w.cp.Server, "127.0.0.1", "localhost", 1)
	otherCA := filepath.Join(t.TempDir(), "other-ca.crt")
	if err := os.WriteFile(otherCA, other.caPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin")
	// Two more contexts with the deployer's exec user: one on a server
	// that is not the cluster, one on the cluster under another name.
	b, err := os.ReadFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "clusters:\n", fmt.Sprintf("clusters:\n- name: other\n  cluster: {server: %s, certificate-authority: %s}\n- name: alias\n  cluster: {server: %s, certificate-authority: %s}\n", other.URL, otherCA, alias, w.cp.CAFile), 1)
	cfg = strings.Replace(cfg, "contexts:\n", "contexts:\n- name: reuse\n  context: {cluster: other, user: deployer}\n- name: alias\n  context: {cluster: alias, user: deployer}\n", 1)
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	u.vars = append(u.vars, "KUBECONFIG="+kc)

	r := u.kubectl(t, "--context=reuse", "get", "pods")
	if r.code == 0 {
		t.Fatalf("kubectl --context=reuse succeeded:\n%s", r.stdout)
	}
	want := "kubemint: error: the exec entry's cluster is " + other.URL + `, but context "admin" is for ` + w.cp.Server
	if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "kubemint: hint: if "+other.URL+" is "+w.cp.Server+" under another name, add --allow-server="+other.URL) {
		t.Errorf("kubectl's stderr lacks %q and the --allow-server hint:\n%s", want, r.stderr)
	}
	for _, a := range other.got() {
		if a != "" {
			scheme, _, _ := strings.Cut(a, " ")
			t.Errorf("the other server got a credential (%s, %d bytes)", scheme, len(a))
		}
	}
	// Straight from kubemint: one line and its hints.
	oneErrorLine(t, u.kubemint(t, execInfoFor(other.URL, other.caPEM()), "token", "--service-account=ci/deployer", "--source-context=admin"),
		"the exec entry's cluster is "+other.URL, `context "admin" is for `+w.cp.Server, "--allow-server="+other.URL)

	// The same cluster under another name: refused by default, served
	// with --allow-server.
	if r := u.kubectl(t, "--context=alias", "get", "pods"); r.code == 0 || !strings.Contains(r.stderr, "the exec entry's cluster is "+alias) {
		t.Errorf("kubectl --context=alias without --allow-server: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	allowed := u.kubeconfig(t, "--service-account=ci/deployer", "--source-context=admin", "--allow-server="+alias)
	b, _ = os.ReadFile(allowed)
	cfg = strings.Replace(string(b), "clusters:\n", fmt.Sprintf("clusters:\n- name: alias\n  cluster: {server: %s, certificate-authority: %s}\n", alias, w.cp.CAFile), 1)
	cfg = strings.Replace(cfg, "contexts:\n", "contexts:\n- name: alias\n  context: {cluster: alias, user: deployer}\n", 1)
	if err := os.WriteFile(allowed, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := u.kubectl(t, "--context=alias", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); r.code != 0 || r.stdout != "system:serviceaccount:ci:deployer" {
		t.Errorf("kubectl --context=alias with --allow-server: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestServerPinTokenSources: a token source that names no server of its
// own (--source-token-file, --source-token-env, --source-github-actions
// without --source-server) never sends its token, one that can mint, to a
// server the exec info names unless --allow-server pins it. Before the
// pin, the source's token went to whatever the exec info named.
func TestServerPinTokenSources(t *testing.T) {
	applyCIRBAC(t)
	token := minter(t)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		flag string
		env  func(t *testing.T) []string
	}{
		{"token file", "--source-token-file=" + file, func(*testing.T) []string { return nil }},
		{"token env", "--source-token-env=KUBE_ID_TOKEN", func(*testing.T) []string { return []string{"KUBE_ID_TOKEN=" + token} }},
		{"github actions", "--source-github-actions", func(t *testing.T) []string { return ci.githubJob(t, githubMain) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUserEnv(t)
			other := newCaptureServer(t)
			asked := ci.askedFor("kubernetes")
			args := []string{"token", "--service-account=ci/deployer", tc.flag, "--cache=none"}
			env := append(tc.env(t), "KUBERNETES_EXEC_INFO="+execInfoFor(other.URL, other.caPEM()))
			r := u.run(t, env, filepath.Join(w.binDir, "kubemint"), args...)
			oneErrorLine(t, r, "the exec entry's cluster is "+other.URL, "names no API server of its own", "--source-server="+other.URL)
			if got := other.got(); len(got) != 0 {
				t.Errorf("the server the exec info named got %d requests", len(got))
			}
			if tc.flag == "--source-github-actions" && ci.askedFor("kubernetes") != asked {
				t.Errorf("GitHub's ID-token endpoint was asked for a token that could go nowhere")
			}
			// Pinned, the exec info's cluster (the real one) is used.
			env = append(tc.env(t), "KUBERNETES_EXEC_INFO="+execInfo(t, "client.authentication.k8s.io/v1"))
			if r := u.run(t, env, filepath.Join(w.binDir, "kubemint"), append(args, "--allow-server="+w.cp.Server)...); r.code != 0 {
				t.Errorf("with --allow-server: exit %d:\n%s", r.code, r.stderr)
			}
		})
	}
}

// redirector is a real HTTPS server whose every answer redirects (307) to
// a plain http server, which counts what reaches it.
type redirector struct {
	tls, plain *httptest.Server
	caFile     string
	mu         sync.Mutex
	plainHits  int
}

func newRedirector(t *testing.T) *redirector {
	t.Helper()
	r := &redirector{}
	r.plain = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.plainHits++
		r.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"value":"attacker.id.token"}`))
	}))
	r.tls = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		http.Redirect(rw, req, r.plain.URL+req.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(r.plain.Close)
	t.Cleanup(r.tls.Close)
	r.caFile = filepath.Join(t.TempDir(), "redirector-ca.crt")
	if err := os.WriteFile(r.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.tls.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *redirector) hits() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.plainHits
}

// TestRedirectsAreRefused: an https endpoint that redirects to plain http
// gets neither GitHub's request token nor a source's credential through
// to the http server, for the real kubemint: one line names the redirect.
// Before, both followed it (the request token in clear text) and the ID
// token from the plain answer was used.
func TestRedirectsAreRefused(t *testing.T) {
	t.Run("GitHub's ID-token endpoint", func(t *testing.T) {
		red := newRedirector(t)
		u := newUserEnv(t)
		env := []string{
			"ACTIONS_ID_TOKEN_REQUEST_URL=" + red.tls.URL + "/idtoken?api-version=2.0",
			"ACTIONS_ID_TOKEN_REQUEST_TOKEN=ghs_" + randomHex(t, 20),
			"SSL_CERT_FILE=" + red.caFile,
		}
		r := u.run(t, env, filepath.Join(w.binDir, "kubemint"), "token", "--service-account=ci/deployer", "--source-github-actions",
			"--source-server="+w.cp.Server, "--source-certificate-authority="+w.cp.CAFile, "--cache=none")
		oneErrorLine(t, r, "GitHub's ID-token endpoint", red.tls.URL+" answered with a redirect (307 Temporary Redirect) to "+red.plain.URL, "kubemint follows no redirect")
		if n := red.hits(); n != 0 {
			t.Errorf("the plain http server got %d requests", n)
		}
	})
	t.Run("a source context's API server", func(t *testing.T) {
		red := newRedirector(t)
		u := newUserEnv(t)
		src := filepath.Join(t.TempDir(), "source")
		writeKubeconfig(t, src, red.tls.URL, red.caFile)
		r := u.kubemint(t, "", "token", "--service-account=ci/deployer", "--source-kubeconfig="+src, "--source-context=admin", "--cache=none")
		oneErrorLine(t, r, "the API server "+red.tls.URL, "answered with a redirect (307 Temporary Redirect) to "+red.plain.URL, "at the API server itself")
		if n := red.hits(); n != 0 {
			t.Errorf("the plain http server got %d requests", n)
		}
	})
	t.Run("a token file's API server", func(t *testing.T) {
		red := newRedirector(t)
		u := newUserEnv(t)
		file := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(file, []byte("source-token-that-must-stay"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := u.kubemint(t, "", "token", "--service-account=ci/deployer", "--source-token-file="+file, "--source-server="+red.tls.URL, "--source-certificate-authority="+red.caFile, "--cache=none")
		oneErrorLine(t, r, "answered with a redirect (307 Temporary Redirect) to "+red.plain.URL)
		if n := red.hits(); n != 0 {
			t.Errorf("the plain http server got %d requests", n)
		}
	})
}
