package inventory

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/resolve"
)

// TestStatusShowsTheBinding: a bound and an unbound entry of one account
// are two different rows, not twins: revoke kills only the bound one.
func TestStatusShowsTheBinding(t *testing.T) {
	dir := t.TempDir()
	store := &cache.Store{Dir: dir}
	now := time.Now()
	for key, bound := range map[string]string{"a": "Secret/app-kubemint", "b": ""} {
		labels := map[string]string{resolve.LabelAccount: "team/app", resolve.LabelServer: "https://k8s.example"}
		if bound != "" {
			labels[resolve.LabelBound] = bound
		}
		if err := store.SaveInfo(cache.Info{Key: key, Labels: labels, Backend: cache.BackendFile, Issued: now, Expiry: now.Add(time.Hour), RefreshAt: now.Add(48 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := Status(&out, func(int, string, ...any) {}, dir, "", Filter{}, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "BOUND TO") {
		t.Fatalf("status:\n%s", out.String())
	}
	if !strings.Contains(lines[1], "Secret/app-kubemint") || !strings.Contains(lines[2], "unbound") {
		t.Errorf("the rows do not tell bound from unbound:\n%s", out.String())
	}
}
