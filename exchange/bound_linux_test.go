package exchange

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// TestBoundedStopsWhatIgnoresTheContext: a call stuck where its context
// does not reach (client-go running an exec plugin with exec.Command) ends
// at the source's timeout or at cancellation, the process it ran is
// stopped, and the error names the plugin; a call that returns in time
// returns its own error.
func TestBoundedStopsWhatIgnoresTheContext(t *testing.T) {
	src := &Source{Label: `context "hung"`, Config: &rest.Config{
		Timeout:      300 * time.Millisecond,
		ExecProvider: &clientcmdapi.ExecConfig{Command: "/usr/bin/login-helper", Args: []string{"--wait"}},
	}}
	stuck := func(context.Context) error { return exec.Command("sleep", "600").Run() }
	mine := errors.New("mine")
	for _, tc := range []struct {
		name   string
		fn     func(context.Context) error
		cancel time.Duration // cancel the caller's context after this; 0: never
		want   string
	}{
		{name: "returns in time", fn: func(context.Context) error { return mine }, want: "mine"},
		{name: "honours its context", fn: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, want: "context deadline exceeded"},
		{name: "stuck past the timeout", fn: stuck, want: `the source context "hung"'s exec plugin (/usr/bin/login-helper --wait) did not answer within 300ms and was stopped`},
		{name: "stuck, then interrupted", fn: stuck, cancel: 100 * time.Millisecond, want: `interrupted while minting with the source context "hung"'s exec plugin (/usr/bin/login-helper --wait); it was stopped`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel > 0 {
				time.AfterFunc(tc.cancel, cancel)
			}
			start := time.Now()
			err := src.Bounded(ctx, tc.fn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
