package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/kubeconfig"
)

// SetupRequest is kubemint setup: the account, and what to create for it.
type SetupRequest struct {
	Request
	// Binding is the role to bind; its Role is empty for none.
	Binding exchange.Binding
	// Minters may mint the account's tokens and nothing else.
	Minters []exchange.Minter
	// SelfRenew lets the account mint its own successors.
	SelfRenew bool
	// MaxDuration caps, with Revocable, the tokens anyone may mint for the
	// account (the revocation policy); 0 is Duration.
	MaxDuration time.Duration
	// DryRun checks everything and reports what would change, changing
	// nothing.
	DryRun bool
}

// SecretName is the Secret that --revocable binds an account's tokens to.
func SecretName(account string) string { return exchange.RevocationSecret(account) }

// Object is one object setup ensures: what it is, for the report and for
// the checks before anything is created, and how to ensure it.
type Object struct {
	// Resource, Group, Namespace and Name name the object, for Exists and
	// the SelfSubjectAccessReview of its create.
	Resource, Group, Namespace, Name string
	What                             string
	ensure                           func(ctx context.Context) (bool, error)
}

const rbacGroup = "rbac.authorization.k8s.io"

// Objects are the objects setup ensures with admin, in order.
func (s SetupRequest) Objects(admin *exchange.Client) []Object {
	ns, name := s.Namespace, s.Name
	// binding ensures a binding of the account; the name is the
	// BindingName both sides compute.
	binding := func(b exchange.Binding) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			_, created, err := admin.EnsureBinding(ctx, ns, name, b)
			return created, err
		}
	}
	out := []Object{
		{Resource: "namespaces", Name: ns, What: "namespace " + ns,
			ensure: func(ctx context.Context) (bool, error) { return admin.EnsureNamespace(ctx, ns) }},
		{Resource: "serviceaccounts", Namespace: ns, Name: name, What: "serviceaccount " + s.Account(),
			ensure: func(ctx context.Context) (bool, error) { return admin.EnsureServiceAccount(ctx, ns, name) }},
	}
	if b := s.Binding; b.Role != "" {
		bname := exchange.BindingName(ns, name, b)
		o := Object{Resource: "rolebindings", Group: rbacGroup, Namespace: ns, Name: bname,
			What: fmt.Sprintf("rolebinding %s/%s (%s %s)", ns, bname, b.Kind, b.Role), ensure: binding(b)}
		if b.ClusterWide {
			o.Resource, o.Namespace, o.What = "clusterrolebindings", "", fmt.Sprintf("clusterrolebinding %s (%s %s)", bname, b.Kind, b.Role)
		}
		out = append(out, o)
	}
	if s.SelfRenew {
		role := exchange.SelfRenewRole(name)
		b := exchange.Binding{Kind: "Role", Role: role}
		bname := exchange.BindingName(ns, name, b)
		out = append(out,
			Object{Resource: "roles", Group: rbacGroup, Namespace: ns, Name: role,
				What:   "role " + ns + "/" + role + " (create on its own serviceaccounts/token)",
				ensure: func(ctx context.Context) (bool, error) { return admin.EnsureSelfRenewRole(ctx, ns, name) }},
			Object{Resource: "rolebindings", Group: rbacGroup, Namespace: ns, Name: bname,
				What: "rolebinding " + ns + "/" + bname, ensure: binding(b)})
	}
	if len(s.Minters) > 0 {
		role := exchange.MinterRole(name)
		out = append(out, Object{Resource: "roles", Group: rbacGroup, Namespace: ns, Name: role,
			What:   "role " + ns + "/" + role + " (create on serviceaccounts/token named " + name + ")",
			ensure: func(ctx context.Context) (bool, error) { return admin.EnsureMinterRole(ctx, ns, name) }})
		for _, m := range s.Minters {
			bname := exchange.MinterBinding(name, m)
			out = append(out, Object{Resource: "rolebindings", Group: rbacGroup, Namespace: ns, Name: bname,
				What: "rolebinding " + ns + "/" + bname + " (" + m.String() + " may mint)",
				ensure: func(ctx context.Context) (bool, error) {
					_, created, err := admin.EnsureMinterBinding(ctx, ns, name, m)
					return created, err
				}})
		}
	}
	if s.Revocable {
		sname := SecretName(name)
		out = append(out, Object{Resource: "secrets", Namespace: ns, Name: sname,
			What:   "secret " + ns + "/" + sname + " (tokens are bound to it: kubemint revoke deletes it)",
			ensure: func(ctx context.Context) (bool, error) { return admin.EnsureSecret(ctx, ns, sname, s.Account()) }})
	}
	return out
}

// token is the exec entry's token options beyond the account, source and
// duration.
func (s SetupRequest) token() credential.Options {
	o := credential.Options{SelfRenew: s.SelfRenew}
	if s.Revocable {
		o.BoundObjectKind, o.BoundObjectName = "Secret", SecretName(s.Name)
	}
	return o
}

// Setup creates the account's objects and writes its context, then proves
// the context works. Every check runs before anything is created or
// written; a dry run stops after them.
func Setup(ctx context.Context, s SetupRequest, d Deps) (*Report, error) {
	j, err := start(s.Request, s.token(), s.DryRun, d)
	if err != nil {
		return nil, err
	}
	// A re-run keeps what the existing context set and this run did not.
	token, err := j.tokenOptions()
	if err != nil {
		return nil, err
	}
	kept := j.keep(&token)
	if !s.Revocable && token.BoundObjectKind == "" && (j.r.Changed == nil || !j.r.Changed("revocable")) {
		// An account set up with --revocable stays so: its other
		// contexts, and the admission policy, expect bound tokens.
		secret, err := j.client.Exists(ctx, "secrets", s.Namespace, SecretName(s.Name))
		policy, perr := j.client.HasRevocationPolicy(ctx, s.Namespace, s.Name)
		if (err == nil && secret) || (perr == nil && policy) {
			token.BoundObjectKind, token.BoundObjectName = "Secret", SecretName(s.Name)
			kept = append(kept, "--revocable")
		}
	}
	if len(kept) > 0 {
		s.Revocable = s.Revocable || (token.BoundObjectKind == "Secret" && token.BoundObjectName == SecretName(s.Name))
		s.SelfRenew = s.SelfRenew || token.SelfRenew
		s.Duration, j.r.Duration = token.Duration, token.Duration
		if err := j.replan(token); err != nil {
			return nil, err
		}
	}
	objects := s.Objects(j.client)
	exists, err := s.preflight(ctx, j, objects)
	if err != nil {
		return nil, err
	}
	policy := s.Revocable && s.policyAllowed(ctx, j)
	// Tokens of an account that existed before its policy were minted
	// unchecked: unbound ones outlive kubemint revoke.
	older := false
	for i, o := range objects {
		older = older || (o.Resource == "serviceaccounts" && exists[i])
	}
	j.rep.kept(kept)
	if s.DryRun {
		for i, o := range objects {
			j.rep.step(kubeconfig.CreatedIf(!exists[i]), o.What)
		}
		if policy {
			if err := s.ensurePolicy(ctx, j, false, older); err != nil {
				return j.rep, err
			}
		}
		j.rep.step(j.plan.State(), j.contextLine())
		fmt.Fprintf(d.Stdout, "\nIts exec entry would run: %s %s\n", j.plan.Context.Exec.Command, strings.Join(j.plan.Context.Exec.Args, " "))
		fmt.Fprintln(d.Stdout, "Dry run: nothing was created or written.")
		j.risks(ctx, nil, policy)
		return j.rep, nil
	}
	for _, o := range objects {
		created, err := o.ensure(ctx)
		if err != nil {
			return j.rep, err
		}
		j.rep.step(kubeconfig.CreatedIf(created), o.What)
	}
	if policy {
		if err := s.ensurePolicy(ctx, j, true, older); err != nil {
			return j.rep, err
		}
	}
	if err := j.write(); err != nil {
		return j.rep, err
	}
	return j.rep, s.prove(ctx, j, policy)
}

// cap is the longest token the revocation policy lets anyone mint.
func (s SetupRequest) cap() time.Duration {
	if s.MaxDuration > 0 {
		return s.MaxDuration
	}
	return s.Duration
}

// policyWhat is the report's line for the revocation policy.
func (s SetupRequest) policyWhat() string {
	return fmt.Sprintf("validatingadmissionpolicy %s and its binding (tokens of %s must be bound to Secret %s/%s and last at most %v)",
		exchange.RevocationPolicyName(s.Namespace, s.Name), s.Account(), s.Namespace, SecretName(s.Name), s.cap())
}

// policyAllowed reports whether the source can create the revocation
// policy: the API server serves ValidatingAdmissionPolicies and the source
// may read and create them. When it cannot, one warning says that
// revocation is then best-effort, and why.
func (s SetupRequest) policyAllowed(ctx context.Context, j *job) bool {
	bestEffort := func(why string) bool {
		j.warn("revocation of %s is best-effort: %s, so whoever may mint its tokens (a role with create on serviceaccounts/token, such as edit) can mint one that is not bound to Secret %s/%s and survives kubemint revoke (docs/security.md)",
			s.Account(), why, s.Namespace, SecretName(s.Name))
		return false
	}
	served, err := j.client.ServesAdmissionPolicies(ctx)
	if err != nil || !served {
		return bestEffort(fmt.Sprintf("%s serves no ValidatingAdmissionPolicy (Kubernetes before 1.30, or the API turned off)", j.src.Server))
	}
	for _, verb := range []string{"get", "create", "update"} {
		for _, resource := range []string{"validatingadmissionpolicies", "validatingadmissionpolicybindings"} {
			if ok, err := j.client.CanI(ctx, verb, "admissionregistration.k8s.io", resource, "", ""); err != nil || !ok {
				return bestEffort(fmt.Sprintf("%s may not %s %s, so setup made no admission policy (an admin who may runs setup --revocable again)", j.src.Label, verb, resource))
			}
		}
	}
	return true
}

// ensurePolicy creates or updates the revocation policy (apply), or says
// what it would do, and once applied checks that the API server enforces
// it: a warning when it does not. older is set when the account existed
// before this run: the tokens minted for it until now were never checked,
// and a new policy cannot end the unbound ones.
func (s SetupRequest) ensurePolicy(ctx context.Context, j *job, apply, older bool) error {
	created, updated, err := j.client.EnsureRevocationPolicy(ctx, s.Namespace, s.Name, s.cap(), apply)
	if err != nil {
		return err
	}
	c := kubeconfig.CreatedIf(created)
	if updated && !created {
		c = kubeconfig.Updated
	}
	j.rep.step(c, s.policyWhat())
	if created && older {
		j.warn("%s existed before its revocation policy: tokens minted for it until now (kubectl create token, another tool) are not bound to Secret %s/%s and outlive kubemint revoke until they expire; to end them now, delete and recreate the service account (kubectl delete serviceaccount %s -n %s), then run this setup again",
			s.Account(), s.Namespace, SecretName(s.Name), s.Name, s.Namespace)
	}
	if !apply {
		return nil
	}
	if updated {
		s.awaitUpdate(ctx, j)
	}
	switch err := j.client.ProbeRevocationPolicy(ctx, s.Namespace, s.Name, j.d.PolicyLoad); {
	case errors.Is(err, exchange.ErrNotEnforced):
		j.warn("revocation of %s is best-effort: %s accepts what the policy %s refuses (its ValidatingAdmissionPolicy admission plugin is off?), so whoever may mint its tokens can mint one that survives kubemint revoke",
			s.Account(), j.src.Server, exchange.RevocationPolicyName(s.Namespace, s.Name))
	case err != nil:
		j.logf(1, "could not check that the API server enforces the policy: %v", err)
	}
	return nil
}

// awaitUpdate waits, up to Deps.PolicyLoad, until the API server has loaded an
// updated policy: until it grants a token as long as the context asks
// for, which the old cap may have refused. It asks for a throwaway token
// bound to the revocation Secret, with an audience no API server accepts.
func (s SetupRequest) awaitUpdate(ctx context.Context, j *job) {
	deadline := time.Now().Add(j.d.PolicyLoad)
	for {
		_, err := j.client.Mint(ctx, exchange.Request{Namespace: s.Namespace, Name: s.Name, Audiences: []string{useProbeAudience},
			Duration: s.Duration, BoundKind: "Secret", BoundName: SecretName(s.Name)})
		// Refused by the policy (its old version): its name is in the error.
		refused := err != nil && strings.Contains(err.Error(), exchange.RevocationPolicyName(s.Namespace, s.Name))
		if !refused || time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// prove mints through the written context, then asks the API server who
// the token is and what it may do, and says what comes next.
func (s SetupRequest) prove(ctx context.Context, j *job, policy bool) error {
	sa, user, err := j.prove(ctx, "the context was written, but minting a token failed")
	if err != nil {
		return err
	}
	defer j.risks(ctx, sa, policy)
	rules, err := sa.Rules(ctx, s.Namespace)
	if err != nil {
		return err
	}
	j.actsAs(user)
	if len(rules) == 0 {
		fmt.Fprintf(j.d.Stdout, "It may do nothing in namespace %s yet: bind a role with --role or --cluster-role.\n", s.Namespace)
	} else {
		fmt.Fprintf(j.d.Stdout, "In namespace %s it may:\n", s.Namespace)
		for _, r := range rules {
			fmt.Fprintf(j.d.Stdout, "  %s\n", r)
		}
	}
	fmt.Fprint(j.d.Stdout, s.MinterSteps(j.src.Context))
	fmt.Fprint(j.d.Stdout, "\n"+traceLine(s.Account(), ""))
	if !j.rep.Changed {
		fmt.Fprintln(j.d.Stdout, "\nNothing changed: everything was already set up.")
	}
	return nil
}

// preflight checks, before anything is created, what can be checked: the
// role to bind exists, existing minter bindings bind no one else, and the
// source may create every missing object. It returns, per object, whether
// it exists already.
func (s SetupRequest) preflight(ctx context.Context, j *job, objects []Object) ([]bool, error) {
	if s.Binding.Role != "" {
		if err := s.checkRole(ctx, j); err != nil {
			return nil, err
		}
	}
	if len(s.Minters) > 0 {
		if err := j.client.CheckMinter(ctx, s.Namespace, s.Name, s.Minters); err != nil {
			return nil, fmt.Errorf("%w; nothing was created", err)
		}
	}
	for _, m := range s.Minters {
		if m.Kind != "ServiceAccount" {
			continue
		}
		if ok, err := j.client.Exists(ctx, "serviceaccounts", m.Namespace, m.Name); err == nil && !ok {
			j.warn("the minter %s does not exist on %s: its RoleBinding is made, but nothing mints as it until it does (kubectl create serviceaccount %s -n %s)", m, j.src.Server, m.Name, m.Namespace)
		}
	}
	exists := make([]bool, len(objects))
	var missing []string
	for i, o := range objects {
		where := ""
		if o.Namespace != "" {
			where = " in namespace " + o.Namespace
		}
		ok, err := j.client.Exists(ctx, o.Resource, o.Namespace, o.Name)
		if errors.Is(err, exchange.ErrMayNotRead) {
			missing = append(missing, "get "+o.Resource+where)
		} else if err != nil {
			return nil, err
		}
		if exists[i] = ok; ok {
			continue
		}
		allowed, err := j.client.CanI(ctx, "create", o.Group, o.Resource, o.Namespace, "")
		if err != nil {
			return nil, err
		}
		if !allowed {
			missing = append(missing, "create "+o.Resource+where)
		}
	}
	if len(missing) > 0 {
		return nil, hint.Wrap(fmt.Errorf("%s may not %s on %s; nothing was created", j.src.Label, strings.Join(missing, ", "), j.src.Server),
			"run it again with a --source-context that may (an admin's)")
	}
	return exists, nil
}

// checkRole reports a role to bind that does not exist, naming how to
// make it (and its namespace, when that is missing too).
func (s SetupRequest) checkRole(ctx context.Context, j *job) error {
	b, ns := s.Binding, s.Namespace
	roleNS := ns
	if b.Kind == "ClusterRole" {
		roleNS = ""
	}
	exists, rules, err := j.client.RoleRules(ctx, roleNS, b.Role)
	if err != nil {
		return err
	}
	if exists && rules == 0 {
		what := fmt.Sprintf("the Role %s/%s", ns, b.Role)
		if roleNS == "" {
			what = fmt.Sprintf("the ClusterRole %s", b.Role)
		}
		j.warn("%s grants nothing on %s: it has no rules (an aggregated role into which nothing was aggregated?), so %s may do nothing through it; bind a role with rules", what, j.src.Server, s.Account())
	}
	if exists {
		return nil
	}
	if roleNS == "" {
		return hint.Wrap(fmt.Errorf("the ClusterRole %q was not found on %s; nothing was created", b.Role, j.src.Server),
			fmt.Sprintf("create it first (kubectl create clusterrole %s --verb=... --resource=...) or name an existing one", b.Role))
	}
	create := fmt.Sprintf("kubectl create role %s -n %s --verb=... --resource=...", b.Role, ns)
	if nsExists, err := j.client.Exists(ctx, "namespaces", "", ns); err == nil && !nsExists {
		create = fmt.Sprintf("kubectl create namespace %s, then %s", ns, create)
	}
	return hint.Wrap(fmt.Errorf("the Role %s/%s was not found on %s; nothing was created", ns, b.Role, j.src.Server),
		fmt.Sprintf("create it first (%s) or use --cluster-role", create))
}

// MinterSteps is what comes next for the minters, one complete command
// per line that runs as pasted, carrying the flags set up (--revocable,
// --duration): a person runs kubemint use with their own kubeconfig; a CI
// runner (a CI system's OIDC identity, a pod's service account) has no
// kubeconfig to run it with, so the admin writes the runner's kubeconfig
// with kubemint kubeconfig, one line per kind of runner. A service
// account minter is a runner: it gets no use line.
func (s SetupRequest) MinterSteps(fromContext string) string {
	if len(s.Minters) == 0 {
		return ""
	}
	var flags string
	if s.Revocable {
		flags += " --revocable"
	}
	if s.Duration != time.Hour && s.Duration != 0 {
		flags += " --duration=" + s.Duration.String()
	}
	var b strings.Builder
	var people []exchange.Minter
	for _, m := range s.Minters {
		if m.Kind != "ServiceAccount" {
			people = append(people, m)
		}
	}
	if len(people) > 0 {
		fmt.Fprintf(&b, "\nPeople among the minters run, with their own kubeconfig (add --source-context=CTX for a context other than their current one):\n")
		for _, m := range people {
			fmt.Fprintf(&b, "  kubemint use --service-account=%s%s   # %s\n", s.Account(), flags, m)
		}
	}
	fmt.Fprintf(&b, "For a CI runner among them, write its kubeconfig here, with the line for its kind, and give the file to the runner (docs/recipes.md):\n")
	for _, k := range []struct{ source, file, what string }{
		{"--source-github-actions", "runner-github-actions", "GitHub Actions"},
		{"--source-token-env=KUBE_ID_TOKEN", "runner-token-env", "a CI OIDC token in $KUBE_ID_TOKEN (GitLab id_tokens)"},
		{"--source-in-cluster", "runner-in-cluster", "a pod of the cluster, as its service account"},
	} {
		fmt.Fprintf(&b, "  mkdir -p ci && kubemint kubeconfig --service-account=%s --from-context=%s %s%s -o ci/%s.kubeconfig   # %s\n", s.Account(), fromContext, k.source, flags, k.file, k.what)
	}
	return b.String()
}
