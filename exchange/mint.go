package exchange

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubemint/kubemint/internal/hint"
)

// Request says which token to mint.
type Request struct {
	Namespace string
	Name      string
	Audiences []string
	Duration  time.Duration
	// BoundKind, BoundName and BoundUID bind the token to a Pod or Secret:
	// deleting the object revokes the token.
	BoundKind string
	BoundName string
	BoundUID  string
}

// Token is a minted token. Token is a secret: never log or print it.
type Token struct {
	Token  string
	Issued time.Time
	Expiry time.Time
}

// Logf receives progress messages at a verbosity level.
type Logf func(level int, format string, args ...any)

// Mint asks the API server of src for a token for the service account in
// req (POST .../serviceaccounts/NAME/token). Errors name the fix: the
// account to create, the RBAC rule to grant, the server that could not be
// reached.
func Mint(ctx context.Context, src *Source, req Request, logf Logf) (Token, error) {
	c, err := NewClient(src.Config, src.Label, logf)
	if err != nil {
		return Token{}, fmt.Errorf("%s: %w", src.Label, err)
	}
	c.plugin = src.plugin()
	c.refusedHint = src.RefusedHint
	// The result travels with the error through one channel, so that a
	// call abandoned by Bounded cannot race with this function's return.
	type result struct {
		tok Token
		err error
	}
	out := make(chan result, 1)
	err = src.Bounded(ctx, func(ctx context.Context) error {
		tok, err := c.Mint(ctx, req)
		out <- result{tok, err}
		return err
	})
	if err != nil {
		return Token{}, err
	}
	return (<-out).tok, nil
}

// Mint mints a token for the service account in req; see the function Mint.
func (c *Client) Mint(ctx context.Context, req Request) (Token, error) {
	tr := &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			Audiences: req.Audiences,
		},
	}
	if req.Duration > 0 {
		secs := int64(req.Duration / time.Second)
		tr.Spec.ExpirationSeconds = &secs
	}
	if req.BoundKind != "" {
		tr.Spec.BoundObjectRef = &authenticationv1.BoundObjectReference{
			Kind:       req.BoundKind,
			APIVersion: "v1",
			Name:       req.BoundName,
			UID:        types.UID(req.BoundUID),
		}
	}
	issued := time.Now()
	out := &authenticationv1.TokenRequest{}
	err := c.core.Post().
		Namespace(req.Namespace).
		Resource("serviceaccounts").
		Name(req.Name).
		SubResource("token").
		Body(tr).
		Do(ctx).
		Into(out)
	if err != nil {
		return Token{}, c.explain(err, req)
	}
	if out.Status.Token == "" {
		return Token{}, fmt.Errorf("the API server %s returned an empty token for %s/%s", c.Server, req.Namespace, req.Name)
	}
	expiry := c.localExpiry(issued, out.Status.ExpirationTimestamp.Time)
	if !expiry.After(issued) {
		return Token{}, fmt.Errorf("the API server %s returned a token for %s/%s that expires at %s, before it was issued", c.Server, req.Namespace, req.Name, out.Status.ExpirationTimestamp.Time.Format(time.RFC3339))
	}
	return Token{Token: out.Status.Token, Issued: issued, Expiry: expiry}, nil
}

// localExpiry places a token's expiry on this machine's clock. The server
// states expiry on its own clock; its Date header says what that clock
// read when it answered. The lifetime between the two is what the server
// granted (perhaps less than asked: servers cap it), and it counts from
// the moment the request was sent, so a machine whose clock is minutes off
// still re-mints in time. Without a Date header the expiry is taken as is.
func (c *Client) localExpiry(issued, serverExpiry time.Time) time.Time {
	date, _ := c.clock.get()
	if date.IsZero() {
		return serverExpiry
	}
	// Date has one-second resolution; lose that second rather than risk it.
	lifetime := serverExpiry.Sub(date) - time.Second
	return issued.Add(lifetime)
}

// logRoundTripper logs each request's method, URL, status and latency at
// -v=6, as kubectl does. It never logs headers or bodies: they carry tokens.
type logRoundTripper struct {
	next http.RoundTripper
	logf Logf
}

// WrappedRoundTripper lets client-go reach the transport beneath, to cancel
// a request that timed out.
func (l *logRoundTripper) WrappedRoundTripper() http.RoundTripper { return l.next }

func (l *logRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := l.next.RoundTrip(r)
	ms := time.Since(start).Milliseconds()
	if err != nil {
		l.logf(6, "%s %s failed in %d milliseconds", r.Method, r.URL.Redacted(), ms)
		return nil, err
	}
	l.logf(6, "%s %s %s in %d milliseconds", r.Method, r.URL.Redacted(), resp.Status, ms)
	return resp, nil
}

// explain turns a failed TokenRequest into an error that says what to do.
// Ping's GET /version comes here too (with an empty req): what it can meet
// is a failed exec plugin or a transport error, which explain words the
// same for every request.
func (c *Client) explain(err error, req Request) error {
	account := req.Namespace + "/" + req.Name
	if c.plugin != "" && strings.Contains(err.Error(), "getting credentials: ") {
		// client-go's exec authenticator failed before any request was
		// sent: the plugin, not the server, is at fault. Its own stderr
		// went to ours, above this line.
		_, why, _ := strings.Cut(err.Error(), "getting credentials: ")
		return hint.Wrap(fmt.Errorf("%s failed: %s", c.plugin, why), "run it by hand to see why", "or set --source-context to a context with credentials of its own")
	}
	var tooLarge *BodyTooLargeError
	if errors.As(err, &tooLarge) {
		return tooLarge
	}
	switch {
	case apierrors.IsNotFound(err):
		if d := apiDetails(err); d != nil && d.Kind != "" && d.Kind != "serviceaccounts" {
			if revocableSecret(req) {
				return hint.Wrap(&boundMissingError{fmt.Errorf("the tokens of %s are revoked: %s, which they are bound to, was deleted (by kubemint revoke)", account, boundRef(req))},
					fmt.Sprintf("to issue new tokens, an admin runs kubemint setup --service-account=%s --revocable again", account))
			}
			return hint.Wrap(&boundMissingError{fmt.Errorf("minting a token for %s on %s: %s not found", account, c.Server, boundRef(req))}, fmt.Sprintf("create the %s or fix --bound-object-name", req.BoundKind))
		}
		return hint.Wrap(fmt.Errorf("service account %s not found on %s", account, c.Server),
			fmt.Sprintf("create it with: kubectl create serviceaccount %s -n %s (or run kubemint setup)", req.Name, req.Namespace))
	case PolicyDenial(err) != "":
		// The policy's message says what must change and how.
		_, why, _ := strings.Cut(PolicyDenial(err), "denied request: ")
		why, fix, _ := strings.Cut(why, ": ")
		return hint.Wrap(fmt.Errorf("the API server %s refused the token request for %s (%s): %s", c.Server, account, policyNamed(PolicyDenial(err)), why), fix)
	case apierrors.IsForbidden(err):
		user := deniedUser(statusMessage(err))
		role, binding := MintGrant(req.Namespace, req.Name, user)
		return hint.Wrap(fmt.Errorf("%s may not mint tokens for %s on %s: it needs RBAC permission to create serviceaccounts/token for %q in namespace %q",
			c.Label, account, c.Server, req.Name, req.Namespace), "an admin grants it with: "+MintGrantSetup(req.Namespace, req.Name, user),
			"or with kubectl: "+role, "then: "+binding)
	case apierrors.IsUnauthorized(err) && c.refusedHint != "":
		return hint.Wrap(fmt.Errorf("the API server %s rejected the credentials of %s (401 Unauthorized)", c.Server, c.Label), c.refusedHint)
	case apierrors.IsUnauthorized(err):
		return hint.Wrap(fmt.Errorf("the API server %s rejected the credentials of %s (401 Unauthorized)", c.Server, c.Label), "renew them, or choose another source")
	case apierrors.IsBadRequest(err) || apierrors.IsInvalid(err):
		return hint.Wrap(fmt.Errorf("the API server %s refused the token request for %s: %s", c.Server, account, statusMessage(err)), "check --duration, --audience and the --bound-object flags")
	}
	if terr := c.transportError(err); terr != nil {
		return terr
	}
	if se, ok := err.(apierrors.APIStatus); ok {
		return fmt.Errorf("the API server %s refused the token request for %s: %s", c.Server, account, se.Status().Message)
	}
	return fmt.Errorf("minting a token for %s on %s: %w", account, c.Server, err)
}

// transportError explains err when the request never got an answer from
// the API server (a TLS failure, the network, a timeout), and is nil
// otherwise. Every request kubemint makes, a mint or one of setup's and
// use's reviews and reads, says it the same way.
func (c *Client) transportError(err error) error {
	var redirect *RedirectError
	if errors.As(err, &redirect) {
		return hint.Wrap(fmt.Errorf("the API server %s (%s): %w", c.Server, c.Label, redirect), "point server: in the kubeconfig (or --source-server) at the API server itself, not at something that redirects")
	}
	var x509Err x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	if c.clientCert && strings.Contains(err.Error(), "remote error: tls:") {
		// An alert from the server: it refused our certificate, not we its.
		return hint.Wrap(fmt.Errorf("the API server %s refused the client certificate of %s during the TLS handshake (%s)", c.Server, c.Label, tlsReason(err)), "fix client-certificate and client-key of that context's user")
	}
	if errors.As(err, &x509Err) || errors.As(err, &hostErr) || errors.As(err, &certInvalid) || strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "tls:") {
		return hint.Wrap(fmt.Errorf("TLS verification of the API server %s failed (%s): %s", c.Server, c.Label, tlsReason(err)), "fix the cluster's certificate-authority-data or server address in the kubeconfig")
	}
	var urlErr *url.Error
	var netErr net.Error
	if errors.As(err, &urlErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return hint.Wrap(fmt.Errorf("cannot reach the API server %s (%s): %s", c.Server, c.Label, netReason(err)), "check that it is running and that the kubeconfig's server address is right")
	}
	return nil
}

// policyNamed names the ValidatingAdmissionPolicy a denial quotes.
func policyNamed(msg string) string {
	if m := quotedPolicy.FindStringSubmatch(msg); m != nil {
		return "ValidatingAdmissionPolicy " + m[1]
	}
	return "a ValidatingAdmissionPolicy"
}

var quotedPolicy = regexp.MustCompile(`ValidatingAdmissionPolicy '([^']+)'`)

// forbiddenUser finds the user an RBAC denial names: `User "alice" cannot ...`.
var forbiddenUser = regexp.MustCompile(`User "([^"]+)" cannot`)

// deniedUser is the user an RBAC denial names, or "" when it does not say.
func deniedUser(msg string) string {
	if m := forbiddenUser.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// MintGrant returns the two kubectl commands that let user (a user name or
// system:serviceaccount:NS:NAME; empty for a placeholder) mint tokens for
// service account ns/name and nothing else. Both can be run for a second
// minter: the Role is applied (the same for every minter), and each minter
// gets a binding of its own (MinterBinding), as setup --minter makes them.
func MintGrant(ns, name, user string) (role, binding string) {
	m, bname := MinterOf(user), ""
	if user == "" {
		m = Minter{Kind: "User", Name: "USER"}
		bname = MinterRole(name) + "-USER"
	} else {
		bname = MinterBinding(name, m)
	}
	role = fmt.Sprintf("kubectl create role %s -n %s --verb=create --resource=serviceaccounts/token --resource-name=%s --dry-run=client -o yaml | kubectl apply -f -", MinterRole(name), ns, name)
	binding = fmt.Sprintf("kubectl create rolebinding %s -n %s --role=%s %s", bname, ns, MinterRole(name), m.kubectlFlag())
	return role, binding
}

// MintGrantSetup is the kubemint setup line an admin runs to let user (as
// MintGrant) mint tokens for ns/name.
func MintGrantSetup(ns, name, user string) string {
	minter := "user:USER"
	if user != "" {
		minter = MinterOf(user).String()
	}
	return fmt.Sprintf("kubemint setup --service-account=%s/%s --source-context=ADMIN --minter=%s", ns, name, minter)
}

func apiDetails(err error) *metav1.StatusDetails {
	if se, ok := err.(apierrors.APIStatus); ok {
		return se.Status().Details
	}
	return nil
}

func statusMessage(err error) string {
	if se, ok := err.(apierrors.APIStatus); ok {
		return se.Status().Message
	}
	return err.Error()
}

func boundRef(req Request) string {
	return fmt.Sprintf("%s %s/%s", req.BoundKind, req.Namespace, req.BoundName)
}

// netReason is the innermost network error, without the URL that
// url.Error repeats.
func netReason(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error()
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Err != nil {
		return urlErr.Err.Error()
	}
	return err.Error()
}

func tlsReason(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Err != nil {
		return urlErr.Err.Error()
	}
	return err.Error()
}

// boundMissingError is a mint refused because the object the token was to
// be bound to is not there.
type boundMissingError struct{ error }

func (e *boundMissingError) Unwrap() error { return e.error }

// IsBoundObjectMissing reports a mint refused because the object the token
// was to be bound to does not exist (a revoked account's Secret).
func IsBoundObjectMissing(err error) bool {
	var b *boundMissingError
	return errors.As(err, &b)
}

// revocableSecret reports whether req binds to the Secret that kubemint
// setup --revocable creates (NAME-kubemint) and kubemint revoke deletes:
// its absence means revoked, not misconfigured.
func revocableSecret(req Request) bool {
	return req.BoundKind == "Secret" && req.BoundName == req.Name+"-kubemint"
}
