package hint

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPrint(t *testing.T) {
	base := errors.New("service account ci/deployer not found")
	tests := map[string]struct {
		err  error
		want string
	}{
		"no hint": {err: base, want: "kubemint: error: service account ci/deployer not found\n"},
		"one hint": {err: Wrap(base, "create it"),
			want: "kubemint: error: service account ci/deployer not found\nkubemint: hint: create it\n"},
		"wrapped with %w": {err: fmt.Errorf("minting failed: %w", Wrap(base, "create it", "or run kubemint setup")),
			want: "kubemint: error: minting failed: service account ci/deployer not found\nkubemint: hint: create it\nkubemint: hint: or run kubemint setup\n"},
		"outer hint first, each once": {err: Wrap(fmt.Errorf("outer: %w", Wrap(base, "inner", "shared")), "outer", "shared"),
			want: "kubemint: error: outer: service account ci/deployer not found\nkubemint: hint: outer\nkubemint: hint: shared\nkubemint: hint: inner\n"},
		"joined": {err: errors.Join(Wrap(errors.New("a"), "fix a"), Wrap(errors.New("b"), "fix b")),
			want: "kubemint: error: a\nb\nkubemint: hint: fix a\nkubemint: hint: fix b\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			Print(&b, "kubemint", tc.err)
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWrapKeepsTheChain(t *testing.T) {
	err := Wrap(fmt.Errorf("loading: %w", fs.ErrNotExist), "pass --source-kubeconfig")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is does not see through a hint")
	}
	if err.Error() != "loading: file does not exist" {
		t.Errorf("Error() = %q, want the error alone", err)
	}
	if Wrap(nil, "x") != nil || Wrap(fs.ErrNotExist) != fs.ErrNotExist {
		t.Error("Wrap of nil or without hints changed the error")
	}
}
