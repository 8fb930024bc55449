package exchange

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/internal/hint"
)

func TestGitHubIDToken(t *testing.T) {
	var gotAuth, gotAud, gotVersion string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotAud, gotVersion = r.Header.Get("Authorization"), r.URL.Query().Get("audience"), r.URL.Query().Get("api-version")
		_, _ = w.Write([]byte(`{"count":7,"value":" header.payload.sig\n"}`))
	})
	mux.HandleFunc("/forbidden", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"count":0}`)) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"value":"` + strings.Repeat("a", 1<<20) + `"}`))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	githubTransport = srv.Client().Transport
	defer func() { githubTransport = nil }()

	tests := map[string]struct {
		url, token string
		want       string // the token, or a part of the error
		wantErr    bool
	}{
		"ok":                {url: srv.URL + "/ok?api-version=2.0", token: "rt", want: "header.payload.sig"},
		"no variables":      {wantErr: true, want: "needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN"},
		"no request token":  {url: srv.URL + "/ok", wantErr: true, want: "needs ACTIONS_ID_TOKEN_REQUEST_TOKEN, which"},
		"plain http":        {url: "http://127.0.0.1:1/ok", token: "rt", wantErr: true, want: "is not an https URL"},
		"refused":           {url: srv.URL + "/forbidden?api-version=2.0", token: "rt", wantErr: true, want: "permissions: id-token: write"},
		"server error":      {url: srv.URL + "/down?api-version=2.0", token: "rt", wantErr: true, want: "502 Bad Gateway"},
		"no value":          {url: srv.URL + "/empty?api-version=2.0", token: "rt", wantErr: true, want: "sent no token"},
		"answer over limit": {url: srv.URL + "/huge?api-version=2.0", token: "rt", wantErr: true, want: "larger than 16 KiB"},
		"hangs":             {url: srv.URL + "/slow?api-version=2.0", token: "rt", wantErr: true, want: "--request-timeout"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv(GitHubRequestURLEnv, tt.url)
			t.Setenv(GitHubRequestTokenEnv, tt.token)
			start := time.Now()
			got, err := githubIDToken(context.Background(), "kubernetes", 500*time.Millisecond)
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v with a 500ms timeout", time.Since(start))
			}
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error = %v, want one containing %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "rt ") || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q shows the request token or spans lines", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
			if gotAuth != "bearer rt" || gotAud != "kubernetes" || gotVersion != "2.0" {
				t.Errorf("request: Authorization %q, audience %q, api-version %q", gotAuth, gotAud, gotVersion)
			}
		})
	}
}

func TestTokenEnv(t *testing.T) {
	t.Setenv("KUBE_ID_TOKEN", " a.b.c\n")
	src, err := TokenEnv("KUBE_ID_TOKEN", "https://k8s.example:6443", nil)
	if err != nil || src.Config.BearerToken != "a.b.c" || src.Label != "the token in $KUBE_ID_TOKEN" {
		t.Fatalf("TokenEnv = %+v, %v", src, err)
	}
	for name, tt := range map[string]struct{ value, server, want string }{
		"unset":     {server: "https://k8s.example:6443", want: "KUBE_ID_TOKEN is not set or empty"},
		"too large": {value: strings.Repeat("a", 17<<10), server: "https://k8s.example:6443", want: "larger than 16 KiB"},
		"no server": {value: "a.b.c", want: "the API server for --source-token-env is unknown\npass --source-server=URL"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("KUBE_ID_TOKEN", tt.value)
			_, err := TokenEnv("KUBE_ID_TOKEN", tt.server, nil)
			// The fix is a hint line of its own, as for --source-token-file.
			if err == nil || !strings.Contains(strings.Join(append([]string{err.Error()}, hint.Hints(err)...), "\n"), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestCISourcesWithoutServer: with no API server known, both CI sources
// say so in the error line and put the fix in a hint line.
func TestCISourcesWithoutServer(t *testing.T) {
	t.Setenv("KUBE_ID_TOKEN", "a.b.c")
	_, envErr := TokenEnv("KUBE_ID_TOKEN", "", nil)
	_, ghErr := GitHubActions(context.Background(), "", "", nil, time.Second)
	for flag, err := range map[string]error{"--source-token-env": envErr, "--source-github-actions": ghErr} {
		want := "the API server for " + flag + " is unknown"
		if err == nil || err.Error() != want {
			t.Errorf("%s: error = %v, want %q", flag, err, want)
		}
		if hs := hint.Hints(err); len(hs) != 1 || !strings.Contains(hs[0], "provideClusterInfo: true") {
			t.Errorf("%s: hints = %q", flag, hs)
		}
	}
}

// TestEmptyKubeconfigHint: a source kubeconfig with no contexts gets a
// hint that fits kubemint use (your own login) as well as setup, not one
// that sends a teammate for admin credentials.
func TestEmptyKubeconfigHint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSource(path, "")
	hs := strings.Join(hint.Hints(err), "\n")
	if err == nil || !strings.Contains(hs, "your own login for kubemint use") || strings.Contains(hs, "admin credentials") {
		t.Errorf("error = %v, hints = %q", err, hs)
	}
}
