package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/exchange"
)

// TestReportWords: setup says updated when it updated, and --dry-run says
// what it would do.
func TestReportWords(t *testing.T) {
	tests := []struct {
		dryRun bool
		c      change
		want   string
	}{
		{false, unchanged, "unchanged  context x\n"},
		{false, created, "created    context x\n"},
		{false, updated, "updated    context x\n"},
		{true, unchanged, "unchanged     context x\n"},
		{true, created, "would create  context x\n"},
		{true, updated, "would update  context x\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		r := &report{w: &b, dryRun: tt.dryRun}
		r.step(tt.c, "context x")
		if b.String() != tt.want || r.changed != (tt.c != unchanged) {
			t.Errorf("step(%v, dry run %v) = %q, changed %v; want %q", tt.c, tt.dryRun, b.String(), r.changed, tt.want)
		}
	}
}

// TestSetupValidateMinters: --minter is parsed and deduplicated; bad ones
// and --force without --kubeconfig-out fail before anything is read.
func TestSetupValidateMinters(t *testing.T) {
	tests := map[string]struct {
		args    []string
		minters []string
		wantErr string
	}{
		"two minters, one twice": {args: []string{"--minter=user:alice", "--minter=group:devs", "--minter=user:alice"}, minters: []string{"user:alice", "group:devs"}},
		"service account":        {args: []string{"--minter=serviceaccount:ci/runner"}, minters: []string{"serviceaccount:ci/runner"}},
		"bad kind":               {args: []string{"--minter=robot:x"}, wantErr: "unknown kind robot"},
		"force alone":            {args: []string{"--force"}, wantErr: "--force goes with --kubeconfig-out"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := setupFromFlags(tt.args)
			err := s.validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("validate = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range s.minters {
				got = append(got, m.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.minters, " ") {
				t.Errorf("minters = %q, want %q", got, tt.minters)
			}
		})
	}
}

// setupFromFlags is a setupCmd for team-a/app as --minter and --force set it.
func setupFromFlags(args []string) *setupCmd {
	s := &setupCmd{account: "team-a/app", duration: time.Hour}
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--minter="):
			s.minterFlags = append(s.minterFlags, strings.TrimPrefix(a, "--minter="))
		case a == "--force":
			s.force = true
		}
	}
	return s
}

// TestMinterSteps: after --minter, setup tells people to run kubemint use
// and says how a CI runner, which has no kubeconfig to run it with, gets
// one: kubemint kubeconfig with a CI source.
func TestMinterSteps(t *testing.T) {
	if got := minterSteps("dev/deployer", "admin", nil); got != "" {
		t.Errorf("no minters: %q", got)
	}
	got := minterSteps("ci/deployer", "admin", []exchange.Minter{
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
