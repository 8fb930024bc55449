package resolve

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/redact"
)

// LoadSource is loadSource for kubemint doctor, which checks the source an
// exec entry names as the entry's own mint would load it.
func LoadSource(ctx context.Context, o *credential.Options, cluster *credential.Cluster, stderr io.Writer) (*exchange.Source, error) {
	return loadSource(ctx, o, cluster, stderr)
}

// loadSource loads the source o configures: a pod's own token, a token
// file, a CI system's OIDC token (GitHub Actions' ID-token endpoint, or a
// variable), or (the default) a kubeconfig context. cluster, when known, is
// the exec info's: the server kubectl sends the minted token to, which the
// source must pin (see pin.go) before anything is read or sent. A token
// source without --source-server mints on it when --allow-server names it.
// The source's bearer token is registered with stderr's redactor.
func loadSource(ctx context.Context, o *credential.Options, cluster *credential.Cluster, stderr io.Writer) (*exchange.Source, error) {
	var src *exchange.Source
	var err error
	switch {
	case o.SourceInCluster:
		src, err = exchange.InCluster()
	case o.SourceTokenFile != "" || o.SourceGitHubActions || o.SourceTokenEnv != "":
		server, ca := o.SourceServer, []byte(nil)
		if cluster != nil {
			if !o.FlagsPin(cluster.Server) {
				return nil, notPinned(cluster.Server, o.SourceFlag(), o.SourceServer)
			}
			// A pinned server: the kubeconfig's CA for it serves unless
			// --source-certificate-authority names one.
			ca = cluster.CertificateAuthorityData
			if server == "" {
				server = cluster.Server
			}
		}
		if o.SourceCA != "" {
			if ca, err = exchange.ReadBounded(o.SourceCA, "--source-certificate-authority", exchange.CAFileLimit); err != nil {
				return nil, err
			}
		}
		switch {
		case o.SourceGitHubActions:
			redact.Add(stderr, os.Getenv(exchange.GitHubRequestTokenEnv))
			src, err = exchange.GitHubActions(ctx, o.SourceAudience, server, ca, o.RequestTimeout)
		case o.SourceTokenEnv != "":
			src, err = exchange.TokenEnv(o.SourceTokenEnv, server, ca)
		default:
			src, err = exchange.TokenFile(o.SourceTokenFile, server, ca)
		}
	default:
		src, err = exchange.LoadSource(o.SourceKubeconfig, o.SourceContext)
	}
	if err != nil {
		return nil, err
	}
	if err := checkPin(o, cluster, src.Label, src.Server); err != nil {
		return nil, err
	}
	if err := checkCA(cluster, src.Label, src.CAData); err != nil {
		return nil, err
	}
	if o.RequestTimeout > 0 {
		src.Config.Timeout = o.RequestTimeout
	}
	registerSource(src, stderr)
	return src, nil
}

// registerSource tells stderr's redactor the source's bearer token: the
// one in its config (a kubeconfig's tokenFile is read into it by
// exchange.LoadSource; client-go never reads a source's file).
func registerSource(src *exchange.Source, stderr io.Writer) {
	if src == nil || src.Config == nil {
		return
	}
	redact.Add(stderr, src.Config.BearerToken)
	if pw := src.Config.Password; pw != "" {
		redact.Add(stderr, pw)
		redact.Add(stderr, base64.StdEncoding.EncodeToString([]byte(src.Config.Username+":"+pw)))
	}
	// A token client-go gets from the source's exec plugin (EKS, GKE,
	// kubelogin) is known only when a request carries it: client-go's
	// auth wrappers sit outside this one, so it sees the final header.
	src.Config.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &authRoundTripper{next: rt, add: func(s string) { redact.Add(stderr, s) }}
	})
}

// authRoundTripper registers every outgoing Authorization value with the
// redactor before the request leaves: an API server or proxy that echoes
// it in an error body must not print it.
type authRoundTripper struct {
	next http.RoundTripper
	add  func(string)
}

// WrappedRoundTripper lets client-go reach the transport beneath, to cancel
// a request that timed out.
func (a *authRoundTripper) WrappedRoundTripper() http.RoundTripper { return a.next }

func (a *authRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	for _, v := range r.Header.Values("Authorization") {
		a.add(v)
		scheme, cred, ok := strings.Cut(v, " ")
		if !ok {
			continue
		}
		cred = strings.TrimSpace(cred)
		a.add(cred)
		if strings.EqualFold(scheme, "basic") {
			if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
				if _, pw, ok := strings.Cut(string(b), ":"); ok {
					a.add(pw)
				}
			}
		}
	}
	return a.next.RoundTrip(r)
}
