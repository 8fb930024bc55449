package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/provision"
)

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
			for _, m := range s.req.Minters {
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
	s := &setupCmd{account: "team-a/app", req: provision.SetupRequest{Request: provision.Request{Duration: time.Hour}}}
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--minter="):
			s.minterFlags = append(s.minterFlags, strings.TrimPrefix(a, "--minter="))
		case a == "--force":
			s.req.Force = true
		}
	}
	return s
}
