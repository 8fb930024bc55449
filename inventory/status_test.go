package inventory

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/resolve"
)

// TestStatusCredentialID: status shows the credential ID and the iat an
// entry records, in the table and in JSON; an entry from before they were
// recorded shows "-" and the time it was cached.
func TestStatusCredentialID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubemint")
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	store := &cache.Store{Dir: dir, Logf: func(int, string, ...any) {}}
	for _, info := range []cache.Info{
		{Key: "new", Backend: cache.BackendFile, Issued: now.Add(-9 * time.Minute), Expiry: now.Add(time.Hour), RefreshAt: now.Add(50 * time.Minute),
			Labels: map[string]string{resolve.LabelAccount: "ci/deployer", resolve.LabelServer: "https://a", resolve.LabelCredentialID: "JTI=0c5c1d2e-aaaa",
				resolve.LabelIssuedAt: now.Add(-10 * time.Minute).Format(time.RFC3339)}},
		{Key: "old", Backend: cache.BackendFile, Issued: now.Add(-5 * time.Minute), Expiry: now.Add(time.Hour), RefreshAt: now.Add(50 * time.Minute),
			Labels: map[string]string{resolve.LabelAccount: "ci/other", resolve.LabelServer: "https://a"}},
	} {
		if err := store.SaveInfo(info); err != nil {
			t.Fatal(err)
		}
	}
	var table, js bytes.Buffer
	if err := Status(&table, store.Logf, dir, "", Filter{}, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(table.String(), "\n")
	last := func(i, n int) string { f := strings.Fields(lines[i]); return strings.Join(f[len(f)-n:], " ") }
	if last(0, 3) != "ISSUED CREDENTIAL ID" || last(1, 3) != "10m ago JTI=0c5c1d2e-aaaa" || last(2, 3) != "5m ago -" {
		t.Errorf("status table:\n%s", table.String())
	}
	if err := Status(&js, store.Logf, dir, "json", Filter{}, now); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Entries []struct {
			CredentialID string    `json:"credentialID"`
			Issued       time.Time `json:"issued"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(js.Bytes(), &got); err != nil || len(got.Entries) != 2 {
		t.Fatalf("status -o json: %v\n%s", err, js.String())
	}
	if e := got.Entries[0]; e.CredentialID != "JTI=0c5c1d2e-aaaa" || !e.Issued.Equal(now.Add(-10*time.Minute)) {
		t.Errorf("entry %+v", e)
	}
	if e := got.Entries[1]; e.CredentialID != "" || !e.Issued.Equal(now.Add(-5*time.Minute)) {
		t.Errorf("entry without a credential ID %+v", e)
	}
}
