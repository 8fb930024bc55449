package provision

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/kubeconfig"
)

// TestReportWords: setup says updated when it kubeconfig.Updated, and --dry-run says
// what it would do.
func TestReportWords(t *testing.T) {
	tests := []struct {
		dryRun bool
		c      kubeconfig.Change
		want   string
	}{
		{false, kubeconfig.Unchanged, "unchanged  context x\n"},
		{false, kubeconfig.Created, "created    context x\n"},
		{false, kubeconfig.Updated, "updated    context x\n"},
		{true, kubeconfig.Unchanged, "unchanged     context x\n"},
		{true, kubeconfig.Created, "would create  context x\n"},
		{true, kubeconfig.Updated, "would update  context x\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		r := &Report{w: &b, DryRun: tt.dryRun}
		r.step(tt.c, "context x")
		if b.String() != tt.want || r.Changed != (tt.c != kubeconfig.Unchanged) {
			t.Errorf("step(%v, dry run %v) = %q, changed %v; want %q", tt.c, tt.dryRun, b.String(), r.Changed, tt.want)
		}
	}
}

// TestMinterSteps: after --minter, setup tells people to run kubemint use
// and says how a CI runner, which has no kubeconfig to run it with, gets
// one: kubemint kubeconfig with a CI source.
func TestMinterSteps(t *testing.T) {
	if got := MinterSteps("dev/deployer", "admin", nil); got != "" {
		t.Errorf("no minters: %q", got)
	}
	got := MinterSteps("ci/deployer", "admin", []exchange.Minter{
		{Kind: "User", Name: "alice"},
		{Kind: "User", Name: "github:repo:octo-org/app:ref:refs/heads/main"},
	})
	for _, want := range []string{
		"\n  user:alice: kubemint use --service-account=ci/deployer\n",
		"\n  user:github:repo:octo-org/app:ref:refs/heads/main: kubemint use --service-account=ci/deployer\n",
		"People among the minters run",
		"kubemint kubeconfig --service-account=ci/deployer --from-context=admin --source-github-actions|--source-token-env=VAR",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("steps lack %q:\n%s", want, got)
		}
	}
}
