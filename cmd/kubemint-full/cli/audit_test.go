package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubemint/kubemint/audit"
	"github.com/kubemint/kubemint/internal/hint"
)

// TestAuditFilter: the flags become a filter, or one error in kubectl's
// words.
func TestAuditFilter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		o       auditOptions
		want    audit.Filter
		wantErr string
	}{
		"none":              {o: auditOptions{}, want: audit.Filter{}},
		"all":               {o: auditOptions{output: "json", account: "ci/deployer", mintedBy: "alice", credentialID: "JTI=abc", since: "7d", until: "2026-12-04T11:00:00Z"}, want: audit.Filter{ServiceAccount: "ci/deployer", MintedBy: "alice", CredentialID: "JTI=abc", Since: now.Add(-7 * 24 * time.Hour), Until: now.Add(-time.Hour)}},
		"bare jti":          {o: auditOptions{credentialID: "abc"}, want: audit.Filter{CredentialID: "JTI=abc"}},
		"duration":          {o: auditOptions{since: "90m"}, want: audit.Filter{Since: now.Add(-90 * time.Minute)}},
		"yaml":              {o: auditOptions{output: "yaml"}, wantErr: `unable to match a printer suitable for the output format "yaml", allowed formats are: json`},
		"bad account":       {o: auditOptions{account: "deployer"}, wantErr: "NAMESPACE/NAME"},
		"bad since":         {o: auditOptions{since: "last week"}, wantErr: `invalid --since "last week"`},
		"negative duration": {o: auditOptions{until: "-1h"}, wantErr: `invalid --until "-1h"`},
		"since after until": {o: auditOptions{since: "1h", until: "2h"}, wantErr: "--since (2026-12-04T11:00:00Z) is not before --until (2026-12-04T10:00:00Z)"},
	}
	for name, tc := range tests {
		got, err := tc.o.filter(now)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.wantErr == "" && (got.ServiceAccount != tc.want.ServiceAccount || got.MintedBy != tc.want.MintedBy || got.CredentialID != tc.want.CredentialID || !got.Since.Equal(tc.want.Since) || !got.Until.Equal(tc.want.Until)):
			t.Errorf("%s: filter %+v, want %+v", name, got, tc.want)
		}
	}
}

// TestAuditLine: one request as a line of the table, for each kind of
// minter.
func TestAuditLine(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		r    audit.Record
		want []string
	}{
		"person": {audit.Record{Time: at, ServiceAccount: "ci/deployer", Verb: "delete", APIGroup: "apps", Resource: "deployments", Namespace: "ci", Name: "web", Code: 200,
			MintedBy: &audit.Minter{Username: "alice", Groups: []string{"devs", "system:authenticated"}}},
			[]string{"2026-12-04T12:00:00Z", "alice", "(devs)", "ci/deployer", "delete", "deployments.apps", "ci/web", "200"}},
		"chain": {audit.Record{Time: at, ServiceAccount: "ci/deployer", Verb: "get", Resource: "pods", Subresource: "log", Namespace: "ci", Name: "p", Code: 403,
			MintedBy: &audit.Minter{Username: "bob", Hops: 3, Via: "ci/deployer"}},
			[]string{"bob", "via", "ci/deployer", "pods/log", "403"}},
		"impersonated": {audit.Record{Time: at, ServiceAccount: "ci/deployer", Verb: "list", Resource: "pods", Namespace: "ci", Impersonated: true, MintedBy: &audit.Minter{Username: "carol"}},
			[]string{"carol", "impersonating", "ci/*", "-"}},
		"unknown": {audit.Record{Time: at, ServiceAccount: "ci/deployer", Verb: "get", RequestURI: "/version", Unknown: audit.UnknownBeforeLogs},
			[]string{"unknown", "(issued", "before", "these", "logs)", "/version"}},
		"non-resource, with a query": {audit.Record{Time: at, ServiceAccount: "ci/deployer", Verb: "get", RequestURI: "/api?timeout=32s", Code: 200, MintedBy: &audit.Minter{Username: "alice"}},
			[]string{"alice", "/api", "-", "200"}},
	}
	for name, tc := range tests {
		got := strings.Fields(auditLine(&tc.r))
		for _, w := range tc.want {
			found := false
			for _, f := range got {
				found = found || f == w
			}
			if !found {
				t.Errorf("%s: line %q lacks the field %q", name, auditLine(&tc.r), w)
			}
		}
	}
}

// TestAuditFileErrorsNameTheFix: a file that cannot be opened (a pattern
// the shell left unexpanded, root's audit log) gets hints; other errors
// pass unchanged.
func TestAuditFileErrorsNameTheFix(t *testing.T) {
	dir := t.TempDir()
	private := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(private, []byte("{}\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		file     string
		wantHint string
	}{
		"missing":    {file: filepath.Join(dir, "audit.log*"), wantHint: "--audit-log-path"},
		"unreadable": {file: private, wantHint: "sudo"},
	}
	for name, tc := range tests {
		if name == "unreadable" && os.Geteuid() == 0 {
			continue // root opens any file
		}
		var stdout, stderr bytes.Buffer
		err := runAudit([]audit.Input{audit.File(tc.file, nil)}, audit.Filter{}, "", &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s: error %v, want one naming %s", name, err, tc.file)
			continue
		}
		if hs := hint.Hints(err); len(hs) == 0 || !strings.Contains(strings.Join(hs, "\n"), tc.wantHint) {
			t.Errorf("%s: hints %q, want one containing %q", name, hs, tc.wantHint)
		}
	}
	if err := auditFileHints(errors.New("not an audit log")); len(hint.Hints(err)) != 0 {
		t.Errorf("another error got hints: %q", hint.Hints(err))
	}
}
