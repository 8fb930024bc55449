package exchange

import (
	"fmt"
	"os"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/internal/hint"
)

// sourceFiles reads every file a source context names with ReadBounded
// (a regular file, opened without blocking, of bounded size) and puts
// what it read into the kubeconfig in their place, so that client-go,
// which would read them itself with os.ReadFile (the tokenFile as it
// builds the config, the others as it builds the transport), never opens
// one: a named pipe there hung kubemint past --request-timeout and
// SIGTERM, and /dev/zero grew it to gigabytes. The tokenFile, the
// client-certificate and client-key, and the certificate-authority
// become token, client-certificate-data, client-key-data and
// certificate-authority-data; the exec plugin's command, which is run
// and not read, must be a regular file.
//
// client-go re-reads a tokenFile once a minute for a long-lived client;
// kubemint is a new process for every mint and reads it afresh each time,
// so a rotated token is picked up as before.
//
// It returns the client certificate and key files, to name them in
// messages, and changes the user and cluster of contextName in raw.
func sourceFiles(raw *clientcmdapi.Config, contextName string) (certFile, keyFile string, err error) {
	kctx := raw.Contexts[contextName]
	name := fmt.Sprintf("context %q", contextName)
	if c := raw.Clusters[kctx.Cluster]; c != nil && c.CertificateAuthority != "" {
		c = c.DeepCopy()
		if len(c.CertificateAuthorityData) == 0 {
			if c.CertificateAuthorityData, err = ReadBounded(c.CertificateAuthority, "the certificate-authority of "+name+",", CAFileLimit); err != nil {
				return "", "", hint.Wrap(err, "fix certificate-authority of cluster "+kctx.Cluster+" in the kubeconfig")
			}
		}
		c.CertificateAuthority = ""
		raw.Clusters[kctx.Cluster] = c
	}
	u := raw.AuthInfos[kctx.AuthInfo]
	if u == nil {
		return "", "", nil
	}
	u = u.DeepCopy()
	raw.AuthInfos[kctx.AuthInfo] = u
	user := fmt.Sprintf("the user %q of %s:", kctx.AuthInfo, name)
	if u.TokenFile != "" {
		if u.Token == "" {
			if u.Token, err = ReadTokenFile(u.TokenFile, user+" tokenFile"); err != nil {
				return "", "", hint.Wrap(err, "fix tokenFile in the kubeconfig")
			}
		}
		u.TokenFile = ""
	}
	certFile, keyFile = u.ClientCertificate, u.ClientKey
	if u.ClientCertificate != "" {
		if len(u.ClientCertificateData) == 0 {
			if u.ClientCertificateData, err = ReadBounded(u.ClientCertificate, user+" client-certificate", CAFileLimit); err != nil {
				return "", "", hint.Wrap(err, "fix client-certificate in the kubeconfig")
			}
		}
		u.ClientCertificate = ""
	}
	if u.ClientKey != "" {
		if len(u.ClientKeyData) == 0 {
			if u.ClientKeyData, err = ReadBounded(u.ClientKey, user+" client-key", CAFileLimit); err != nil {
				return "", "", hint.Wrap(err, "fix client-key in the kubeconfig")
			}
		}
		u.ClientKey = ""
	}
	if u.Exec != nil && strings.ContainsAny(u.Exec.Command, `/\`) {
		if err := checkExecutable(u.Exec.Command, user+" exec plugin"); err != nil {
			return "", "", hint.Wrap(err, "fix exec.command in the kubeconfig")
		}
	}
	return certFile, keyFile, nil
}

// checkExecutable refuses an exec plugin path that is not a regular file,
// named what in errors. It is run, not read, so it has no size bound, and
// it is only looked at (stat does not open it: an executable need not be
// readable, and a pipe is not waited on).
func checkExecutable(path, what string) error {
	fi, err := os.Stat(path)
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("%s %s does not exist", what, path)
	case err != nil:
		return fmt.Errorf("%s %s cannot be used: %w", what, path, err)
	}
	if err := regularWithin(fi, fi.Size()); err != nil {
		return fmt.Errorf("%s %s %v", what, path, err)
	}
	return nil
}
