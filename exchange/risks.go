package exchange

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// A Risk is one thing a service account may do that defeats short-lived,
// revocable tokens: a way to get a credential that kubemint revoke does
// not kill, or that outlives the tokens' duration.
type Risk struct {
	// May says what the account may do: "create serviceaccounts/token
	// for other accounts".
	May string
	// Means says what that lets it do, and What to do about it.
	Means, Fix string
	// Grant names what allows it, from the authorizer's reason, when it
	// says (a RoleBinding of ClusterRole edit).
	Grant string
}

// Line is the risk as one warning line (without the "kubemint: warning: "
// prefix): who may do what, what it means, what to do.
func (r Risk) Line(account, ns string) string {
	grant := ""
	if r.Grant != "" {
		grant = " (" + r.Grant + ")"
	}
	return fmt.Sprintf("%s may %s in namespace %s%s: %s; %s", account, r.May, ns, grant, r.Means, r.Fix)
}

// riskCheck is one question for the authorizer, and the risk a yes means.
type riskCheck struct {
	attrs []authorizationv1.ResourceAttributes
	risk  Risk
}

// riskChecks are the questions Risks asks for service account ns/name.
// policy says whether kubemint's revocation policy guards the account's
// own tokens, which changes what minting them means.
func riskChecks(ns, name string, policy bool) []riskCheck {
	ra := func(verb, group, resource, subresource, objName string) authorizationv1.ResourceAttributes {
		return authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource, Subresource: subresource, Name: objName}
	}
	own := Risk{May: "create its own serviceaccounts/token",
		Means: "it can mint itself a token that is not bound to its revocation Secret, or lasts longer, and survives kubemint revoke",
		Fix:   "set it up with --revocable, whose admission policy refuses such tokens, or bind a role without create on serviceaccounts/token"}
	if policy {
		own.Means = "it can mint its own tokens, which kubemint's admission policy " + RevocationPolicyName(ns, name) + " keeps bound and capped"
		own.Fix = "nothing to do while that policy stands (kubemint doctor checks it)"
	}
	workloads := []authorizationv1.ResourceAttributes{ra("create", "", "pods", "", "")}
	for _, r := range []string{"deployments", "statefulsets", "daemonsets", "replicasets"} {
		workloads = append(workloads, ra("create", "apps", r, "", ""))
	}
	workloads = append(workloads, ra("create", "batch", "jobs", "", ""), ra("create", "batch", "cronjobs", "", ""))
	return []riskCheck{
		{attrs: []authorizationv1.ResourceAttributes{ra("create", "", "serviceaccounts", "token", name)}, risk: own},
		{attrs: []authorizationv1.ResourceAttributes{ra("create", "", "serviceaccounts", "token", "")}, risk: Risk{May: "create serviceaccounts/token for any account",
			Means: "it can mint tokens of other accounts, which are bound to nothing of its own and survive kubemint revoke",
			Fix:   "bind a role without create on serviceaccounts/token (edit has it: copy edit's rules without it)"}},
		{attrs: []authorizationv1.ResourceAttributes{ra("impersonate", "", "serviceaccounts", "", ""), ra("impersonate", "", "users", "", ""), ra("impersonate", "", "groups", "", "")}, risk: Risk{May: "impersonate",
			Means: "it can act as other identities and mint or read what they may, out of kubemint revoke's reach",
			Fix:   "bind a role without impersonate (edit has it on serviceaccounts)"}},
		{attrs: []authorizationv1.ResourceAttributes{ra("create", "", "secrets", "", "")}, risk: Risk{May: "create secrets",
			Means: "it can create a legacy token Secret of another account, whose token never expires (kubemint's policy refuses only its own)",
			Fix:   "bind a role without create on secrets"}},
		{attrs: []authorizationv1.ResourceAttributes{ra("get", "", "secrets", "", ""), ra("list", "", "secrets", "", "")}, risk: Risk{May: "read secrets",
			Means: "it can copy other accounts' legacy tokens and other credentials, which kubemint revoke does not touch",
			Fix:   "bind a role without get and list on secrets"}},
		{attrs: []authorizationv1.ResourceAttributes{ra("bind", rbacv1.GroupName, "clusterroles", "", ""), ra("escalate", rbacv1.GroupName, "roles", "", ""), ra("escalate", rbacv1.GroupName, "clusterroles", "", "")}, risk: Risk{May: "bind or escalate roles",
			Means: "it can grant itself or another account any role, including one that mints",
			Fix:   "bind a role without bind and escalate"}},
		{attrs: workloads, risk: Risk{May: "create pods or workloads",
			Means: "a pod it starts can run as another service account in the namespace and hand out that account's tokens, which revoke does not kill",
			Fix:   "bind a role without create on pods and workloads, or keep only accounts without rights in the namespace"}},
	}
}

// grantReason finds what the RBAC authorizer says allowed a request:
// `RBAC: allowed by RoleBinding "x/ns" of ClusterRole "edit" to ServiceAccount "app/ns"`.
var grantReason = regexp.MustCompile(`allowed by (\w+) "([^"]+)" of (\w+) "([^"]+)"`)

// Risks asks the API server what service account ns/name may do that
// defeats short-lived revocable tokens, and returns each such thing once.
// asAdmin says c is an identity that may create SubjectAccessReviews
// (setup's admin), which asks about the account without its token; else c
// is the account itself (a token of it), which asks with
// SelfSubjectAccessReviews. policy says the revocation policy guards the
// account's own tokens.
func (c *Client) Risks(ctx context.Context, ns, name string, asAdmin, policy bool) ([]Risk, error) {
	user := "system:serviceaccount:" + ns + ":" + name
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
	var out []Risk
	for _, check := range riskChecks(ns, name, policy) {
		for _, attrs := range check.attrs {
			allowed, reason, err := c.access(ctx, attrs, asAdmin, user, groups)
			if err != nil {
				return out, err
			}
			if !allowed {
				continue
			}
			r := check.risk
			if m := grantReason.FindStringSubmatch(reason); m != nil {
				// The authorizer writes a RoleBinding as NAME/NAMESPACE.
				binding := m[2]
				if bname, bns, ok := strings.Cut(m[2], "/"); ok {
					binding = bns + "/" + bname
				}
				r.Grant = fmt.Sprintf("%s %s of %s %s", m[1], binding, m[3], m[4])
			}
			out = append(out, r)
			break
		}
	}
	return out, nil
}

// access asks whether attrs is allowed: with a SubjectAccessReview for
// user and groups when asAdmin, else with a SelfSubjectAccessReview.
func (c *Client) access(ctx context.Context, attrs authorizationv1.ResourceAttributes, asAdmin bool, user string, groups []string) (bool, string, error) {
	var err error
	var status authorizationv1.SubjectAccessReviewStatus
	if asAdmin {
		in := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &attrs, User: user, Groups: groups}}
		out := &authorizationv1.SubjectAccessReview{}
		err = c.authz.Post().Resource("subjectaccessreviews").Body(in).Do(ctx).Into(out)
		status = out.Status
	} else {
		in := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}
		out := &authorizationv1.SelfSubjectAccessReview{}
		err = c.authz.Post().Resource("selfsubjectaccessreviews").Body(in).Do(ctx).Into(out)
		status = out.Status
	}
	if err != nil {
		if apierrors.IsForbidden(err) {
			return false, "", c.describe(err, "creating", "subjectaccessreviews", "", "")
		}
		return false, "", c.asking(err, "whether %s may %s %s", strings.TrimPrefix(user, "system:serviceaccount:"), attrs.Verb, attrs.Resource)
	}
	return status.Allowed, status.Reason, nil
}

// RoleRules reads the Role ns/name (ns empty: the ClusterRole name) and
// says whether it exists and how many rules it has: a role with none,
// like an aggregated ClusterRole on a cluster that aggregated nothing
// into it, grants nothing.
func (c *Client) RoleRules(ctx context.Context, ns, name string) (exists bool, rules int, err error) {
	var list []rbacv1.PolicyRule
	if ns == "" {
		r := &rbacv1.ClusterRole{}
		err = c.rbac.Get().Resource("clusterroles").Name(name).Do(ctx).Into(r)
		list = r.Rules
	} else {
		r := &rbacv1.Role{}
		err = c.rbac.Get().Namespace(ns).Resource("roles").Name(name).Do(ctx).Into(r)
		list = r.Rules
	}
	if apierrors.IsNotFound(err) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, c.describe(err, "reading", "roles", ns, name)
	}
	return true, len(list), nil
}
