package audit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/internal/hint"
)

// Query is what kubemint audit was asked, as its flags give it: checked by
// Filter before a line is read.
type Query struct {
	Output                                 string
	ServiceAccount, MintedBy, CredentialID string
	Since, Until                           string
}

// Filter checks the query into a Filter, or returns one error in kubectl's
// words. now is the time --since and --until count back from.
func (q Query) Filter(now time.Time) (Filter, error) {
	var f Filter
	if q.Output != "" && q.Output != "json" {
		return f, fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json", q.Output)
	}
	if q.ServiceAccount != "" {
		co := credential.Options{ServiceAccount: q.ServiceAccount}
		if _, _, err := co.Account(); err != nil {
			return f, err
		}
	}
	f.ServiceAccount, f.MintedBy = q.ServiceAccount, q.MintedBy
	if id := q.CredentialID; id != "" {
		if !strings.HasPrefix(id, jtiPrefix) {
			id = CredentialID(id)
		}
		f.CredentialID = id
	}
	var err error
	if f.Since, err = parseWhen("--since", q.Since, now); err != nil {
		return f, err
	}
	if f.Until, err = parseWhen("--until", q.Until, now); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, fmt.Errorf("--since (%s) is not before --until (%s)", f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	return f, nil
}

// parseWhen reads a point in time: RFC 3339, or a duration before now
// (Go's units, and d for days).
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, hint.Wrap(fmt.Errorf("invalid %s %q", flag, s),
		"give a time as RFC 3339 (2026-12-01T00:00:00Z) or a duration ago (90m, 24h, 7d)")
}

// Inputs are the audit logs args name: files, or "-" for stdin, read at
// most once; no args read stdin, unless it is a terminal (a user who forgot
// the files would wait on it forever).
func Inputs(args []string, stdin io.Reader) ([]Input, error) {
	if len(args) == 0 {
		if f, ok := stdin.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				return nil, hint.Wrap(errors.New("no audit log given, and standard input is a terminal"),
					"name the files: kubemint audit /var/log/kubernetes/audit/audit.log*", "or pipe them in: zcat audit-*.log.gz | kubemint audit -")
			}
		}
		args = []string{"-"}
	}
	stdins := 0
	inputs := make([]Input, 0, len(args))
	for _, a := range args {
		if a == "-" {
			stdins++
		}
		inputs = append(inputs, File(a, stdin))
	}
	if stdins > 1 {
		return nil, fmt.Errorf("standard input (-) given %d times; it can be read once", stdins)
	}
	return inputs, nil
}
