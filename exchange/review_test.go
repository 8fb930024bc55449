package exchange

import (
	"slices"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
)

func TestSummarizeRules(t *testing.T) {
	rr := func(groups, resources, verbs, names []string) authorizationv1.ResourceRule {
		return authorizationv1.ResourceRule{APIGroups: groups, Resources: resources, Verbs: verbs, ResourceNames: names}
	}
	tests := map[string]struct {
		rules []authorizationv1.ResourceRule
		want  []string
	}{
		"core group": {
			rules: []authorizationv1.ResourceRule{rr([]string{""}, []string{"pods"}, []string{"list", "get"}, nil)},
			want:  []string{"get, list: pods"},
		},
		"several groups: each resource once per group, never pods.apps": {
			rules: []authorizationv1.ResourceRule{rr([]string{"", "apps"}, []string{"pods", "deployments"}, []string{"get"}, nil)},
			want:  []string{"get: deployments, deployments.apps, pods, pods.apps"},
		},
		"resource names are kept": {
			rules: []authorizationv1.ResourceRule{rr([]string{""}, []string{"serviceaccounts/token"}, []string{"create"}, []string{"deployer", "builder"})},
			want:  []string{"create: serviceaccounts/token (only builder, deployer)"},
		},
		"all groups": {
			rules: []authorizationv1.ResourceRule{rr([]string{"*"}, []string{"*"}, []string{"*"}, nil)},
			want:  []string{"*: * (all API groups)"},
		},
		"review rules are dropped, same verbs merge": {
			rules: []authorizationv1.ResourceRule{
				rr([]string{"authorization.k8s.io"}, []string{"selfsubjectaccessreviews"}, []string{"create"}, nil),
				rr([]string{""}, []string{"configmaps"}, []string{"get"}, nil),
				rr([]string{"batch"}, []string{"jobs"}, []string{"get"}, nil),
			},
			want: []string{"get: configmaps, jobs.batch"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := SummarizeRules(tt.rules); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseMinter(t *testing.T) {
	tests := []struct {
		in      string
		want    Minter
		str     string
		binding string
		err     bool
	}{
		{in: "user:alice", want: Minter{Kind: "User", Name: "alice"}, str: "user:alice", binding: "kubemint-minter-deployer-user-alice-1f2a31318d12"},
		{in: "group:devs", want: Minter{Kind: "Group", Name: "devs"}, str: "group:devs", binding: "kubemint-minter-deployer-group-devs-dd8faadbacbc"},
		{in: "serviceaccount:ci/runner", want: Minter{Kind: "ServiceAccount", Namespace: "ci", Name: "runner"}, str: "serviceaccount:ci/runner", binding: "kubemint-minter-deployer-serviceaccount-ci-runner-08ef0d1d23f1"},
		{in: "sa:ci/runner", want: Minter{Kind: "ServiceAccount", Namespace: "ci", Name: "runner"}, str: "serviceaccount:ci/runner", binding: "kubemint-minter-deployer-serviceaccount-ci-runner-08ef0d1d23f1"},
		// Names that are not valid object names get a hash, so two never meet.
		{in: "user:github:repo:octo/app:ref:refs/heads/main", want: Minter{Kind: "User", Name: "github:repo:octo/app:ref:refs/heads/main"}, str: "user:github:repo:octo/app:ref:refs/heads/main"},
		{in: "user:Alice@Example.com", want: Minter{Kind: "User", Name: "Alice@Example.com"}, str: "user:Alice@Example.com"},
		// Joined with '-', these two were one binding, and the hint for
		// one told the admin to delete the other's.
		{in: "serviceaccount:a-b/c", want: Minter{Kind: "ServiceAccount", Namespace: "a-b", Name: "c"}, str: "serviceaccount:a-b/c"},
		{in: "serviceaccount:a/b-c", want: Minter{Kind: "ServiceAccount", Namespace: "a", Name: "b-c"}, str: "serviceaccount:a/b-c"},
		// A user named as another's binding ends (cleaned, hashed) in the
		// names of old.
		{in: "user:alice@x", want: Minter{Kind: "User", Name: "alice@x"}, str: "user:alice@x"},
		{in: "user:alice-x-d74be4dd", want: Minter{Kind: "User", Name: "alice-x-d74be4dd"}, str: "user:alice-x-d74be4dd"},
		{in: "alice", err: true},
		{in: "user:", err: true},
		{in: "robot:x", err: true},
		{in: "serviceaccount:runner", err: true},
		{in: "serviceaccount:ci/a/b", err: true},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got, err := ParseMinter(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseMinter(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if tt.err {
			continue
		}
		if got != tt.want || got.String() != tt.str {
			t.Errorf("ParseMinter(%q) = %+v (%s), want %+v (%s)", tt.in, got, got, tt.want, tt.str)
		}
		b := MinterBinding("deployer", got)
		if tt.binding != "" && b != tt.binding {
			t.Errorf("MinterBinding(%q) = %q, want %q", tt.in, b, tt.binding)
		}
		for _, r := range b {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
				t.Errorf("MinterBinding(%q) = %q: not a valid object name", tt.in, b)
				break
			}
		}
		if other, ok := seen[b]; ok && other != got.String() {
			t.Errorf("%s and %s share binding %q", other, got, b)
		}
		seen[b] = got.String()
	}
	if got := MinterOf("system:serviceaccount:ci:runner"); got.String() != "serviceaccount:ci/runner" {
		t.Errorf("MinterOf(service account) = %s", got)
	}
	if got := MinterOf("alice"); got.String() != "user:alice" {
		t.Errorf("MinterOf(alice) = %s", got)
	}
}
