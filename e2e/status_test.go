package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStatusAndClean: status lists what is cached, never the token; clean
// forgets one account's entries and the next call mints again.
func TestStatusAndClean(t *testing.T) {
	u := newUserEnv(t)
	kc := u.kubeconfig(t)
	info := execInfo(t, "client.authentication.k8s.io/v1")
	mint := func(audience string) string {
		r := u.kubemint(t, info, "token", "--service-account=ci/deployer", "--source-context=admin", "--source-kubeconfig="+kc, "--audience="+audience)
		if r.code != 0 {
			t.Fatalf("mint: %s", r.stderr)
		}
		return tokenOf(t, r.stdout)
	}
	tokA := mint("a")
	tokB := mint("b")

	r := u.kubemint(t, "", "status", "-o", "json")
	if r.code != 0 {
		t.Fatalf("status -o json: %s", r.stderr)
	}
	var st struct {
		Entries []struct {
			ServiceAccount string    `json:"serviceAccount"`
			Server         string    `json:"server"`
			Audiences      []string  `json:"audiences"`
			Cache          string    `json:"cache"`
			Expires        time.Time `json:"expires"`
			RefreshAt      time.Time `json:"refreshAt"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r.stdout)
	}
	if len(st.Entries) != 2 {
		t.Fatalf("status lists %d entries, want 2:\n%s", len(st.Entries), r.stdout)
	}
	for _, e := range st.Entries {
		if e.ServiceAccount != "ci/deployer" || e.Server != w.cp.Server || e.Cache != "file" || len(e.Audiences) != 1 {
			t.Errorf("entry %+v", e)
		}
		if d := time.Until(e.Expires); d < 50*time.Minute || d > 61*time.Minute {
			t.Errorf("expires in %v, want about 1h", d)
		}
		if !e.RefreshAt.Before(e.Expires) {
			t.Errorf("refreshAt %v is not before expiry %v", e.RefreshAt, e.Expires)
		}
	}
	table := u.kubemint(t, "", "status")
	if table.code != 0 || !strings.HasPrefix(table.stdout, "SERVICE ACCOUNT") || !strings.Contains(table.stdout, "ci/deployer") || !strings.Contains(table.stdout, "in 59m") {
		t.Errorf("status table:\n%s%s", table.stdout, table.stderr)
	}
	for _, out := range []string{r.stdout, table.stdout} {
		if strings.Contains(out, tokA) || strings.Contains(out, tokB) {
			t.Errorf("status prints a token")
		}
	}
	// Index files hold no token either.
	infos, _ := filepath.Glob(filepath.Join(u.cache, "kubemint", "*.info"))
	for _, f := range infos {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), tokA) || strings.Contains(string(b), tokB) {
			t.Errorf("%s holds a token", f)
		}
	}

	if r := u.kubemint(t, "", "clean", "--service-account=ci/other"); r.code != 0 || !strings.Contains(r.stdout, "Forgot 0") {
		t.Errorf("clean of another account: %s%s", r.stdout, r.stderr)
	}
	if r := u.kubemint(t, "", "clean", "--service-account=ci/deployer"); r.code != 0 || !strings.Contains(r.stdout, "Forgot 2 cached credentials of ci/deployer") {
		t.Errorf("clean: %s%s", r.stdout, r.stderr)
	}
	if r := u.kubemint(t, "", "status"); !strings.HasPrefix(r.stdout, "No cached credentials") {
		t.Errorf("status after clean:\n%s", r.stdout)
	}
	before := tokenRequests(t)
	mint("a")
	if got := tokenRequests(t) - before; got != 1 {
		t.Errorf("after clean, a call made %v TokenRequests, want 1", got)
	}
}
