package exchange

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
)

// WhoAmI asks the API server who the client is (SelfSubjectReview, what
// kubectl auth whoami does).
func (c *Client) WhoAmI(ctx context.Context) (authenticationv1.UserInfo, error) {
	out := &authenticationv1.SelfSubjectReview{}
	err := c.authn.Post().Resource("selfsubjectreviews").Body(&authenticationv1.SelfSubjectReview{}).Do(ctx).Into(out)
	if err != nil {
		return authenticationv1.UserInfo{}, c.asking(err, "who %s is", c.Label)
	}
	return out.Status.UserInfo, nil
}

// Rules summarises what the client may do in namespace ns
// (SelfSubjectRulesReview), one line per set of verbs, such as
// "get, list, watch: pods, services".
func (c *Client) Rules(ctx context.Context, ns string) ([]string, error) {
	out := &authorizationv1.SelfSubjectRulesReview{}
	in := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns}}
	if err := c.authz.Post().Resource("selfsubjectrulesreviews").Body(in).Do(ctx).Into(out); err != nil {
		return nil, c.asking(err, "what %s may do", c.Label)
	}
	return SummarizeRules(out.Status.ResourceRules), nil
}

// SummarizeRules formats resource rules one line per set of verbs, such as
// "get, list, watch: deployments.apps, pods". Each resource is named once
// per API group (pods in the core group, deployments.apps), and a rule
// limited to some objects says which: "create: serviceaccounts/token
// (only deployer)".
func SummarizeRules(rules []authorizationv1.ResourceRule) []string {
	byVerbs := map[string][]string{}
	for _, r := range rules {
		// Every identity may review itself; that says nothing about it.
		if slices.Contains(r.APIGroups, "authentication.k8s.io") || slices.Contains(r.APIGroups, "authorization.k8s.io") {
			continue
		}
		sorted := slices.Clone(r.Verbs)
		slices.Sort(sorted)
		verbs := strings.Join(sorted, ", ")
		only := ""
		if len(r.ResourceNames) > 0 {
			names := slices.Clone(r.ResourceNames)
			slices.Sort(names)
			only = " (only " + strings.Join(names, ", ") + ")"
		}
		groups := r.APIGroups
		if len(groups) == 0 {
			groups = []string{""}
		}
		for _, res := range r.Resources {
			for _, g := range groups {
				name := res
				switch g {
				case "":
				case "*":
					name += " (all API groups)"
				default:
					name += "." + g
				}
				name += only
				if !slices.Contains(byVerbs[verbs], name) {
					byVerbs[verbs] = append(byVerbs[verbs], name)
				}
			}
		}
	}
	var lines []string
	for verbs, res := range byVerbs {
		slices.Sort(res)
		lines = append(lines, verbs+": "+strings.Join(res, ", "))
	}
	slices.Sort(lines)
	return lines
}

// CanMint asks whether the client may create tokens for ns/name
// (SelfSubjectAccessReview), and, if not, why.
func (c *Client) CanMint(ctx context.Context, ns, name string) (bool, string, error) {
	in := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: name,
		},
	}}
	out := &authorizationv1.SelfSubjectAccessReview{}
	if err := c.authz.Post().Resource("selfsubjectaccessreviews").Body(in).Do(ctx).Into(out); err != nil {
		return false, "", c.asking(err, "whether %s may mint tokens", c.Label)
	}
	return out.Status.Allowed, out.Status.Reason, nil
}

// Ping reads the API server's /version and returns the round trip, and the
// server's clock from its Date header (to a second), for a skew check.
func (c *Client) Ping(ctx context.Context) (rtt time.Duration, serverTime time.Time, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.core.Get().AbsPath("/version").URL().String(), nil)
	if err != nil {
		return 0, time.Time{}, err
	}
	start := time.Now()
	resp, err := c.core.Client.Do(req)
	rtt = time.Since(start)
	if err != nil {
		return rtt, time.Time{}, c.explain(err, Request{})
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return rtt, time.Time{}, fmt.Errorf("GET %s/version: %s", c.Server, resp.Status)
	}
	serverTime, _ = http.ParseTime(resp.Header.Get("Date"))
	return rtt, serverTime, nil
}

// CanI asks whether the client may do verb on resource (in API group
// group; ns empty for a cluster-scoped one) with a SelfSubjectAccessReview,
// what kubectl auth can-i does. setup asks it for each object it would
// create, before it creates any.
func (c *Client) CanI(ctx context.Context, verb, group, resource, ns, name string) (bool, error) {
	in := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource, Name: name},
	}}
	out := &authorizationv1.SelfSubjectAccessReview{}
	if err := c.authz.Post().Resource("selfsubjectaccessreviews").Body(in).Do(ctx).Into(out); err != nil {
		return false, c.asking(err, "whether %s may %s %s", c.Label, verb, resource)
	}
	return out.Status.Allowed, nil
}

// asking explains a failed review: as a mint's error when the server was
// never reached, else naming the question.
func (c *Client) asking(err error, question string, args ...any) error {
	if terr := c.transportError(err); terr != nil {
		return terr
	}
	return fmt.Errorf("asking %s %s: %w", c.Server, fmt.Sprintf(question, args...), err)
}
