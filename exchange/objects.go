package exchange

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/kubemint/kubemint/internal/hint"
)

// managedBy labels what kubemint creates, so a person can tell it apart.
var managedBy = map[string]string{"app.kubernetes.io/managed-by": "kubemint"}

// ensure creates obj unless it exists, and reports whether it created it.
// existing is filled with the stored object when it was already there.
func (c *Client) ensure(ctx context.Context, rc *rest.RESTClient, resource, namespace, name string, obj, existing runtime.Object) (bool, error) {
	err := rc.Get().NamespaceIfScoped(namespace, namespace != "").Resource(resource).Name(name).Do(ctx).Into(existing)
	if err == nil {
		return false, nil
	}
	if !apierrors.IsNotFound(err) {
		return false, c.describe(err, "reading", resource, namespace, name)
	}
	err = rc.Post().NamespaceIfScoped(namespace, namespace != "").Resource(resource).Body(obj).Do(ctx).Into(existing)
	if apierrors.IsAlreadyExists(err) {
		return false, nil
	}
	if err != nil {
		return false, c.describe(err, "creating", resource, namespace, name)
	}
	return true, nil
}

func (c *Client) describe(err error, verb, resource, namespace, name string) error {
	what := resource + " " + name
	if namespace != "" {
		what = resource + " " + namespace + "/" + name
	}
	if apierrors.IsForbidden(err) {
		return hint.Wrap(fmt.Errorf("%s may not %s %s on %s: %s", c.Label, verbBase(verb), what, c.Server, statusMessage(err)),
			"run it again with a --source-context that may (an admin's)")
	}
	if terr := c.transportError(err); terr != nil {
		return terr
	}
	return fmt.Errorf("%s %s on %s: %w", verb, what, c.Server, err)
}

func verbBase(v string) string {
	switch v {
	case "creating":
		return "create"
	case "reading":
		return "get"
	case "deleting":
		return "delete"
	}
	return v
}

// EnsureNamespace creates namespace ns unless it exists.
func (c *Client) EnsureNamespace(ctx context.Context, ns string) (bool, error) {
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: managedBy}}
	return c.ensure(ctx, c.core, "namespaces", "", ns, obj, &corev1.Namespace{})
}

// EnsureServiceAccount creates service account ns/name unless it exists.
func (c *Client) EnsureServiceAccount(ctx context.Context, ns, name string) (bool, error) {
	obj := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: managedBy}}
	return c.ensure(ctx, c.core, "serviceaccounts", ns, name, obj, &corev1.ServiceAccount{})
}

// EnsureSecret creates the Secret ns/name that tokens are bound to, unless
// it exists. It holds no data: its existence is what keeps the tokens valid.
func (c *Client) EnsureSecret(ctx context.Context, ns, name, account string) (bool, error) {
	obj := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: managedBy,
			Annotations: map[string]string{"kubemint/bound-tokens-of": account}},
		Type: corev1.SecretTypeOpaque,
	}
	return c.ensure(ctx, c.core, "secrets", ns, name, obj, &corev1.Secret{})
}

// DeleteSecret deletes Secret ns/name and reports whether it existed.
func (c *Client) DeleteSecret(ctx context.Context, ns, name string) (bool, error) {
	err := c.core.Delete().Namespace(ns).Resource("secrets").Name(name).Do(ctx).Error()
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, c.describe(err, "deleting", "secrets", ns, name)
	}
	// A finalizer leaves the Secret terminating, and the API server honours
	// tokens bound to a terminating object for another minute (its JWT
	// leeway) and binds new ones to it meanwhile. No finalizer belongs on
	// this Secret, and none can be added once it is terminating: take them
	// off, so that the Secret is gone now.
	left := &corev1.Secret{}
	err = c.core.Get().Namespace(ns).Resource("secrets").Name(name).Do(ctx).Into(left)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return true, c.describe(err, "reading", "secrets", ns, name)
	case left.DeletionTimestamp == nil || len(left.Finalizers) == 0:
		return true, nil
	}
	if c.logf != nil {
		c.logf(1, "Secret %s/%s is held by the finalizers %v: taking them off", ns, name, left.Finalizers)
	}
	patch := []byte(`{"metadata":{"uid":"` + string(left.UID) + `","finalizers":null}}`)
	err = c.core.Patch(types.MergePatchType).Namespace(ns).Resource("secrets").Name(name).Body(patch).Do(ctx).Error()
	if err != nil && !apierrors.IsNotFound(err) {
		return true, hint.Wrap(c.describe(err, "taking the finalizers off", "secrets", ns, name),
			fmt.Sprintf("until they are off, the tokens bound to it work for a minute more: kubectl -n %s patch secret %s --type=merge -p '{\"metadata\":{\"finalizers\":null}}'", ns, name))
	}
	return true, nil
}

// Binding says which role to bind a service account to, and where.
type Binding struct {
	// Kind is Role or ClusterRole.
	Kind string
	Role string
	// ClusterWide binds a ClusterRole with a ClusterRoleBinding instead of
	// a RoleBinding in the account's namespace.
	ClusterWide bool
}

// BindingName is the name of the binding kubemint creates for an account.
func BindingName(ns, account string, b Binding) string {
	if b.ClusterWide {
		return "kubemint:" + ns + ":" + account + ":" + b.Role
	}
	return "kubemint:" + account + ":" + b.Role
}

// EnsureBinding binds service account ns/account to the role in b unless
// a binding of that name exists already. A binding of that name for
// another role or subject is an error, not something to overwrite.
func (c *Client) EnsureBinding(ctx context.Context, ns, account string, b Binding) (string, bool, error) {
	name := BindingName(ns, account, b)
	subject := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: account, Namespace: ns}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: b.Kind, Name: b.Role}
	var created bool
	var err error
	var got rbacv1.RoleRef
	var subjects []rbacv1.Subject
	if b.ClusterWide {
		existing := &rbacv1.ClusterRoleBinding{}
		obj := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: managedBy}, RoleRef: ref, Subjects: []rbacv1.Subject{subject}}
		created, err = c.ensure(ctx, c.rbac, "clusterrolebindings", "", name, obj, existing)
		got, subjects = existing.RoleRef, existing.Subjects
	} else {
		existing := &rbacv1.RoleBinding{}
		obj := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: managedBy}, RoleRef: ref, Subjects: []rbacv1.Subject{subject}}
		created, err = c.ensure(ctx, c.rbac, "rolebindings", ns, name, obj, existing)
		got, subjects = existing.RoleRef, existing.Subjects
	}
	if err != nil {
		return name, false, err
	}
	if got != ref || !slices.Contains(subjects, subject) {
		return name, false, hint.Wrap(fmt.Errorf("binding %q exists but binds %s %q to other subjects than %s/%s", name, got.Kind, got.Name, ns, account), "delete it or choose another role")
	}
	return name, created, nil
}

// RoleExists reports whether the Role ns/name (ns empty: the ClusterRole
// name) exists, so that setup can say so before binding a missing role.
func (c *Client) RoleExists(ctx context.Context, ns, name string) (bool, error) {
	resource, obj := "clusterroles", runtime.Object(&rbacv1.ClusterRole{})
	if ns != "" {
		resource, obj = "roles", &rbacv1.Role{}
	}
	err := c.rbac.Get().NamespaceIfScoped(ns, ns != "").Resource(resource).Name(name).Do(ctx).Into(obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, c.describe(err, "reading", resource, ns, name)
	}
	return true, nil
}

// SelfRenewRole is the Role that lets a service account mint its own
// successor tokens (kubemint token --self-renew).
func SelfRenewRole(account string) string { return account + "-self-renew" }

// EnsureSelfRenewRole creates, unless it exists, the Role that allows
// service account ns/account to create tokens for itself and nothing else.
func (c *Client) EnsureSelfRenewRole(ctx context.Context, ns, account string) (bool, error) {
	name := SelfRenewRole(account)
	obj := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: managedBy},
		Rules: []rbacv1.PolicyRule{{
			APIGroups:     []string{""},
			Resources:     []string{"serviceaccounts/token"},
			Verbs:         []string{"create"},
			ResourceNames: []string{account},
		}},
	}
	return c.ensure(ctx, c.rbac, "roles", ns, name, obj, &rbacv1.Role{})
}

// Exists reports whether the object exists: resource is namespaces,
// serviceaccounts, secrets, roles, rolebindings or clusterrolebindings (ns
// empty for the cluster-scoped ones). setup --dry-run and setup's checks
// ask it instead of creating.
func (c *Client) Exists(ctx context.Context, resource, ns, name string) (bool, error) {
	rc, obj := c.core, runtime.Object(nil)
	switch resource {
	case "namespaces":
		obj = &corev1.Namespace{}
	case "serviceaccounts":
		obj = &corev1.ServiceAccount{}
	case "secrets":
		obj = &corev1.Secret{}
	case "roles":
		rc, obj = c.rbac, &rbacv1.Role{}
	case "rolebindings":
		rc, obj = c.rbac, &rbacv1.RoleBinding{}
	case "clusterrolebindings":
		rc, obj = c.rbac, &rbacv1.ClusterRoleBinding{}
	default:
		return false, fmt.Errorf("exchange.Exists: unknown resource %q", resource)
	}
	err := rc.Get().NamespaceIfScoped(ns, ns != "").Resource(resource).Name(name).Do(ctx).Into(obj)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case apierrors.IsForbidden(err):
		return false, ErrMayNotRead
	case err != nil:
		return false, c.describe(err, "reading", resource, ns, name)
	}
	return true, nil
}

// ErrMayNotRead is Exists' answer when the client may not read the object.
var ErrMayNotRead = errors.New("may not read it")
