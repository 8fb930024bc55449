package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/kubemint/kubemint/internal/hint"
)

// Report traces the inputs and writes every matching request to stdout as
// it streams: a line of text each under a header, or with output "json" one
// Record a line (for a SIEM). Notes on tokens of unknown minters and the
// count of malformed lines go to stderr.
func Report(inputs []Input, f Filter, output string, stdout, stderr io.Writer) error {
	w := bufio.NewWriterSize(stdout, 64<<10)
	enc := json.NewEncoder(w)
	emit := func(r *Record) error {
		if output == "json" {
			return enc.Encode(r)
		}
		_, err := io.WriteString(w, textLine(r))
		return err
	}
	if output == "" {
		// The header waits for the first line: an input that is not
		// an audit log then prints nothing but the error.
		first := emit
		emit = func(r *Record) error {
			fmt.Fprintf(w, rowFormat, "TIME", "MINTED BY", "SERVICE ACCOUNT", "VERB", "RESOURCE", "OBJECT", "CODE")
			emit = first
			return first(r)
		}
	}
	s, err := Trace(inputs, f, func(r *Record) error { return emit(r) })
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	err = fileHints(err)
	if err == nil && s.Matched == 0 && output == "" {
		fmt.Fprintf(stdout, "No matching requests made with service-account tokens in %d lines.\n", s.Lines)
	}
	if n := s.Unknown[UnknownBeforeLogs]; n > 0 {
		fmt.Fprintf(stderr, "kubemint: note: %d %s used tokens no TokenRequest in these logs issued: minted before they begin (%s), or the audit policy did not record their TokenRequest (docs/security.md#who-did-it)\n",
			n, plural(n, "request", "requests"), s.FirstEvent.Format(time.RFC3339))
	}
	if s.Malformed > 0 {
		fmt.Fprintf(stderr, "kubemint: warning: skipped %d malformed %s (not one JSON object, or longer than %d MiB); the first: %s\n",
			s.Malformed, plural(s.Malformed, "line", "lines"), MaxLine>>20, s.FirstMalformed)
	}
	return err
}

// fileHints adds the fix to an audit file that cannot be opened: a
// pattern that matched nothing reaches kubemint unexpanded, and the API
// server's audit files are root's alone.
func fileHints(err error) error {
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
const rowFormat = "%-20s  %-32s  %-20s  %-7s  %-24s  %-28s  %s\n"

// textLine is one request as a line of text.
func textLine(r *Record) string {
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
	return fmt.Sprintf(rowFormat, r.Time.UTC().Format(time.RFC3339), who, r.ServiceAccount, r.Verb, res, obj, code)
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
