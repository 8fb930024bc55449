package exchange

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/internal/procs"
	"github.com/kubemint/kubemint/internal/redact"
)

// settle is how long a call whose context has ended may take to return
// before it is taken for stuck where the context does not reach. Every
// request kubemint makes carries the context, so a network wait ends at
// once; only the source's exec plugin, which client-go runs without one,
// outlasts it.
const settle = 100 * time.Millisecond

// Timeout is what bounds a whole call with the source: its config's
// timeout (--request-timeout, set by the caller), else DefaultTimeout.
func (s *Source) Timeout() time.Duration {
	if s.Config.Timeout > 0 {
		return s.Config.Timeout
	}
	return DefaultTimeout
}

// Bounded runs fn, a call to the source's API server, within the source's
// Timeout, and returns at the latest shortly after it or after ctx ends
// (Ctrl-C, SIGTERM). fn runs in its own goroutine because client-go runs
// the source's exec plugin with exec.Command and no context: neither a
// deadline nor a cancellation reaches it, and client-go has no hook to
// learn its process. When fn has not returned once ctx is done, the
// plugin is what it waits on: every process this one started is stopped
// (procs.StopDescendants; kubemint-full starts nothing else while it
// mints), and the error names the plugin. The caller then exits, which
// releases the cache lock; fn's goroutine is abandoned.
func (s *Source) Bounded(ctx context.Context, fn func(context.Context) error) error {
	// A daemon the plugin double-forks must stay below this process, or
	// StopDescendants would not find it (best effort: Linux only).
	_ = procs.AdoptOrphans()
	timeout := s.Timeout()
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(bctx) }()
	select {
	case err := <-done:
		if err != nil && ctx.Err() != nil {
			return s.interrupted(false)
		}
		return err
	case <-bctx.Done():
	}
	select {
	case err := <-done:
		if ctx.Err() != nil {
			return s.interrupted(false)
		}
		return err
	case <-time.After(settle):
	}
	stopped := procs.StopDescendants(procs.Grace) > 0
	if ctx.Err() != nil {
		return s.interrupted(stopped)
	}
	return s.hung(timeout)
}

// plugin names the source's exec plugin for messages, or "" when the
// source has none.
func (s *Source) plugin() string {
	if s.Config == nil || s.Config.ExecProvider == nil {
		return ""
	}
	p := s.Config.ExecProvider
	return fmt.Sprintf("the source %s's exec plugin (%s)", s.Label, strings.TrimSpace(p.Command+" "+strings.Join(maskArgs(p.Args), " ")))
}

// maskArgs returns a plugin's arguments with the value of each one whose
// name says it is a credential masked: kubelogin takes
// --oidc-client-secret=..., others --token or --password VALUE.
func maskArgs(args []string) []string {
	out := make([]string, len(args))
	maskNext := false
	for i, a := range args {
		switch name, _, hasValue := strings.Cut(a, "="); {
		case maskNext && !strings.HasPrefix(a, "-"):
			out[i] = redact.Mask
			maskNext = false
			continue
		case strings.HasPrefix(a, "-") && secretArg(name):
			if hasValue {
				out[i] = name + "=" + redact.Mask
			} else {
				out[i], maskNext = a, true
			}
			continue
		}
		out[i], maskNext = a, false
	}
	return out
}

// secretArg reports a flag name that names a credential.
func secretArg(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"secret", "token", "password", "passwd", "key", "credential"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// hung is the error of a call that outlived its bound.
func (s *Source) hung(timeout time.Duration) error {
	if p := s.plugin(); p != "" {
		return hint.Wrap(fmt.Errorf("%s did not answer within %s and was stopped", p, timeout), "run it by hand to see why it hangs", "or raise --request-timeout if it needs longer (a login in a browser)")
	}
	return hint.Wrap(fmt.Errorf("minting with %s did not finish within %s", s.Label, timeout), "raise --request-timeout, or check the API server "+s.Server)
}

// errInterrupted is the error of a call that a signal ended.
var errInterrupted = errors.New("interrupted")

// interrupted is the error of a call that SIGINT or SIGTERM ended.
// stopped says whether the plugin was running and had to be stopped.
func (s *Source) interrupted(stopped bool) error {
	if p := s.plugin(); p != "" && stopped {
		return fmt.Errorf("%w while minting with %s; it was stopped", errInterrupted, p)
	}
	return fmt.Errorf("%w while minting with %s", errInterrupted, s.Label)
}
