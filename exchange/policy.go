package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// RevocationSecret is the Secret that setup --revocable binds the tokens
// of service account name to, and that kubemint revoke deletes.
func RevocationSecret(name string) string { return name + "-kubemint" }

// RevocationPolicyName names the ValidatingAdmissionPolicy, and its
// binding, that make the API server enforce what setup --revocable
// promises for service account ns/name. Namespaces hold no dots, so the
// first dot after the prefix parts the namespace from the name.
func RevocationPolicyName(ns, name string) string {
	n := "kubemint-revocable." + ns + "." + name
	if len(n) > 253 {
		sum := sha256.Sum256([]byte(ns + "/" + name))
		n = n[:253-9] + "-" + hex.EncodeToString(sum[:4])
	}
	return n
}

// legacyTokenType is the type of the Secrets that the token controller
// fills with a token that never expires and is bound to nothing.
const legacyTokenType = string(corev1.SecretTypeServiceAccountToken)

// dnsName is what namespace and service account names are made of; the
// policy's CEL quotes them in "..." and relies on it.
var dnsName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// RevocationPolicy returns the ValidatingAdmissionPolicy and its binding
// that hold, for every requester (the account itself through a role such
// as edit, its self-renewing chain, its minters, an admin's kubectl
// create token), what setup --revocable promises for service account
// ns/name:
//   - a TokenRequest for it must be bound to its revocation Secret
//     (RevocationSecret), so that deleting the Secret kills the token;
//   - and may ask for at most maxDuration. A request without
//     expirationSeconds counts as one hour: the API server defaults it to
//     3600 before admission, whatever --service-account-max-token-expiration
//     later shortens it to;
//   - a kubernetes.io/service-account-token Secret for it (the legacy
//     token that never expires) may not be created or updated into being.
//
// Pods cannot run as the account while the policy stands (the kubelet's
// TokenRequest is bound to the pod): it is an identity for people and
// runners, not for workloads.
func RevocationPolicy(ns, name string, maxDuration time.Duration) (*admissionv1.ValidatingAdmissionPolicy, *admissionv1.ValidatingAdmissionPolicyBinding, error) {
	if !dnsName.MatchString(ns) || !dnsName.MatchString(name) {
		return nil, nil, fmt.Errorf("%s/%s is not a valid service account name", ns, name)
	}
	maxSecs := int64(maxDuration / time.Second)
	if maxSecs <= 0 {
		return nil, nil, fmt.Errorf("the longest token of %s/%s must be positive, not %s", ns, name, maxDuration)
	}
	account := ns + "/" + name
	secret := RevocationSecret(name)
	policyName := RevocationPolicyName(ns, name)
	meta := metav1.ObjectMeta{Name: policyName, Labels: managedBy,
		Annotations: map[string]string{"kubemint/bound-tokens-of": account}}
	fail := admissionv1.Fail
	equivalent := admissionv1.Equivalent
	namespaced := admissionv1.NamespacedScope
	forbidden := metav1.StatusReasonForbidden
	rule := func(resource string, ops ...admissionv1.OperationType) admissionv1.NamedRuleWithOperations {
		return admissionv1.NamedRuleWithOperations{RuleWithOperations: admissionv1.RuleWithOperations{
			Operations: ops,
			Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{resource}, Scope: &namespaced},
		}}
	}
	isToken := `request.resource.resource == "serviceaccounts"`
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: meta,
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{},
				ObjectSelector:    &metav1.LabelSelector{},
				MatchPolicy:       &equivalent,
				ResourceRules: []admissionv1.NamedRuleWithOperations{
					rule("serviceaccounts/token", admissionv1.Create),
					rule("secrets", admissionv1.Create, admissionv1.Update),
				},
			},
			MatchConditions: []admissionv1.MatchCondition{{
				Name: "this-account",
				// The request's namespace and name select the account; a
				// legacy token Secret names its account in an annotation.
				Expression: fmt.Sprintf(`request.namespace == %[1]q && ((request.resource.resource == "serviceaccounts" && request.subResource == "token" && request.name == %[2]q) || (request.resource.resource == "secrets" && has(object.type) && object.type == %[3]q && has(object.metadata.annotations) && %[4]q in object.metadata.annotations && object.metadata.annotations[%[4]q] == %[2]q))`,
					ns, name, legacyTokenType, corev1.ServiceAccountNameKey),
			}},
			Validations: []admissionv1.Validation{
				{
					Expression: fmt.Sprintf(`!(%s) || (has(object.spec.boundObjectRef) && has(object.spec.boundObjectRef.kind) && has(object.spec.boundObjectRef.name) && object.spec.boundObjectRef.kind == "Secret" && object.spec.boundObjectRef.name == %q)`, isToken, secret),
					Message: fmt.Sprintf("the tokens of %s must be bound to Secret %s/%s so that kubemint revoke kills them: mint with kubemint token --service-account=%s --bound-object-kind=Secret --bound-object-name=%s (kubemint setup --revocable and kubemint use --revocable write it)",
						account, ns, secret, account, secret),
					Reason: &forbidden,
				},
				{
					Expression: fmt.Sprintf(`!(%s) || (has(object.spec.expirationSeconds) ? object.spec.expirationSeconds : 3600) <= %d`, isToken, maxSecs),
					Message: fmt.Sprintf("the tokens of %s may last at most %s (%d seconds, and a request without a duration counts as 1h): ask for less with --duration, or an admin raises it with kubemint setup --revocable --max-duration",
						account, maxDuration, maxSecs),
					Reason: &forbidden,
				},
				{
					// The match conditions let through only this account's
					// TokenRequests and legacy token Secrets: refuse the latter.
					Expression: `request.resource.resource != "secrets"`,
					Message: fmt.Sprintf("a %s Secret for %s would hold a token that never expires and survives kubemint revoke: mint bound tokens with kubemint token instead",
						legacyTokenType, account),
					Reason: &forbidden,
				},
			},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: meta,
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policyName,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{},
				ObjectSelector:    &metav1.LabelSelector{},
				MatchPolicy:       &equivalent,
			},
		},
	}
	return policy, binding, nil
}

// admission is a client for admissionregistration.k8s.io/v1, made on first
// use: a mint never needs it.
func (c *Client) admission() (*rest.RESTClient, error) {
	c.admissionOnce.Do(func() {
		scheme := runtime.NewScheme()
		gv := admissionv1.SchemeGroupVersion
		scheme.AddKnownTypes(gv, &admissionv1.ValidatingAdmissionPolicy{}, &admissionv1.ValidatingAdmissionPolicyBinding{})
		metav1.AddToGroupVersion(scheme, gv)
		c.admissionRC, c.admissionErr = c.restClient(gv, "/apis", serializer.NewCodecFactory(scheme).WithoutConversion())
	})
	return c.admissionRC, c.admissionErr
}

// ServesAdmissionPolicies reports whether the API server serves
// ValidatingAdmissionPolicies and their bindings (admissionregistration.k8s.io/v1,
// GA since Kubernetes 1.30).
func (c *Client) ServesAdmissionPolicies(ctx context.Context) (bool, error) {
	list := &metav1.APIResourceList{}
	err := c.core.Get().AbsPath("/apis/admissionregistration.k8s.io/v1").Do(ctx).Into(list)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, c.asking(err, "which admission APIs it serves")
	}
	var policies, bindings bool
	for _, r := range list.APIResources {
		policies = policies || r.Name == "validatingadmissionpolicies"
		bindings = bindings || r.Name == "validatingadmissionpolicybindings"
	}
	return policies && bindings, nil
}

// EnsureRevocationPolicy makes the policy and binding of RevocationPolicy
// for ns/name exist as they should, creating or updating each, and says
// what it did (an update: the cap changed, or someone edited it). With
// apply false it only reads, and says what it would do: setup --dry-run
// and the real run share this one path.
func (c *Client) EnsureRevocationPolicy(ctx context.Context, ns, name string, maxDuration time.Duration, apply bool) (created, updated bool, err error) {
	policy, binding, err := RevocationPolicy(ns, name, maxDuration)
	if err != nil {
		return false, false, err
	}
	rc, err := c.admission()
	if err != nil {
		return false, false, err
	}
	for _, o := range []struct {
		resource string
		want     runtime.Object
		have     runtime.Object
		spec     func(runtime.Object) any
		meta     func(runtime.Object) *metav1.ObjectMeta
	}{
		{"validatingadmissionpolicies", policy, &admissionv1.ValidatingAdmissionPolicy{},
			func(o runtime.Object) any { return o.(*admissionv1.ValidatingAdmissionPolicy).Spec },
			func(o runtime.Object) *metav1.ObjectMeta {
				return &o.(*admissionv1.ValidatingAdmissionPolicy).ObjectMeta
			}},
		{"validatingadmissionpolicybindings", binding, &admissionv1.ValidatingAdmissionPolicyBinding{},
			func(o runtime.Object) any { return o.(*admissionv1.ValidatingAdmissionPolicyBinding).Spec },
			func(o runtime.Object) *metav1.ObjectMeta {
				return &o.(*admissionv1.ValidatingAdmissionPolicyBinding).ObjectMeta
			}},
	} {
		name := o.meta(o.want).Name
		err := rc.Get().Resource(o.resource).Name(name).Do(ctx).Into(o.have)
		switch {
		case apierrors.IsNotFound(err):
			created = true
			if !apply {
				continue
			}
			if err := rc.Post().Resource(o.resource).Body(o.want).Do(ctx).Error(); err != nil {
				return false, false, c.describe(err, "creating", o.resource, "", name)
			}
			continue
		case err != nil:
			return false, false, c.describe(err, "reading", o.resource, "", name)
		}
		have := o.meta(o.have)
		if equality.Semantic.DeepEqual(o.spec(o.have), o.spec(o.want)) && have.Labels[managedByKey] == managedBy[managedByKey] {
			continue
		}
		updated = true
		if !apply {
			continue
		}
		want := o.meta(o.want)
		want.ResourceVersion = have.ResourceVersion
		if err := rc.Put().Resource(o.resource).Name(name).Body(o.want).Do(ctx).Error(); err != nil {
			return false, false, c.describe(err, "updating", o.resource, "", name)
		}
	}
	return created, updated, nil
}

// HasRevocationPolicy reports whether the revocation policy of ns/name
// exists (setup made the account revocable before; revoke keeps it).
func (c *Client) HasRevocationPolicy(ctx context.Context, ns, name string) (bool, error) {
	rc, err := c.admission()
	if err != nil {
		return false, err
	}
	err = rc.Get().Resource("validatingadmissionpolicies").Name(RevocationPolicyName(ns, name)).Do(ctx).Error()
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, c.describe(err, "reading", "validatingadmissionpolicies", "", RevocationPolicyName(ns, name))
	}
	return true, nil
}

// ErrNotEnforced says that the API server accepted, in a dry run, what
// the revocation policy should refuse.
var ErrNotEnforced = errors.New("the API server does not enforce the policy")

// ProbeRevocationPolicy asks the API server, in a dry run that stores
// nothing, to create a legacy token Secret for ns/name, which the policy
// refuses once the API server has loaded it (it loads policies a moment
// after they are written). It tries until wait has passed, and returns
// nil once the policy refuses, ErrNotEnforced when it never did (the
// ValidatingAdmissionPolicy admission plugin turned off), or the error
// that kept it from asking. Minting an unbound token instead would prove
// the same, but would leave a token that revoke cannot kill.
func (c *Client) ProbeRevocationPolicy(ctx context.Context, ns, name string, wait time.Duration) error {
	probe := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "kubemint-policy-probe-",
			Annotations: map[string]string{corev1.ServiceAccountNameKey: name}},
		Type: corev1.SecretTypeServiceAccountToken,
	}
	deadline := time.Now().Add(wait)
	for {
		err := c.core.Post().Namespace(ns).Resource("secrets").Param("dryRun", metav1.DryRunAll).Body(probe).Do(ctx).Error()
		switch {
		case apierrors.IsForbidden(err) && strings.Contains(statusMessage(err), RevocationPolicyName(ns, name)):
			return nil
		case err != nil:
			// Forbidden by RBAC, say: this identity cannot ask.
			return c.describe(err, "creating", "secrets", ns, "(a dry run)")
		}
		if time.Now().After(deadline) {
			return ErrNotEnforced
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Each validation's message is "WHAT: FIX", so that kubemint can print the
// fix as a hint; kubectl users read it whole.

// PolicyDenial is the message of a request that one of kubemint's
// revocation policies refused, or "" when err is something else.
func PolicyDenial(err error) string {
	if !apierrors.IsForbidden(err) {
		return ""
	}
	msg := statusMessage(err)
	if strings.Contains(msg, "ValidatingAdmissionPolicy") && strings.Contains(msg, "kubemint-revocable.") {
		return msg
	}
	return ""
}

// managedByKey is managedBy's one label.
const managedByKey = "app.kubernetes.io/managed-by"
