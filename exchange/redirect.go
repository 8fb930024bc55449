package exchange

import (
	"fmt"
	"net/http"
)

// Every request kubemint makes that carries a credential it holds (the
// source's, a minted token, GitHub's request token) follows no redirect:
// a redirect would take the credential, or the answer that is then used
// as one, to a server the user never named, perhaps in clear text (an
// https answer that redirects to http). No API server redirects the
// requests kubemint makes, nor does GitHub's ID-token endpoint, so all
// are refused rather than some judged safe.

// RedirectError is a redirect kubemint refused to follow.
type RedirectError struct {
	// Server is the scheme and host that answered with the redirect.
	Server string
	// Status is its status line, for example "307 Temporary Redirect".
	Status string
	// To is the scheme and host it pointed to (never the path or query,
	// which may carry anything).
	To string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s answered with a redirect (%s) to %s; kubemint follows no redirect with a credential", e.Server, e.Status, e.To)
}

// redirectError describes req, a request http.Client built to follow a
// redirect (req.Response is the answer that asked for it).
func redirectError(req *http.Request) *RedirectError {
	e := &RedirectError{To: req.URL.Scheme + "://" + req.URL.Host}
	if resp := req.Response; resp != nil {
		e.Status = resp.Status
		if prev := resp.Request; prev != nil {
			e.Server = prev.URL.Scheme + "://" + prev.URL.Host
		}
	}
	return e
}

// refuseRedirect is an http.Client's CheckRedirect that refuses every
// redirect.
func refuseRedirect(req *http.Request, _ []*http.Request) error {
	return redirectError(req)
}

// noRedirectRoundTripper refuses, before it is sent, a request that
// follows a redirect. client-go builds its own http.Client, whose
// CheckRedirect cannot be set, and adds the credential in a round tripper
// above this one: here is the last place to stop it.
type noRedirectRoundTripper struct{ next http.RoundTripper }

// WrappedRoundTripper lets client-go reach the transport beneath, to cancel
// a request that timed out.
func (n *noRedirectRoundTripper) WrappedRoundTripper() http.RoundTripper { return n.next }

func (n *noRedirectRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Response != nil {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, redirectError(r)
	}
	return n.next.RoundTrip(r)
}
