package exchange

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The error of a hung plugin names it with its arguments, but not the
// values of those that are credentials (kubelogin's
// --oidc-client-secret=...).
func TestHungPluginMasksSecretArgs(t *testing.T) {
	tests := []struct {
		args []string
		want string
		leak string
	}{
		{[]string{"oidc-login", "get-token", "--oidc-issuer-url=https://issuer", "--oidc-client-secret=hunter2-secret"}, "oidc-login get-token --oidc-issuer-url=https://issuer --oidc-client-secret=[redacted]", "hunter2-secret"},
		{[]string{"--token", "opaque-value", "--region", "eu"}, "--token [redacted] --region eu", "opaque-value"},
		{[]string{"--Password=pw12345678"}, "--Password=[redacted]", "pw12345678"},
		{[]string{"--api-key", "--verbose"}, "--api-key --verbose", ""},
		{[]string{"eks", "get-token", "--cluster-name", "prod"}, "eks get-token --cluster-name prod", ""},
	}
	for _, tt := range tests {
		s := &Source{Label: `context "x"`, Config: &rest.Config{ExecProvider: &clientcmdapi.ExecConfig{Command: "plugin", Args: tt.args}}}
		msg := s.hung(time.Second).Error()
		if !strings.Contains(msg, "(plugin "+tt.want+")") || (tt.leak != "" && strings.Contains(msg, tt.leak)) {
			t.Errorf("args %q: %s\nwant (plugin %s)", tt.args, msg, tt.want)
		}
	}
}
