package resolve

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"slices"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/internal/hint"
)

// The server pin (credential/pin.go states the rule): a credential goes
// only to a server the user pinned. The exec info's cluster comes from
// whichever context runs the exec user, so it pins nothing by itself.

// notPinnedError is the error of a call whose exec info names a server
// the source does not pin.
type notPinnedError struct {
	// Cluster is the exec info's server, where kubectl would send the token.
	Cluster string
	// Source names the source; Server is its own server ("" for a token
	// source without --source-server).
	Source, Server string
}

func (e *notPinnedError) Error() string {
	if e.Server == "" {
		return fmt.Sprintf("the exec entry's cluster is %s, and %s names no API server of its own: kubemint sends it only to a server pinned with --source-server or --allow-server", e.Cluster, e.Source)
	}
	return fmt.Sprintf("the exec entry's cluster is %s, but %s is for %s: kubemint sends credentials only to the server its source names", e.Cluster, e.Source, e.Server)
}

// notPinned is notPinnedError with the fixes.
func notPinned(cluster, source, server string) error {
	err := &notPinnedError{Cluster: cluster, Source: source, Server: server}
	if server == "" {
		return hint.Wrap(err, fmt.Sprintf("if %s is the API server to mint on, add --source-server=%s (or --allow-server=%s, which takes its CA from the kubeconfig) to the exec entry's args", cluster, cluster, cluster))
	}
	return hint.Wrap(err,
		fmt.Sprintf("if %s is %s under another name, add --allow-server=%s to the exec entry's args", cluster, server, cluster),
		fmt.Sprintf("otherwise use this exec user only with a context whose cluster is %s", server))
}

// checkPin refuses a source whose own server is server (a kubeconfig
// context's, the pod's) for the exec info's cluster, unless they are the
// same server or --allow-server names the cluster.
func checkPin(o *credential.Options, cluster *credential.Cluster, source, server string) error {
	if cluster == nil || credential.SameServer(cluster.Server, server) || o.Allowed(cluster.Server) {
		return nil
	}
	return notPinned(cluster.Server, source, server)
}

// checkCA refuses an exec info cluster that verifies the source's server
// with a certificate authority the source does not trust. The pin compares
// URLs, but kubectl sends the token wherever the context's TLS settings
// let it: a context with the pinned server's URL, a CA of its own and a
// proxy-url (or a DNS answer) of someone else's would hand the token to
// whoever holds that CA's key. Each certificate of the exec info's CA must
// be one of the source's. Where either side names no CA (the system's
// roots) there is nothing to compare; a token source takes its CA from the
// exec info, so its CA is the same.
func checkCA(cluster *credential.Cluster, source string, sourceCA []byte) error {
	if cluster == nil || len(cluster.CertificateAuthorityData) == 0 || len(sourceCA) == 0 {
		return nil
	}
	ours := certificates(sourceCA)
	theirs := certificates(cluster.CertificateAuthorityData)
	trusted := len(theirs) > 0
	for _, c := range theirs {
		trusted = trusted && slices.ContainsFunc(ours, func(o []byte) bool { return bytes.Equal(o, c) })
	}
	if trusted {
		return nil
	}
	return hint.Wrap(fmt.Errorf("the exec entry's cluster (%s) trusts a certificate authority that %s does not: kubemint sends credentials only where the source's own CA verifies the server", cluster.Server, source),
		"use this exec user only with a context whose cluster has the source's certificate-authority-data (the context kubemint setup or kubemint use wrote)",
		"after the cluster's CA changed: run kubemint setup (or kubemint use) again to write the new one")
}

// certificates returns the DER bytes of each certificate in a PEM bundle.
func certificates(b []byte) [][]byte {
	var out [][]byte
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return out
		}
		if block.Type == "CERTIFICATE" {
			out = append(out, block.Bytes)
		}
	}
}
