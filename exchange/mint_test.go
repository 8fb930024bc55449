package exchange

import (
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubemint/kubemint/internal/hint"
)

// The real API server produces most of these in the end-to-end tests; this
// table covers the shapes it cannot be made to produce on demand.
func TestExplain(t *testing.T) {
	c := &Client{Label: `context "admin"`, Server: "https://k8s.example:6443"}
	req := Request{Namespace: "ci", Name: "deployer"}
	sa := schema.GroupResource{Resource: "serviceaccounts"}
	tests := map[string]struct {
		err   error
		req   Request
		want  []string // in the error line
		hints []string // in a hint line, each
	}{
		"account not found": {
			err:  apierrors.NewNotFound(sa, "deployer"),
			want: []string{"service account ci/deployer not found on https://k8s.example:6443"}, hints: []string{"kubectl create serviceaccount deployer -n ci"},
		},
		"bound secret not found": {
			err:  apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "gone"),
			req:  Request{Namespace: "ci", Name: "deployer", BoundKind: "Secret", BoundName: "gone"},
			want: []string{"Secret ci/gone not found"}, hints: []string{"fix --bound-object-name"},
		},
		"bound secret named like the account": {
			err:  apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "deployer"),
			req:  Request{Namespace: "ci", Name: "deployer", BoundKind: "Secret", BoundName: "deployer"},
			want: []string{"Secret ci/deployer not found"}, hints: []string{"fix --bound-object-name"},
		},
		"forbidden user": {
			err:  apierrors.NewForbidden(sa, "deployer", errors.New(`User "alice" cannot create resource "serviceaccounts/token" in API group "" in the namespace "ci"`)),
			want: []string{`context "admin" may not mint tokens for ci/deployer`}, hints: []string{"--resource-name=deployer", "kubectl create rolebinding kubemint-minter-deployer-user-alice-1f2a31318d12 -n ci --role=kubemint-minter-deployer --user=alice", "kubemint setup --service-account=ci/deployer --source-context=ADMIN --minter=user:alice"},
		},
		"refused by the revocation policy": {
			err:   apierrors.NewForbidden(sa, "deployer", errors.New(`ValidatingAdmissionPolicy 'kubemint-revocable.ci.deployer' with binding 'kubemint-revocable.ci.deployer' denied request: the tokens of ci/deployer must be bound to Secret ci/deployer-kubemint so that kubemint revoke kills them: mint with kubemint token --bound-object-name=deployer-kubemint`)),
			want:  []string{"refused the token request for ci/deployer (ValidatingAdmissionPolicy kubemint-revocable.ci.deployer): the tokens of ci/deployer must be bound to Secret ci/deployer-kubemint"},
			hints: []string{"mint with kubemint token --bound-object-name=deployer-kubemint"},
		},
		"forbidden service account": {
			err:   apierrors.NewForbidden(sa, "deployer", errors.New(`User "system:serviceaccount:ops:bot" cannot create resource`)),
			hints: []string{"--serviceaccount=ops:bot", "--minter=serviceaccount:ops/bot"},
		},
		"forbidden, no user named": {
			err:   apierrors.NewForbidden(sa, "deployer", errors.New("denied")),
			hints: []string{"--user=USER"},
		},
		"unauthorized": {
			err:  apierrors.NewUnauthorized("expired"),
			want: []string{"rejected the credentials of context \"admin\" (401 Unauthorized)"}, hints: []string{"choose another source"},
		},
		"bad request": {
			err:  apierrors.NewBadRequest("audience not allowed"),
			want: []string{"refused the token request for ci/deployer: audience not allowed"}, hints: []string{"--audience"},
		},
		"connection refused": {
			err:  &url.Error{Op: "Post", URL: "https://k8s.example:6443/api", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}},
			want: []string{"cannot reach the API server https://k8s.example:6443 (context \"admin\"): connection refused"},
		},
		"unknown authority": {
			err:  &url.Error{Op: "Post", URL: "https://k8s.example:6443/api", Err: x509.UnknownAuthorityError{}},
			want: []string{"TLS verification of the API server https://k8s.example:6443 failed"}, hints: []string{"certificate-authority-data"},
		},
		"server error": {
			err:  apierrors.NewInternalError(errors.New("etcd is down")),
			want: []string{"refused the token request for ci/deployer", "etcd is down"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := req
			if tt.req.Name != "" {
				r = tt.req
			}
			err := c.explain(tt.err, r)
			got := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			if strings.Contains(got, "\n") || strings.Contains(got, "; ") {
				t.Errorf("%q is more than one line, or carries its fix in the error line", got)
			}
			hints := strings.Join(hint.Hints(err), "\n")
			for _, w := range tt.hints {
				if !strings.Contains(hints, w) {
					t.Errorf("hints %q lack %q", hints, w)
				}
			}
		})
	}
}

func TestIsKubemintCommand(t *testing.T) {
	for cmd, want := range map[string]bool{
		"kubemint":                      true,
		"/home/me/.local/bin/kubemint":  true,
		"kubectl-mint":                  true,
		"/usr/local/bin/kubemint-full":  true,
		"kubelogin":                     false,
		"gke-gcloud-auth-plugin":        false,
		"/opt/kubemint-wrapper/bin/aws": false,
	} {
		if got := IsKubemintCommand(cmd); got != want {
			t.Errorf("IsKubemintCommand(%q) = %v, want %v", cmd, got, want)
		}
	}
}
