package exchange

import (
	"context"
	"errors"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubemint/kubemint/internal/apitest"
	"github.com/kubemint/kubemint/internal/hint"
)

func adminClient(t *testing.T) (*apitest.Server, *Client) {
	t.Helper()
	api := apitest.New(t)
	c, err := NewClient(api.Config(apitest.AdminToken), `context "admin"`, nil)
	if err != nil {
		t.Fatal(err)
	}
	return api, c
}

var rbacMeta = metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1"}

func roleBinding(name string, ref rbacv1.RoleRef, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	tm := rbacMeta
	tm.Kind = "RoleBinding"
	return &rbacv1.RoleBinding{TypeMeta: tm, ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: name}, RoleRef: ref, Subjects: subjects}
}

// TestEnsureRefusesWhatItWouldWiden: every object setup ensures is created
// once, then left alone; one of the same name that does more (another
// role, other subjects, other rules) is refused, never overwritten.
func TestEnsureRefusesWhatItWouldWiden(t *testing.T) {
	ctx := context.Background()
	alice := Minter{Kind: rbacv1.UserKind, Name: "alice"}
	edit := Binding{Kind: "ClusterRole", Role: "edit"}
	ensures := map[string]func(c *Client) (bool, error){
		"namespace":       func(c *Client) (bool, error) { return c.EnsureNamespace(ctx, "ci") },
		"serviceaccount":  func(c *Client) (bool, error) { return c.EnsureServiceAccount(ctx, "ci", "deployer") },
		"secret":          func(c *Client) (bool, error) { return c.EnsureSecret(ctx, "ci", "deployer-kubemint", "ci/deployer") },
		"self-renew role": func(c *Client) (bool, error) { return c.EnsureSelfRenewRole(ctx, "ci", "deployer") },
		"minter role":     func(c *Client) (bool, error) { return c.EnsureMinterRole(ctx, "ci", "deployer") },
		"binding": func(c *Client) (bool, error) {
			_, created, err := c.EnsureBinding(ctx, "ci", "deployer", edit)
			return created, err
		},
		"cluster-wide binding": func(c *Client) (bool, error) {
			_, created, err := c.EnsureBinding(ctx, "ci", "deployer", Binding{Kind: "ClusterRole", Role: "view", ClusterWide: true})
			return created, err
		},
		"minter binding": func(c *Client) (bool, error) {
			_, created, err := c.EnsureMinterBinding(ctx, "ci", "deployer", alice)
			return created, err
		},
	}
	for name, ensure := range ensures {
		t.Run(name, func(t *testing.T) {
			_, c := adminClient(t)
			for i, want := range []bool{true, false} {
				created, err := ensure(c)
				if err != nil || created != want {
					t.Fatalf("call %d: created %v, %v; want %v", i+1, created, err, want)
				}
			}
		})
	}

	refusals := map[string]struct {
		plant   func(api *apitest.Server)
		ensure  func(c *Client) error
		wantErr string
	}{
		"a binding of kubemint's name to another role": {
			plant: func(api *apitest.Server) {
				api.Put("/apis/rbac.authorization.k8s.io/v1/namespaces/ci/rolebindings/"+BindingName("ci", "deployer", edit),
					roleBinding(BindingName("ci", "deployer", edit), rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
						rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "deployer", Namespace: "ci"}))
			},
			ensure:  func(c *Client) error { _, _, err := c.EnsureBinding(ctx, "ci", "deployer", edit); return err },
			wantErr: `binding "kubemint:deployer:edit" exists but binds ClusterRole "admin" to other subjects than ci/deployer`,
		},
		"a minter role that may do more": {
			plant: func(api *apitest.Server) {
				tm := rbacMeta
				tm.Kind = "Role"
				api.Put("/apis/rbac.authorization.k8s.io/v1/namespaces/ci/roles/"+MinterRole("deployer"), &rbacv1.Role{TypeMeta: tm,
					ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: MinterRole("deployer")},
					Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}}})
			},
			ensure:  func(c *Client) error { _, err := c.EnsureMinterRole(ctx, "ci", "deployer"); return err },
			wantErr: "role ci/kubemint-minter-deployer exists with other rules than create on serviceaccounts/token named deployer",
		},
		"a minter binding that binds someone else too": {
			plant: func(api *apitest.Server) {
				name := MinterBinding("deployer", alice)
				api.Put("/apis/rbac.authorization.k8s.io/v1/namespaces/ci/rolebindings/"+name,
					roleBinding(name, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: MinterRole("deployer")},
						alice.subject(), rbacv1.Subject{Kind: rbacv1.UserKind, Name: "mallory", APIGroup: rbacv1.GroupName}))
			},
			ensure:  func(c *Client) error { _, _, err := c.EnsureMinterBinding(ctx, "ci", "deployer", alice); return err },
			wantErr: "kubemint does not change a binding it would widen",
		},
	}
	for name, tt := range refusals {
		t.Run(name, func(t *testing.T) {
			api, c := adminClient(t)
			tt.plant(api)
			before := len(api.Requests())
			if err := c.CheckMinter(ctx, "ci", "deployer", []Minter{alice}); strings.Contains(name, "minter") && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("CheckMinter = %v, want %q", err, tt.wantErr)
			}
			err := tt.ensure(c)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || len(hint.Hints(err)) == 0 {
				t.Fatalf("ensure = %v (hints %q), want %q with a hint", err, hint.Hints(err), tt.wantErr)
			}
			for _, r := range api.Requests()[before:] {
				if strings.HasPrefix(r, "POST ") || strings.HasPrefix(r, "PUT ") {
					t.Errorf("refusing, it still wrote: %s", r)
				}
			}
		})
	}
}

// TestObjectsAskedWithoutTheRight: a refused read is ErrMayNotRead (setup
// lists it among the missing rights), a refused create names the source,
// the verb and the fix.
func TestObjectsAskedWithoutTheRight(t *testing.T) {
	ctx := context.Background()
	api, c := adminClient(t)
	api.Allow = func(user string, a authorizationv1.ResourceAttributes) bool {
		return a.Resource != "secrets" && a.Resource != "roles"
	}
	if _, err := c.Exists(ctx, "secrets", "ci", "s"); !errors.Is(err, ErrMayNotRead) {
		t.Errorf("Exists without get = %v, want ErrMayNotRead", err)
	}
	if ok, err := c.Exists(ctx, "namespaces", "", "ci"); ok || err != nil {
		t.Errorf("Exists of a missing namespace = %v, %v", ok, err)
	}
	if _, err := c.Exists(ctx, "pods", "ci", "p"); err == nil {
		t.Error("Exists of a kind setup never creates succeeded")
	}
	_, err := c.EnsureSecret(ctx, "ci", "s", "ci/deployer")
	if err == nil || !strings.Contains(err.Error(), `context "admin" may not get secrets ci/s on https://`) {
		t.Errorf("EnsureSecret = %v", err)
	}
	if _, err := c.RoleExists(ctx, "ci", "r"); err == nil || !strings.Contains(err.Error(), "may not get roles ci/r") {
		t.Errorf("RoleExists = %v", err)
	}
	if ok, err := c.CanI(ctx, "create", "", "secrets", "ci", ""); ok || err != nil {
		t.Errorf("CanI create secrets = %v, %v; want false", ok, err)
	}
	if ok, err := c.CanI(ctx, "create", "", "serviceaccounts", "ci", ""); !ok || err != nil {
		t.Errorf("CanI create serviceaccounts = %v, %v; want true", ok, err)
	}
}

func TestDeleteSecret(t *testing.T) {
	ctx := context.Background()
	_, c := adminClient(t)
	if _, err := c.EnsureSecret(ctx, "ci", "deployer-kubemint", "ci/deployer"); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if existed, err := c.DeleteSecret(ctx, "ci", "deployer-kubemint"); existed != want || err != nil {
			t.Errorf("delete %d: existed %v, %v; want %v", i+1, existed, err, want)
		}
	}
}
