package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/internal/hint"
)

// TestAuditLine: one request as a line of the table, for each kind of
// minter.
func TestAuditLine(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		r    Record
		want []string
	}{
		"person": {Record{Time: at, ServiceAccount: "ci/deployer", Verb: "delete", APIGroup: "apps", Resource: "deployments", Namespace: "ci", Name: "web", Code: 200,
			MintedBy: &Minter{Username: "alice", Groups: []string{"devs", "system:authenticated"}}},
			[]string{"2026-12-04T12:00:00Z", "alice", "(devs)", "ci/deployer", "delete", "deployments.apps", "ci/web", "200"}},
		"chain": {Record{Time: at, ServiceAccount: "ci/deployer", Verb: "get", Resource: "pods", Subresource: "log", Namespace: "ci", Name: "p", Code: 403,
			MintedBy: &Minter{Username: "bob", Hops: 3, Via: "ci/deployer"}},
			[]string{"bob", "via", "ci/deployer", "pods/log", "403"}},
		"impersonated": {Record{Time: at, ServiceAccount: "ci/deployer", Verb: "list", Resource: "pods", Namespace: "ci", Impersonated: true, MintedBy: &Minter{Username: "carol"}},
			[]string{"carol", "impersonating", "ci/*", "-"}},
		"unknown": {Record{Time: at, ServiceAccount: "ci/deployer", Verb: "get", RequestURI: "/version", Unknown: UnknownBeforeLogs},
			[]string{"unknown", "(issued", "before", "these", "logs)", "/version"}},
		"non-resource, with a query": {Record{Time: at, ServiceAccount: "ci/deployer", Verb: "get", RequestURI: "/api?timeout=32s", Code: 200, MintedBy: &Minter{Username: "alice"}},
			[]string{"alice", "/api", "-", "200"}},
	}
	for name, tc := range tests {
		got := strings.Fields(textLine(&tc.r))
		for _, w := range tc.want {
			found := false
			for _, f := range got {
				found = found || f == w
			}
			if !found {
				t.Errorf("%s: line %q lacks the field %q", name, textLine(&tc.r), w)
			}
		}
	}
}

// TestAuditFileErrorsNameTheFix: a file that cannot be opened (a pattern
// the shell left unexpanded, root's audit log) gets hints; other errors
// pass unchanged.
func TestAuditFileErrorsNameTheFix(t *testing.T) {
	dir := t.TempDir()
	private := filepath.Join(dir, "log")
	if err := os.WriteFile(private, []byte("{}\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		file     string
		wantHint string
	}{
		"missing":    {file: filepath.Join(dir, "log*"), wantHint: "--audit-log-path"},
		"unreadable": {file: private, wantHint: "sudo"},
	}
	for name, tc := range tests {
		if name == "unreadable" && os.Geteuid() == 0 {
			continue // root opens any file
		}
		var stdout, stderr bytes.Buffer
		err := Report([]Input{File(tc.file, nil)}, Filter{}, "", &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s: error %v, want one naming %s", name, err, tc.file)
			continue
		}
		if hs := hint.Hints(err); len(hs) == 0 || !strings.Contains(strings.Join(hs, "\n"), tc.wantHint) {
			t.Errorf("%s: hints %q, want one containing %q", name, hs, tc.wantHint)
		}
	}
	if err := fileHints(errors.New("not an audit log")); len(hint.Hints(err)) != 0 {
		t.Errorf("another error got hints: %q", hint.Hints(err))
	}
}
