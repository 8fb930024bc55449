package audit

import (
	"strings"
	"testing"
	"time"
)

// TestAuditFilter: the flags become a filter, or one error in kubectl's
// words.
func TestAuditFilter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		q       Query
		want    Filter
		wantErr string
	}{
		"none":              {q: Query{}, want: Filter{}},
		"all":               {q: Query{Output: "json", ServiceAccount: "ci/deployer", MintedBy: "alice", CredentialID: "JTI=abc", Since: "7d", Until: "2026-12-04T11:00:00Z"}, want: Filter{ServiceAccount: "ci/deployer", MintedBy: "alice", CredentialID: "JTI=abc", Since: now.Add(-7 * 24 * time.Hour), Until: now.Add(-time.Hour)}},
		"bare jti":          {q: Query{CredentialID: "abc"}, want: Filter{CredentialID: "JTI=abc"}},
		"duration":          {q: Query{Since: "90m"}, want: Filter{Since: now.Add(-90 * time.Minute)}},
		"yaml":              {q: Query{Output: "yaml"}, wantErr: `unable to match a printer suitable for the output format "yaml", allowed formats are: json`},
		"bad account":       {q: Query{ServiceAccount: "deployer"}, wantErr: "NAMESPACE/NAME"},
		"bad since":         {q: Query{Since: "last week"}, wantErr: `invalid --since "last week"`},
		"negative duration": {q: Query{Until: "-1h"}, wantErr: `invalid --until "-1h"`},
		"since after until": {q: Query{Since: "1h", Until: "2h"}, wantErr: "--since (2026-12-04T11:00:00Z) is not before --until (2026-12-04T10:00:00Z)"},
	}
	for name, tc := range tests {
		got, err := tc.q.Filter(now)
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

// TestInputs: the args become the inputs, standard input when there are
// none; "-" can be read only once.
func TestInputs(t *testing.T) {
	tests := map[string]struct {
		args      []string
		wantNames []string
		wantErr   string
	}{
		"none":        {args: nil, wantNames: []string{"-"}},
		"files":       {args: []string{"a.log", "b.log.gz"}, wantNames: []string{"a.log", "b.log.gz"}},
		"files, -":    {args: []string{"a.log", "-"}, wantNames: []string{"a.log", "-"}},
		"stdin twice": {args: []string{"-", "a.log", "-"}, wantErr: "standard input (-) given 2 times; it can be read once"},
	}
	for name, tc := range tests {
		got, err := Inputs(tc.args, strings.NewReader(""))
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%s: error %v, want %q", name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var names []string
		for _, in := range got {
			names = append(names, in.Name)
		}
		if strings.Join(names, " ") != strings.Join(tc.wantNames, " ") {
			t.Errorf("%s: inputs %q, want %q", name, names, tc.wantNames)
		}
	}
}
