package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/audit"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/internal/hint"
)

type auditOptions struct {
	output                          string
	account, mintedBy, credentialID string
	since, until                    string
}

func newAuditCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var o auditOptions
	cmd := &cobra.Command{
		Use:   "audit [FILE...|-] [--service-account NAMESPACE/NAME] [--minted-by USER] [--since TIME] [--until TIME] [--credential-id ID] [-o json]",
		Short: "Trace what service accounts did to who minted each token, from the API server's audit log",
		Long: `Read the API server's audit log and print one line for every request made
with a service-account token: when, who minted the token (the user and groups
of the TokenRequest that issued it), the service account, the verb, the
resource and subresource, namespace/name, and the response code.

The link is the token's credential ID: the TokenRequest's audit event names
it (annotation authentication.kubernetes.io/issued-credential-id, JTI=...),
and every request made with the token carries it in user.extra
(authentication.kubernetes.io/credential-id). kubemint status shows it for
each cached token. A token whose TokenRequest is not in the logs reads
"unknown", with why: issued before the logs begin, or not by a TokenRequest.
A token minted with another token of a known minter (a --self-renew chain)
names that minter, "via" the account; a request made by impersonating the
account (kubectl --as) names the impersonator.

FILE is a log as kube-apiserver --audit-log-path writes it (one
audit.k8s.io/v1 Event a line), rotated or gzip'd (detected by content), or the
same events exported from EKS (CloudWatch Logs events, the Event in
"message") or AKS (AzureDiagnostics rows, the Event in "log_s"); with no FILE,
or "-", standard input. Files are read oldest first, by their first event.
Memory stays flat whatever their size. docs/security.md#who-did-it has the
audit policy that makes this work and leaks no token.

A line that is not JSON is skipped and counted; one warning names the first.

Exit status: 0; 1 with one line on stderr if a FILE cannot be read or is not
an audit log, or a flag is invalid.`,
		Example: `  kubemint audit /var/log/kubernetes/audit/audit*.log*
  kubemint audit --service-account=ci/deployer --minted-by=alice --since=7d audit.log
  kubemint audit --credential-id=JTI=0c5c...  -o json audit.log.gz
  zcat audit-*.log.gz | kubemint audit -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.filter(time.Now())
			if err != nil {
				return err
			}
			if len(args) == 0 {
				if f, ok := stdin.(*os.File); ok {
					if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
						return hint.Wrap(errors.New("no audit log given, and standard input is a terminal"),
							"name the files: kubemint audit /var/log/kubernetes/audit/audit.log*", "or pipe them in: zcat audit-*.log.gz | kubemint audit -")
					}
				}
				args = []string{"-"}
			}
			stdins := 0
			inputs := make([]audit.Input, 0, len(args))
			for _, a := range args {
				if a == "-" {
					stdins++
				}
				inputs = append(inputs, audit.File(a, stdin))
			}
			if stdins > 1 {
				return fmt.Errorf("standard input (-) given %d times; it can be read once", stdins)
			}
			return runAudit(inputs, f, o.output, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.output, "output", "o", "", "Output format: json (one object a line, for a SIEM). Default: a line of text per request.")
	fl.StringVar(&o.account, "service-account", "", "Only requests made as this service account, NAMESPACE/NAME.")
	fl.StringVar(&o.mintedBy, "minted-by", "", "Only requests made with tokens this user minted (the TokenRequest's user name, e.g. alice).")
	fl.StringVar(&o.credentialID, "credential-id", "", "Only requests made with this token: its credential ID as kubemint status prints it (JTI=...), or the JTI alone.")
	fl.StringVar(&o.since, "since", "", "Only requests received at or after this time: RFC 3339 (2026-12-01T00:00:00Z), or a duration ago (1h, 7d).")
	fl.StringVar(&o.until, "until", "", "Only requests received before this time: RFC 3339, or a duration ago.")
	return cmd
}

// filter validates the flags into an audit.Filter.
func (o *auditOptions) filter(now time.Time) (audit.Filter, error) {
	var f audit.Filter
	if o.output != "" && o.output != "json" {
		return f, fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json", o.output)
	}
	if o.account != "" {
		co := credential.Options{ServiceAccount: o.account}
		if _, _, err := co.Account(); err != nil {
			return f, err
		}
	}
	f.ServiceAccount, f.MintedBy = o.account, o.mintedBy
	if id := o.credentialID; id != "" {
		if !strings.HasPrefix(id, "JTI=") {
			id = audit.CredentialID(id)
		}
		f.CredentialID = id
	}
	var err error
	if f.Since, err = parseWhen("--since", o.since, now); err != nil {
		return f, err
	}
	if f.Until, err = parseWhen("--until", o.until, now); err != nil {
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

func runAudit(inputs []audit.Input, f audit.Filter, output string, stdout, stderr io.Writer) error {
	w := bufio.NewWriterSize(stdout, 64<<10)
	enc := json.NewEncoder(w)
	emit := func(r *audit.Record) error {
		if output == "json" {
			return enc.Encode(r)
		}
		_, err := io.WriteString(w, auditLine(r))
		return err
	}
	if output == "" {
		// The header waits for the first line: an input that is not
		// an audit log then prints nothing but the error.
		first := emit
		emit = func(r *audit.Record) error {
			fmt.Fprintf(w, auditRowFormat, "TIME", "MINTED BY", "SERVICE ACCOUNT", "VERB", "RESOURCE", "OBJECT", "CODE")
			emit = first
			return first(r)
		}
	}
	s, err := audit.Trace(inputs, f, func(r *audit.Record) error { return emit(r) })
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	err = auditFileHints(err)
	if err == nil && s.Matched == 0 && output == "" {
		fmt.Fprintf(stdout, "No matching requests made with service-account tokens in %d lines.\n", s.Lines)
	}
	if n := s.Unknown[audit.UnknownBeforeLogs]; n > 0 {
		fmt.Fprintf(stderr, "kubemint: note: %d %s used tokens no TokenRequest in these logs issued: minted before they begin (%s), or the audit policy did not record their TokenRequest (docs/security.md#who-did-it)\n",
			n, plural(n, "request", "requests"), s.FirstEvent.Format(time.RFC3339))
	}
	if s.Malformed > 0 {
		fmt.Fprintf(stderr, "kubemint: warning: skipped %d malformed %s (not one JSON object, or longer than %d MiB); the first: %s\n",
			s.Malformed, plural(s.Malformed, "line", "lines"), audit.MaxLine>>20, s.FirstMalformed)
	}
	return err
}

// auditFileHints adds the fix to an audit file that cannot be opened: a
// pattern that matched nothing reaches kubemint unexpanded, and the API
// server's audit files are root's alone.
func auditFileHints(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Op != "open" {
		return err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return hint.Wrap(err,
			"name the files kube-apiserver writes: its --audit-log-path (with --audit-policy-file, docs/audit/policy.yaml; without a policy it writes no log)",
			"on EKS or AKS, export the events to a file first: docs/security.md#managed-clusters-getting-the-events-out")
	case errors.Is(err, fs.ErrPermission):
		return hint.Wrap(err,
			"the API server's audit files are usually root's alone: sudo kubemint audit FILE..., or sudo cat FILE... | kubemint audit -")
	}
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// The text output is written as it streams, so its columns have fixed
// widths (a tabwriter would hold every line until the end).
const auditRowFormat = "%-20s  %-32s  %-20s  %-7s  %-24s  %-28s  %s\n"

// auditLine is one request as a line of text.
func auditLine(r *audit.Record) string {
	who := "unknown (" + r.Unknown + ")"
	if m := r.MintedBy; m != nil {
		who = m.Username
		if m.Impersonated != "" {
			who += " as " + m.Impersonated
		}
		if g := groupsShown(m.Groups); g != "" {
			who += " (" + g + ")"
		}
		if m.Hops > 0 {
			who += " via " + m.Via
		}
		if r.Impersonated {
			who += " impersonating"
		}
	}
	res := r.Resource
	if r.APIGroup != "" {
		res += "." + r.APIGroup
	}
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	if res == "" {
		// A non-resource request (/api, /version): its path; the query
		// (kubectl's ?timeout=32s) is noise in a column, and -o json keeps it.
		res, _, _ = strings.Cut(r.RequestURI, "?")
	}
	obj := r.Name
	switch {
	case r.Namespace != "" && r.Name == "":
		obj = r.Namespace + "/*" // a list, a watch, a collection
	case r.Namespace != "":
		obj = r.Namespace + "/" + r.Name
	}
	if obj == "" {
		obj = "-"
	}
	code := "-"
	if r.Code != 0 {
		code = strconv.Itoa(int(r.Code))
	}
	return fmt.Sprintf(auditRowFormat, r.Time.UTC().Format(time.RFC3339), who, r.ServiceAccount, r.Verb, res, obj, code)
}

// groupsShown leaves out the group every authenticated user is in.
func groupsShown(groups []string) string {
	var out []string
	for _, g := range groups {
		if g != "system:authenticated" {
			out = append(out, g)
		}
	}
	return strings.Join(out, ",")
}
