package credential

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// The rule for where a credential may go (docs/security.md, "Where a
// credential may go"): kubemint sends a credential, the source's or a
// token it minted (which kubectl then sends), only to an API server the
// user pinned. A pinned server is the source's own (its kubeconfig
// cluster, the pod's API server, --source-server) or one named with
// --allow-server, a deliberate second name for one API server. The exec
// info's cluster, which comes from whichever kubeconfig context runs the
// exec user, pins nothing on its own.

// SameServer reports whether two API server URLs name the same server:
// scheme and host compared without ASCII case, a default port (443, 80) the
// same as none, and a trailing slash ignored. Anything else (another
// host name for the same address, another port) is another server.
func SameServer(a, b string) bool {
	return normalServer(a) == normalServer(b)
}

func normalServer(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	scheme, host := asciiLower(u.Scheme), asciiLower(u.Host)
	if h, ok := strings.CutSuffix(host, ":443"); ok && scheme == "https" {
		host = h
	} else if h, ok := strings.CutSuffix(host, ":80"); ok && scheme == "http" {
		host = h
	}
	return scheme + "://" + host + strings.TrimRight(u.Path, "/")
}

// asciiLower lowers ASCII letters only. Host names compare without regard
// to ASCII case, as DNS does; Unicode case folding is not what the HTTP
// client connects to: strings.ToLower folds "İ" to "i", while the client
// looks "k8s.İtops.com" up by its IDNA form, k8s.xn--itops-7fd.com, another
// domain. A non-ASCII letter must match as written.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Allowed reports whether server is one of --allow-server.
func (o *Options) Allowed(server string) bool {
	return slices.ContainsFunc(o.AllowServers, func(a string) bool { return SameServer(a, server) })
}

// NoServerPinned reports a source that has no API server of its own (a
// bearer token from a file, a variable or GitHub: --source-server unset),
// so that only --allow-server may name the exec info's cluster for it.
func (o *Options) NoServerPinned() bool {
	return o.bearerSource() && o.SourceServer == ""
}

// FlagsPin reports whether the flags alone pin server: --source-server
// or --allow-server. It is the whole check for a token source, which the
// lean front makes on every hit; a kubeconfig or in-cluster source's own
// server is known only once it is loaded.
func (o *Options) FlagsPin(server string) bool {
	return (o.SourceServer != "" && SameServer(o.SourceServer, server)) || o.Allowed(server)
}

// checkAllowServers validates --allow-server: an http(s) URL with a host,
// as a kubeconfig's server is.
func checkAllowServers(servers []string) error {
	for _, s := range servers {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("--allow-server takes an API server's URL, as a kubeconfig cluster's server field has it (for example --allow-server=https://prod.example.com:6443), got %q", s)
		}
	}
	return nil
}

// allowKey is --allow-server as the cache key holds it: normalized,
// sorted, without duplicates.
func allowKey(servers []string) []string {
	if len(servers) == 0 {
		return nil
	}
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = normalServer(s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
