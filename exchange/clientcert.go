package exchange

import (
	"crypto/tls"
	"fmt"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/kubemint/kubemint/internal/hint"
)

// checkClientCert loads the client certificate and key of a source
// context's user, when it has them, so that a broken pair is reported as
// what it is. Left to client-go, it is loaded at the TLS handshake, and
// the failure reads as a TLS failure, which kubemint would blame on the
// CA.
func checkClientCert(cfg *rest.Config, contextName, user string) error {
	if cfg.CertFile == "" && len(cfg.CertData) == 0 && cfg.KeyFile == "" && len(cfg.KeyData) == 0 {
		return nil
	}
	what := clientCertName(cfg, contextName, user)
	certPEM, keyPEM := cfg.CertData, cfg.KeyData
	var err error
	if len(certPEM) == 0 && cfg.CertFile != "" {
		if certPEM, err = ReadBounded(cfg.CertFile, "client-certificate", CAFileLimit); err != nil {
			return hint.Wrap(fmt.Errorf("%s: %v", what, err), "fix client-certificate in the kubeconfig")
		}
	}
	if len(keyPEM) == 0 && cfg.KeyFile != "" {
		if keyPEM, err = ReadBounded(cfg.KeyFile, "client-key", CAFileLimit); err != nil {
			return hint.Wrap(fmt.Errorf("%s: %v", what, err), "fix client-key in the kubeconfig")
		}
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return hint.Wrap(fmt.Errorf("%s cannot be used: %v", what, err), "fix client-certificate and client-key (or their -data forms) in the kubeconfig")
	}
	return nil
}

// clientCertName names a user's client certificate in messages: the
// context, the user, and the files when they are files.
func clientCertName(cfg *rest.Config, contextName, user string) string {
	var files []string
	if cfg.CertFile != "" {
		files = append(files, "client-certificate "+cfg.CertFile)
	}
	if cfg.KeyFile != "" {
		files = append(files, "client-key "+cfg.KeyFile)
	}
	where := fmt.Sprintf("user %q", user)
	if len(files) > 0 {
		where += ": " + strings.Join(files, ", ")
	}
	return fmt.Sprintf("the client certificate of context %q (%s)", contextName, where)
}
