package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	// Revocable binds every token to a Secret (SecretName) that kubemint
	// revoke deletes; SelfRenew lets the account mint its own successors.
	Revocable, SelfRenew bool
	// DryRun checks everything and reports what would change, changing
	// nothing.
	DryRun bool
}

// SecretName is the Secret that --revocable binds an account's tokens to.
func SecretName(account string) string { return account + "-kubemint" }

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
	objects := s.Objects(j.client)
	exists, err := s.preflight(ctx, j, objects)
	if err != nil {
		return nil, err
	}
	if s.DryRun {
		for i, o := range objects {
			j.rep.step(kubeconfig.CreatedIf(!exists[i]), o.What)
		}
		j.rep.step(j.plan.State(), j.contextLine())
		fmt.Fprintf(d.Stdout, "\nIts exec entry would run: %s %s\n", j.plan.Context.Exec.Command, strings.Join(j.plan.Context.Exec.Args, " "))
		fmt.Fprintln(d.Stdout, "Dry run: nothing was created or written.")
		return j.rep, nil
	}
	for _, o := range objects {
		created, err := o.ensure(ctx)
		if err != nil {
			return j.rep, err
		}
		j.rep.step(kubeconfig.CreatedIf(created), o.What)
	}
	if err := j.write(); err != nil {
		return j.rep, err
	}
	return j.rep, s.prove(ctx, j)
}

// prove mints through the written context, then asks the API server who
// the token is and what it may do, and says what comes next.
func (s SetupRequest) prove(ctx context.Context, j *job) error {
	sa, user, err := j.prove(ctx, "the context was written, but minting a token failed")
	if err != nil {
		return err
	}
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
	fmt.Fprint(j.d.Stdout, MinterSteps(s.Account(), j.src.Context, s.Minters))
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
	exists, err := j.client.RoleExists(ctx, roleNS, b.Role)
	if err != nil || exists {
		return err
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

// MinterSteps is what comes next for the minters: a person runs kubemint
// use with their own kubeconfig; a CI runner (a CI system's OIDC identity,
// a pod's service account) has no kubeconfig to run it with, so the admin
// writes the runner's kubeconfig with kubemint kubeconfig.
func MinterSteps(account, fromContext string, minters []exchange.Minter) string {
	if len(minters) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nPeople among the minters run, with their own kubeconfig (add --source-context=CTX for a context other than their current one):\n")
	for _, m := range minters {
		fmt.Fprintf(&b, "  %s: kubemint use --service-account=%s\n", m, account)
	}
	fmt.Fprintf(&b, "For a CI runner among them, write its kubeconfig here and give it to the runner (docs/recipes.md):\n")
	fmt.Fprintf(&b, "  mkdir -p ci && kubemint kubeconfig --service-account=%s --from-context=%s --source-github-actions|--source-token-env=VAR|--source-in-cluster -o ci/runner.kubeconfig\n", account, fromContext)
	return b.String()
}
