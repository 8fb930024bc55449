//go:build unix

package e2e

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// encodings are the ways a server or proxy may echo what it was sent: the
// escapes of a URL, an HTML page, a JSON string, and a long line folded.
var encodings = map[string]func(string) string{
	"url":  url.QueryEscape,
	"%XX":  func(s string) string { return escapeEach(s, "%%%02X") },
	"html": func(s string) string { return escapeEach(s, "&#%d;") },
	"hex":  func(s string) string { return escapeEach(s, "&#x%x;") },
	"json": func(s string) string { return escapeEach(s, `\u%04x`) },
	"folded": func(s string) string {
		var b strings.Builder
		for len(s) > 12 {
			b.WriteString(s[:12] + "\n    ")
			s = s[12:]
		}
		return b.String() + s
	},
}

func escapeEach(s, format string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, format, s[i])
	}
	return b.String()
}

// TestRedactsEncodedEchoesThroughProxy: kubemint reaches its source's
// server through a real CONNECT proxy given in HTTPS_PROXY with a user
// name and password. The server (httptest: a real API server echoes
// nothing) answers the TokenRequest with 500 and a body that echoes the
// source's token in every encoding above; a second proxy refuses the
// credential and echoes it, URL-encoded, in its status line. Neither the
// token, nor the proxy's password, nor any encoding of them reaches stderr
// (at -v=0 and -v=10) or the failed-mint record in the cache.
func TestRedactsEncodedEchoesThroughProxy(t *testing.T) {
	const token = "opaque-source-token-4f9c2a7e1b+/=="
	const user, password = "proxyuser", "pr0xy p@ss/w0rd"
	echo := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(http.StatusInternalServerError)
		auth := r.Header.Get("Authorization")
		for name, enc := range encodings {
			fmt.Fprintf(rw, "%s: %s\n", name, enc(auth))
		}
	}))
	defer echo.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: echo.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	// example.com is in httptest's certificate; the proxy dials the server.
	server := "https://example.com:" + echo.URL[strings.LastIndex(echo.URL, ":")+1:]
	proxyCred := url.UserPassword(user, password).String()
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	secrets := []string{token, password, url.QueryEscape(password), basic, "p@ss"}
	for _, enc := range encodings {
		secrets = append(secrets, enc(token)[:12], enc(basic)[:12])
	}
	for i := 0; i+10 <= len(token); i++ {
		secrets = append(secrets, token[i:i+10]) // a folded line's piece
	}
	for _, refuse := range []bool{false, true} {
		addr, seen := connectProxy(t, echo.Listener.Addr().String(), refuse)
		for _, v := range []string{"-v=0", "-v=10"} {
			t.Run(fmt.Sprintf("refuse=%v/%s", refuse, v), func(t *testing.T) {
				u := newUserEnv(t)
				r := u.run(t, []string{"HTTPS_PROXY=http://" + proxyCred + "@" + addr, "NO_PROXY="}, filepath.Join(w.binDir, "kubemint"),
					"token", "--service-account=ci/deployer", v, "--source-token-file="+tokenFile, "--source-server="+server, "--source-certificate-authority="+ca)
				if r.code == 0 {
					t.Fatalf("exit 0 from a server that answers 500")
				}
				if got := seen(); len(got) == 0 || got[len(got)-1] != "Basic "+basic {
					t.Fatalf("the proxy saw Proxy-Authorization %q; want the HTTPS_PROXY credential (is the proxy used?)", got)
				}
				want := "[redacted]"
				if !refuse && !strings.Contains(r.stderr, "folded:") {
					t.Errorf("the echoed body is not quoted in the error:\n%s", r.stderr)
				}
				failed, _ := filepath.Glob(filepath.Join(u.cache, "kubemint", "*.failed"))
				var record []byte
				if len(failed) == 1 {
					record, _ = os.ReadFile(failed[0])
				} else {
					t.Errorf("failed-mint records %v, want one", failed)
				}
				for _, s := range secrets {
					if strings.Contains(r.stderr, s) {
						t.Errorf("stderr holds %q:\n%s", s, r.stderr)
					}
					if strings.Contains(string(record), s) {
						t.Errorf("the failed-mint record holds %q:\n%s", s, record)
					}
				}
				if !strings.Contains(r.stderr, want) {
					t.Errorf("nothing masked on stderr:\n%s", r.stderr)
				}
			})
		}
	}
}
