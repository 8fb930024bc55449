package cispec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEval(t *testing.T) {
	c := Context{
		Inputs: map[string]string{"version": "1.2.3", "base-url": "https://x"},
		Github: map[string]string{"action_path": "/a"},
		Runner: map[string]string{"temp": "/t"},
		Env:    map[string]string{"HOME": "/h"},
		Steps:  map[string]map[string]string{"setup": {"kubeconfig": "/k"}},
	}
	tests := []struct {
		in, want, err string
	}{
		{in: "v${{ inputs.version }}", want: "v1.2.3"},
		{in: "${{inputs.Base-URL}}/x", want: "https://x/x"},
		{in: "${{ github.action_path }}/ci/s.sh", want: "/a/ci/s.sh"},
		{in: "${{ runner.temp }} ${{ env.HOME }} ${{ steps.setup.outputs.kubeconfig }}", want: "/t /h /k"},
		{in: "${{ steps.other.outputs.x }}", want: ""},
		{in: "${{ inputs.nope }}", err: "no such input"},
		{in: "${{ github.token }}", err: "does not know"},
		{in: "${{ inputs.version || 'x' }}", err: "does not know"},
	}
	for _, tt := range tests {
		got, err := Eval(tt.in, c)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Eval(%q): error %v, want one with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Eval(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

const component = `spec:
  inputs:
    account:
    flag:
      type: boolean
      default: false
    name:
      default: x
---
.job:
  variables:
    A: $[[ inputs.account ]]
    NAME: pre-$[[ inputs.name ]]
  flag: $[[ inputs.flag ]]
`

func TestComponent(t *testing.T) {
	c, err := ParseComponent([]byte(component))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Config(map[string]any{"account": "ci/deployer", "flag": true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{".job": map[string]any{"variables": map[string]any{"A": "ci/deployer", "NAME": "pre-x"}, "flag": true}}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("Config (-want +got):\n%s", diff)
	}
	for given, wantErr := range map[string]map[string]any{
		"required input account is not given": {},
		"unknown input acount":                {"account": "a", "acount": "a"},
		"is not a boolean":                    {"account": "a", "flag": "yes"},
	} {
		if _, err := c.Config(wantErr); err == nil || !strings.Contains(err.Error(), given) {
			t.Errorf("Config(%v): error %v, want %q", wantErr, err, given)
		}
	}
}
