package exchange

import (
	"net/http"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// Client talks to one API server with one identity. It knows only the few
// kinds kubemint reads and writes, instead of linking the typed clientset
// and its scheme of every built-in kind, whose init every mint would pay.
type Client struct {
	core, rbac, authn, authz *rest.RESTClient
	// Server is the API server's URL, for error messages.
	Server string
	// Label names the identity in error messages: `context "admin"`,
	// "the pod's service account".
	Label string
	// clock keeps the Date header of the API server's latest answer.
	clock *serverClock
	// plugin names the source's exec plugin in errors, when it has one.
	plugin string
	// refusedHint is the source's fix for a 401, when it has its own.
	refusedHint string
	// clientCert says the identity is a client certificate, which the
	// server may refuse during the TLS handshake.
	clientCert bool

	// cfg makes the clients that only setup needs, on first use.
	cfg           *rest.Config
	logf          Logf
	admissionOnce sync.Once
	admissionRC   *rest.RESTClient
	admissionErr  error
}

// NewClient returns a client for cfg. Every request passes four
// wrappers: a redirect is not followed (*RedirectError, see redirect.go),
// an answer larger than BodyLimit is refused (*BodyTooLargeError), the
// Date header of each answer is kept (to place
// a token's expiry on this machine's clock, see localExpiry), and logf, when set,
// receives one line per request (method, URL, status, time) at -v=6. label
// names the identity in errors.
func NewClient(cfg *rest.Config, label string, logf Logf) (*Client, error) {
	scheme := runtime.NewScheme()
	scheme.AddKnownTypes(corev1.SchemeGroupVersion, &corev1.Namespace{}, &corev1.ServiceAccount{}, &corev1.Secret{})
	scheme.AddKnownTypes(rbacv1.SchemeGroupVersion, &rbacv1.RoleBinding{}, &rbacv1.ClusterRoleBinding{}, &rbacv1.Role{}, &rbacv1.ClusterRole{})
	scheme.AddKnownTypes(authenticationv1.SchemeGroupVersion, &authenticationv1.TokenRequest{}, &authenticationv1.SelfSubjectReview{})
	scheme.AddKnownTypes(authorizationv1.SchemeGroupVersion, &authorizationv1.SelfSubjectAccessReview{}, &authorizationv1.SelfSubjectRulesReview{}, &authorizationv1.SubjectAccessReview{})
	for _, gv := range []schema.GroupVersion{corev1.SchemeGroupVersion, rbacv1.SchemeGroupVersion, authenticationv1.SchemeGroupVersion, authorizationv1.SchemeGroupVersion} {
		metav1.AddToGroupVersion(scheme, gv)
	}
	codecs := serializer.NewCodecFactory(scheme).WithoutConversion()
	c := &Client{Server: cfg.Host, Label: label, clock: &serverClock{}, clientCert: cfg.CertFile != "" || len(cfg.CertData) > 0, cfg: cfg, logf: logf}
	for _, x := range []struct {
		client  **rest.RESTClient
		gv      schema.GroupVersion
		apiPath string
	}{
		{&c.core, corev1.SchemeGroupVersion, "/api"},
		{&c.rbac, rbacv1.SchemeGroupVersion, "/apis"},
		{&c.authn, authenticationv1.SchemeGroupVersion, "/apis"},
		{&c.authz, authorizationv1.SchemeGroupVersion, "/apis"},
	} {
		rc, err := c.restClient(x.gv, x.apiPath, codecs)
		if err != nil {
			return nil, err
		}
		*x.client = rc
	}
	return c, nil
}

// restClient is a client for one API group and version, whose every
// request passes NewClient's wrappers.
func (c *Client) restClient(gv schema.GroupVersion, apiPath string, codecs runtime.NegotiatedSerializer) (*rest.RESTClient, error) {
	cc := rest.CopyConfig(c.cfg)
	cc.GroupVersion = &gv
	cc.APIPath = apiPath
	cc.NegotiatedSerializer = codecs
	if c.logf != nil {
		cc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &logRoundTripper{next: rt, logf: c.logf} })
	}
	cc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &dateRoundTripper{next: rt, clock: c.clock} })
	cc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &limitRoundTripper{next: rt, server: c.cfg.Host} })
	cc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &noRedirectRoundTripper{next: rt} })
	return rest.RESTClientFor(cc)
}

// AsToken returns a config for the same API server that authenticates
// with token alone, to see the cluster as a service account does.
func AsToken(cfg *rest.Config, token string) *rest.Config {
	c := rest.AnonymousClientConfig(cfg)
	c.BearerToken = token
	return c
}

// serverClock remembers the API server's clock as its last answer gave it.
type serverClock struct {
	mu       sync.Mutex
	date     time.Time // the Date header, to the second
	received time.Time // this machine's clock when it arrived
}

func (s *serverClock) get() (date, received time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.date, s.received
}

// dateRoundTripper records the Date header of every response.
type dateRoundTripper struct {
	next  http.RoundTripper
	clock *serverClock
}

// WrappedRoundTripper lets client-go reach the transport beneath, to cancel
// a request that timed out.
func (d *dateRoundTripper) WrappedRoundTripper() http.RoundTripper { return d.next }

func (d *dateRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.next.RoundTrip(r)
	if err == nil {
		if date, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			d.clock.mu.Lock()
			d.clock.date, d.clock.received = date, time.Now()
			d.clock.mu.Unlock()
		}
	}
	return resp, err
}
