package inventory

import (
	"bytes"
	"testing"
	"time"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/resolve"
)

// TestCleanForgetsOnlyTheAccountAsked: clean --service-account forgets that
// account's entries and says how many; the others stay; clean forgets the
// rest.
func TestCleanForgetsOnlyTheAccountAsked(t *testing.T) {
	dir := t.TempDir()
	store := &cache.Store{Dir: dir, Logf: func(int, string, ...any) {}}
	now := time.Now()
	for key, account := range map[string]string{"a1": "ci/a", "a2": "ci/a", "b": "ci/b"} {
		labels := map[string]string{resolve.LabelAccount: account, resolve.LabelServer: "https://k8s.example"}
		if err := store.SaveInfo(cache.Info{Key: key, Labels: labels, Backend: cache.BackendFile, Issued: now, Expiry: now.Add(time.Hour), RefreshAt: now.Add(48 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		account  string
		wantOut  string
		wantLeft int
	}{
		{"ci/a", "Forgot 2 cached credentials of ci/a.\n", 1},
		{"ci/a", "Forgot 0 cached credentials of ci/a.\n", 1},
		{"", "Forgot 1 cached credentials.\n", 0},
	}
	for _, s := range steps {
		var out bytes.Buffer
		if err := Clean(&out, store.Logf, dir, s.account); err != nil {
			t.Fatalf("clean %q: %v", s.account, err)
		}
		infos, err := store.List()
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != s.wantOut || len(infos) != s.wantLeft {
			t.Errorf("clean %q: printed %q and left %d entries, want %q and %d", s.account, out.String(), len(infos), s.wantOut, s.wantLeft)
		}
	}
}
