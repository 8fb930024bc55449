package exchange

import (
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestRevocationPolicy(t *testing.T) {
	long := strings.Repeat("a", 250)
	tests := map[string]struct {
		ns, name string
		max      time.Duration
		err      bool
		// want are strings the policy's expressions must hold.
		want     []string
		wantName string
	}{
		"cap in seconds, names quoted": {ns: "team-a", name: "app", max: 30 * time.Minute,
			want:     []string{`request.namespace == "team-a"`, `request.name == "app"`, `<= 1800`, `object.spec.boundObjectRef.name == "app-kubemint"`, `"kubernetes.io/service-account-token"`},
			wantName: "kubemint-revocable.team-a.app"},
		"no duration counts as the server's default hour": {ns: "a", name: "b", max: time.Hour, want: []string{`? object.spec.expirationSeconds : 3600) <= 3600`}, wantName: "kubemint-revocable.a.b"},
		"a long name is cut and hashed":                   {ns: "a", name: long, max: time.Hour},
		"a name that would break out of the quotes":       {ns: "a", name: `b" || true || "`, max: time.Hour, err: true},
		"zero cap": {ns: "a", name: "b", max: 0, err: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p, b, err := RevocationPolicy(tt.ns, tt.name, tt.max)
			if (err != nil) != tt.err {
				t.Fatalf("error %v, want error %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if len(p.Name) > 253 || p.Name != b.Name || b.Spec.PolicyName != p.Name {
				t.Errorf("policy %q, binding %q for policy %q", p.Name, b.Name, b.Spec.PolicyName)
			}
			if tt.wantName != "" && p.Name != tt.wantName {
				t.Errorf("name %q, want %q", p.Name, tt.wantName)
			}
			if p.Labels[managedByKey] != "kubemint" || b.Labels[managedByKey] != "kubemint" {
				t.Errorf("labels %v, %v", p.Labels, b.Labels)
			}
			var all strings.Builder
			for _, m := range p.Spec.MatchConditions {
				all.WriteString(m.Expression + "\n")
			}
			for _, v := range p.Spec.Validations {
				all.WriteString(v.Expression + "\n")
				if strings.ContainsAny(v.Message, "\n\r") {
					t.Errorf("message %q has a line break", v.Message)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(all.String(), w) {
					t.Errorf("expressions lack %q:\n%s", w, all.String())
				}
			}
		})
	}
}

func TestPolicyDenial(t *testing.T) {
	gr := schema.GroupResource{Resource: "serviceaccounts"}
	vap := apierrors.NewForbidden(gr, "app", errAs("ValidatingAdmissionPolicy 'kubemint-revocable.a.app' with binding 'kubemint-revocable.a.app' denied request: the tokens of a/app must be bound"))
	rbac := apierrors.NewForbidden(gr, "app", errAs(`User "bob" cannot create resource "serviceaccounts/token"`))
	other := apierrors.NewForbidden(gr, "app", errAs("ValidatingAdmissionPolicy 'someone-else' denied request"))
	if PolicyDenial(vap) == "" || PolicyDenial(rbac) != "" || PolicyDenial(other) != "" {
		t.Errorf("PolicyDenial: %q %q %q", PolicyDenial(vap), PolicyDenial(rbac), PolicyDenial(other))
	}
}

type errAs string

func (e errAs) Error() string { return string(e) }
