package provision

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/kubeconfig"
)

// TestReportWords: setup says updated when it kubeconfig.Updated, and --dry-run says
// what it would do.
func TestReportWords(t *testing.T) {
	t.Parallel()
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

// TestMinterSteps: after --minter, setup prints one complete command per
// line that runs as pasted: kubemint use for each person (none for a
// service account, which is a runner), and one kubemint kubeconfig line
// per kind of runner, each carrying --revocable and --duration as set up.
func TestMinterSteps(t *testing.T) {
	t.Parallel()
	if got := (SetupRequest{}).MinterSteps("admin"); got != "" {
		t.Errorf("no minters: %q", got)
	}
	s := SetupRequest{Request: Request{Namespace: "ci", Name: "deployer", Duration: 30 * time.Minute, Revocable: true}, Minters: []exchange.Minter{
		{Kind: "User", Name: "alice"},
		{Kind: "ServiceAccount", Namespace: "pods", Name: "runner"},
	}}
	got := s.MinterSteps("admin")
	for _, want := range []string{
		"\n  kubemint use --service-account=ci/deployer --revocable --duration=30m0s   # user:alice\n",
		"\n  mkdir -p ci && kubemint kubeconfig --service-account=ci/deployer --from-context=admin --source-github-actions --revocable --duration=30m0s -o ci/runner-github-actions.kubeconfig   # GitHub Actions\n",
		" --source-token-env=KUBE_ID_TOKEN --revocable --duration=30m0s -o ci/runner-token-env.kubeconfig   # ",
		" --source-in-cluster --revocable --duration=30m0s -o ci/runner-in-cluster.kubeconfig   # ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("steps lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "serviceaccount:pods/runner") || strings.Contains(got, "|") {
		t.Errorf("a use line for a service account, or a line that does not paste:\n%s", got)
	}
}
