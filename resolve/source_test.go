package resolve

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/redact"
)

// A token the source's exec plugin gives client-go (EKS, GKE: not a JWT)
// is registered with the redactor when a request carries it, and a
// basic-auth password and its base64 form at once: a server that echoes
// them must not have them printed.
func TestRegisterSourceLearnsOutgoingCredentials(t *testing.T) {
	const execToken = "k8s-aws-v1.opaque-exec-token-1234567"
	var echoed string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echoed = r.Header.Get("Authorization")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, echoed)
	}))
	defer srv.Close()
	plugin := filepath.Join(t.TempDir(), "plugin.sh")
	script := "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"" + execToken + "\"}}'\n"
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     *rest.Config
		secrets []string
	}{
		{
			name: "exec plugin token",
			cfg: &rest.Config{Host: srv.URL, ExecProvider: &clientcmdapi.ExecConfig{
				Command: plugin, APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
			}},
			secrets: []string{execToken},
		},
		{
			name:    "basic auth",
			cfg:     &rest.Config{Host: srv.URL, Username: "admin", Password: "s3cret-password"},
			secrets: []string{"s3cret-password", base64.StdEncoding.EncodeToString([]byte("admin:s3cret-password"))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := redact.New(&out)
			registerSource(&exchange.Source{Config: tt.cfg}, r)
			hc, err := rest.HTTPClientFor(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for _, s := range append(tt.secrets, echoed) {
				if got := r.String("echo: " + s); strings.Contains(got, s) {
					t.Errorf("the redactor does not know %q (Authorization was %q): %q", s, echoed, got)
				}
			}
		})
	}
}
