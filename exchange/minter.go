package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubemint/kubemint/internal/hint"
)

// Minter is an identity allowed to mint one service account's tokens:
// a person (user), a team (group) or a runner's own service account.
type Minter struct {
	// Kind is User, Group or ServiceAccount (rbacv1's subject kinds).
	Kind string
	Name string
	// Namespace is the service account's, for Kind ServiceAccount.
	Namespace string
}

// ParseMinter reads --minter: user:NAME, group:NAME or
// serviceaccount:NAMESPACE/NAME.
func ParseMinter(s string) (Minter, error) {
	kind, name, ok := strings.Cut(s, ":")
	bad := func(why string) (Minter, error) {
		return Minter{}, fmt.Errorf("--minter %q: %s; use user:NAME, group:NAME or serviceaccount:NAMESPACE/NAME", s, why)
	}
	if !ok || name == "" {
		return bad("no kind or no name")
	}
	switch strings.ToLower(kind) {
	case "user":
		return Minter{Kind: rbacv1.UserKind, Name: name}, nil
	case "group":
		return Minter{Kind: rbacv1.GroupKind, Name: name}, nil
	case "serviceaccount", "sa":
		ns, n, ok := strings.Cut(name, "/")
		if !ok || ns == "" || n == "" || strings.Contains(n, "/") {
			return bad("a service account is NAMESPACE/NAME")
		}
		return Minter{Kind: rbacv1.ServiceAccountKind, Name: n, Namespace: ns}, nil
	}
	return bad("unknown kind " + kind)
}

// String is the minter as --minter spells it.
func (m Minter) String() string {
	switch m.Kind {
	case rbacv1.ServiceAccountKind:
		return "serviceaccount:" + m.Namespace + "/" + m.Name
	case rbacv1.GroupKind:
		return "group:" + m.Name
	}
	return "user:" + m.Name
}

// MinterOf is the --minter that names the identity user (a SelfSubjectReview
// user name): serviceaccount:NS/NAME for a service account, else user:NAME.
func MinterOf(user string) Minter {
	if sa, ok := strings.CutPrefix(user, "system:serviceaccount:"); ok {
		if ns, n, ok := strings.Cut(sa, ":"); ok {
			return Minter{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: n}
		}
	}
	return Minter{Kind: rbacv1.UserKind, Name: user}
}

func (m Minter) subject() rbacv1.Subject {
	s := rbacv1.Subject{Kind: m.Kind, Name: m.Name, Namespace: m.Namespace}
	if m.Kind != rbacv1.ServiceAccountKind {
		s.APIGroup = rbacv1.GroupName
	}
	return s
}

// kubectlFlag is the subject as kubectl create rolebinding takes it.
func (m Minter) kubectlFlag() string {
	switch m.Kind {
	case rbacv1.ServiceAccountKind:
		return "--serviceaccount=" + m.Namespace + ":" + m.Name
	case rbacv1.GroupKind:
		return "--group=" + m.Name
	}
	return "--user=" + m.Name
}

// MinterRole is the Role that allows create on serviceaccounts/token for
// account alone; setup --minter and the kubectl fix MintGrant suggests
// both use it.
func MinterRole(account string) string { return "kubemint-minter-" + account }

// MinterBinding is the RoleBinding that lets m mint account's tokens. One
// binding per minter: granting a second minter never edits the first's
// binding, so it cannot widen one, nor fail with AlreadyExists. The name
// is readable (the minter's kind and name, cleaned to an object name's
// characters and cut to 40) and ends with a hash of the account and the
// whole minter, so two minters never share one: cleaning and joining
// alone made serviceaccount:a-b/c and serviceaccount:a/b-c both
// "...-serviceaccount-a-b-c" (see legacyMinterBinding). 48 bits: a name
// chosen to meet another's is a second preimage, out of reach.
func MinterBinding(account string, m Minter) string {
	b, _ := json.Marshal([]string{account, m.Kind, m.Namespace, m.Name})
	sum := sha256.Sum256(b)
	clean := cleanName(minterName(m))
	if len(clean) > 40 {
		clean = strings.TrimRight(clean[:40], "-.")
	}
	return MinterRole(account) + "-" + strings.ToLower(m.Kind) + "-" + clean + "-" + hex.EncodeToString(sum[:6])
}

// legacyMinterBinding is the name MinterBinding gave before 0.24, which two
// service accounts could share. Setup still finds a binding of that name
// that binds m alone (and leaves one that binds another minter to it).
func legacyMinterBinding(account string, m Minter) string {
	name := minterName(m)
	clean := cleanName(name)
	if clean != name {
		sum := sha256.Sum256([]byte(m.String()))
		clean += "-" + hex.EncodeToString(sum[:4])
	}
	return MinterRole(account) + "-" + strings.ToLower(m.Kind) + "-" + clean
}

func minterName(m Minter) string {
	if m.Kind == rbacv1.ServiceAccountKind {
		return m.Namespace + "-" + m.Name
	}
	return m.Name
}

// cleanName maps what an object name may not hold to '-'.
func cleanName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '-'
	}, name)
}

// minterRule is the one rule of MinterRole.
func minterRule(account string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{
		APIGroups:     []string{""},
		Resources:     []string{"serviceaccounts/token"},
		Verbs:         []string{"create"},
		ResourceNames: []string{account},
	}}
}

// EnsureMinterRole creates MinterRole(account) in ns unless it exists. One
// that exists with other rules is refused: kubemint does not bind a role
// that may do more than its name says.
func (c *Client) EnsureMinterRole(ctx context.Context, ns, account string) (bool, error) {
	name := MinterRole(account)
	existing := &rbacv1.Role{}
	obj := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: managedBy}, Rules: minterRule(account)}
	created, err := c.ensure(ctx, c.rbac, "roles", ns, name, obj, existing)
	if err != nil {
		return false, err
	}
	return created, verifyMinterRole(existing, ns, account)
}

func verifyMinterRole(existing *rbacv1.Role, ns, account string) error {
	name := MinterRole(account)
	if !reflect.DeepEqual(existing.Rules, minterRule(account)) {
		return hint.Wrap(fmt.Errorf("role %s/%s exists with other rules than create on serviceaccounts/token named %s", ns, name, account),
			fmt.Sprintf("look at it (kubectl get role %s -n %s -o yaml); delete it if kubemint may recreate it", name, ns))
	}
	return nil
}

// CheckMinter reports, creating nothing, whether EnsureMinterRole and
// EnsureMinterBinding would refuse what exists (setup's checks before it
// creates anything). What it may not read, or what is not there, passes.
func (c *Client) CheckMinter(ctx context.Context, ns, account string, minters []Minter) error {
	role := &rbacv1.Role{}
	if err := c.rbac.Get().Namespace(ns).Resource("roles").Name(MinterRole(account)).Do(ctx).Into(role); err == nil {
		if err := verifyMinterRole(role, ns, account); err != nil {
			return err
		}
	}
	for _, m := range minters {
		if c.bindsOnly(ctx, ns, legacyMinterBinding(account, m), account, m) {
			continue // granted by an older kubemint: EnsureMinterBinding keeps it
		}
		b := &rbacv1.RoleBinding{}
		if err := c.rbac.Get().Namespace(ns).Resource("rolebindings").Name(MinterBinding(account, m)).Do(ctx).Into(b); err == nil {
			if err := verifyMinterBinding(b, ns, account, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// EnsureMinterBinding binds m to MinterRole(account) in ns unless that
// binding exists. It never widens an existing binding: one of that name
// with other subjects or another role is an error.
func (c *Client) EnsureMinterBinding(ctx context.Context, ns, account string, m Minter) (string, bool, error) {
	if legacy := legacyMinterBinding(account, m); c.bindsOnly(ctx, ns, legacy, account, m) {
		return legacy, false, nil // granted by an older kubemint
	}
	name := MinterBinding(account, m)
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: MinterRole(account)}
	subjects := []rbacv1.Subject{m.subject()}
	existing := &rbacv1.RoleBinding{}
	obj := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: managedBy}, RoleRef: ref, Subjects: subjects}
	created, err := c.ensure(ctx, c.rbac, "rolebindings", ns, name, obj, existing)
	if err != nil {
		return name, false, err
	}
	return name, created, verifyMinterBinding(existing, ns, account, m)
}

// bindsOnly reports whether the RoleBinding ns/name exists and binds m
// alone to MinterRole(account).
func (c *Client) bindsOnly(ctx context.Context, ns, name, account string, m Minter) bool {
	b := &rbacv1.RoleBinding{}
	if err := c.rbac.Get().Namespace(ns).Resource("rolebindings").Name(name).Do(ctx).Into(b); err != nil {
		return false
	}
	return verifyMinterBinding(b, ns, account, m) == nil
}

func verifyMinterBinding(existing *rbacv1.RoleBinding, ns, account string, m Minter) error {
	name := existing.Name
	if name == "" {
		name = MinterBinding(account, m)
	}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: MinterRole(account)}
	if existing.RoleRef != ref || !sameSubjects(existing.Subjects, []rbacv1.Subject{m.subject()}) {
		return hint.Wrap(fmt.Errorf("rolebinding %s/%s exists and binds %s %q to %s, not only %s: kubemint does not change a binding it would widen",
			ns, name, existing.RoleRef.Kind, existing.RoleRef.Name, describeSubjects(existing.Subjects), m),
			fmt.Sprintf("look at it (kubectl get rolebinding %s -n %s -o yaml); delete it if kubemint may recreate it for %s alone", name, ns, m))
	}
	return nil
}

// sameSubjects compares subjects, treating an empty APIGroup of a user or
// group as rbac's (the API server defaults it).
func sameSubjects(a, b []rbacv1.Subject) bool {
	if len(a) != len(b) {
		return false
	}
	norm := func(s rbacv1.Subject) rbacv1.Subject {
		if s.Kind != rbacv1.ServiceAccountKind && s.APIGroup == "" {
			s.APIGroup = rbacv1.GroupName
		}
		if s.Kind == rbacv1.ServiceAccountKind {
			s.APIGroup = ""
		}
		return s
	}
	for i := range a {
		if norm(a[i]) != norm(b[i]) {
			return false
		}
	}
	return true
}

func describeSubjects(subjects []rbacv1.Subject) string {
	var out []string
	for _, s := range subjects {
		m := Minter{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace}
		out = append(out, m.String())
	}
	if len(out) == 0 {
		return "nobody"
	}
	return strings.Join(out, ", ")
}
