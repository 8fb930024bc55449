package exchange

import (
	"crypto/tls"
	"fmt"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/kubemint/kubemint/internal/hint"
)

// checkClientCert checks the client certificate and key of a source
// context's user, when it has them (sourceFiles has read any files into
// cfg), so that a broken pair is reported as what it is. Left to
// client-go, it is loaded at the TLS handshake, and the failure reads as
// a TLS failure, which kubemint would blame on the CA. certFile and
// keyFile name the files they came from, if any.
func checkClientCert(cfg *rest.Config, contextName, user, certFile, keyFile string) error {
	if len(cfg.CertData) == 0 && len(cfg.KeyData) == 0 {
		return nil
	}
	if _, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData); err != nil {
		return hint.Wrap(fmt.Errorf("%s cannot be used: %v", clientCertName(contextName, user, certFile, keyFile), err), "fix client-certificate and client-key (or their -data forms) in the kubeconfig")
	}
	return nil
}

// clientCertName names a user's client certificate in messages: the
// context, the user, and the files when they are files.
func clientCertName(contextName, user, certFile, keyFile string) string {
	var files []string
	if certFile != "" {
		files = append(files, "client-certificate "+certFile)
	}
	if keyFile != "" {
		files = append(files, "client-key "+keyFile)
	}
	where := fmt.Sprintf("user %q", user)
	if len(files) > 0 {
		where += ": " + strings.Join(files, ", ")
	}
	return fmt.Sprintf("the client certificate of context %q (%s)", contextName, where)
}
