package exchange

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kubemint/kubemint/internal/hint"
)

// TestRedirectsAreRefused: a real HTTPS server that redirects, to plain
// http elsewhere or to another path of its own, gets no request followed:
// neither GitHub's request token nor a source's bearer token reaches the
// target, and no answer from it is used. Before, both were followed, and
// the plain server got the credential in clear text.
func TestRedirectsAreRefused(t *testing.T) {
	var plainHits, sameHostHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the plain http server got an Authorization header")
		}
		// What an attacker answers: an ID token, a TokenRequest.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"value":"attacker.id.token","kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","status":{"token":"attacker-token","expirationTimestamp":"2030-01-01T00:00:00Z"}}`))
	}))
	defer plain.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/away/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+strings.TrimPrefix(r.URL.Path, "/away")+"?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/same/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/other/", http.StatusFound)
	})
	mux.HandleFunc("/other/", func(w http.ResponseWriter, r *http.Request) { sameHostHits.Add(1) })
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")

	for name, tc := range map[string]struct {
		path, wantTo, wantStatus string
	}{
		"https to http elsewhere": {"/away/", plain.URL, "307 Temporary Redirect"},
		"https, same host":        {"/same/", "https://" + host, "302 Found"},
	} {
		t.Run("GitHub/"+name, func(t *testing.T) {
			githubTransport = srv.Client().Transport
			defer func() { githubTransport = nil }()
			t.Setenv(GitHubRequestURLEnv, srv.URL+tc.path+"idtoken?api-version=2.0")
			t.Setenv(GitHubRequestTokenEnv, "request-token")
			tok, err := githubIDToken(context.Background(), "kubernetes", 5*time.Second)
			if err == nil {
				t.Fatalf("used the ID token %q from the redirect's target", tok)
			}
			for _, want := range []string{"GitHub's ID-token endpoint", srv.URL + " answered with a redirect (" + tc.wantStatus + ") to " + tc.wantTo, "kubemint follows no redirect"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "request-token") || strings.Contains(err.Error(), "idtoken") {
				t.Errorf("error %q names the request token or the target's path", err)
			}
		})
		t.Run("API server/"+name, func(t *testing.T) {
			cfg := &rest.Config{Host: srv.URL + strings.TrimSuffix(tc.path, "/"), BearerToken: "source-bearer-token",
				TLSClientConfig: rest.TLSClientConfig{CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})}}
			c, err := NewClient(cfg, `context "admin"`, nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := c.Mint(context.Background(), Request{Namespace: "ci", Name: "deployer", Duration: time.Hour})
			if err == nil {
				t.Fatalf("used the token %q from the redirect's target", tok.Token)
			}
			for _, want := range []string{"answered with a redirect (" + tc.wantStatus + ") to " + tc.wantTo, "kubemint follows no redirect"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if hs := strings.Join(hint.Hints(err), " "); !strings.Contains(hs, "at the API server itself") {
				t.Errorf("hints %q name no fix", hs)
			}
			if strings.Contains(err.Error(), "source-bearer-token") {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
	if n := plainHits.Load(); n != 0 {
		t.Errorf("the plain http server got %d requests", n)
	}
	if n := sameHostHits.Load(); n != 0 {
		t.Errorf("the same-host redirect was followed %d times", n)
	}
}
