// Package inventory lists and forgets what kubemint has cached, for
// kubemint status and clean: each cache entry's index record (cache.Info)
// read through cache.Store, with the labels the token flow gave it
// (resolve.Label*), as a table, JSON or YAML. It never reads a token.
package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/resolve"
)

// Entry is one line of kubemint status; it never holds a token.
type Entry struct {
	ServiceAccount string    `json:"serviceAccount"`
	Server         string    `json:"server"`
	Audiences      []string  `json:"audiences,omitempty"`
	BoundObject    string    `json:"boundObject,omitempty"`
	SourceContext  string    `json:"sourceContext,omitempty"`
	Cache          string    `json:"cache"`
	Issued         time.Time `json:"issued"`
	Expires        time.Time `json:"expires"`
	RefreshAt      time.Time `json:"refreshAt"`
	Key            string    `json:"key"`
	// CredentialID names the token in the API server's audit log
	// (JTI=...; kubemint audit --credential-id); Issued is then its iat.
	CredentialID string `json:"credentialID,omitempty"`
}

// Filter selects entries: by service account, by source context;
// empty fields select all.
type Filter struct {
	ServiceAccount, SourceContext string
}

func (f Filter) keep(e Entry) bool {
	return (f.ServiceAccount == "" || e.ServiceAccount == f.ServiceAccount) && (f.SourceContext == "" || e.SourceContext == f.SourceContext)
}

// Status writes the entries of the cache in dir that filter keeps, sorted,
// to stdout: as output "json" or "yaml", else a table whose times are
// relative to now. logf receives the cache's messages (-v), its warnings
// about the cache directory at every level.
func Status(stdout io.Writer, logf func(int, string, ...any), dir, output string, filter Filter, now time.Time) error {
	infos, err := (&cache.Store{Dir: dir, Logf: logf}).List()
	if err != nil {
		return fmt.Errorf("reading the cache index in %s: %w", dir, err)
	}
	entries := make([]Entry, 0, len(infos))
	for _, in := range infos {
		e := Entry{
			ServiceAccount: in.Labels[resolve.LabelAccount],
			Server:         in.Labels[resolve.LabelServer],
			BoundObject:    in.Labels[resolve.LabelBound],
			SourceContext:  in.Labels[resolve.LabelSourceContext],
			Cache:          string(in.Backend),
			Issued:         in.Issued.UTC(),
			Expires:        in.Expiry.UTC(),
			RefreshAt:      in.RefreshAt.UTC(),
			Key:            in.Key,
			CredentialID:   in.Labels[resolve.LabelCredentialID],
		}
		if iat, err := time.Parse(time.RFC3339, in.Labels[resolve.LabelIssuedAt]); err == nil {
			e.Issued = iat.UTC()
		}
		if a := in.Labels[resolve.LabelAudience]; a != "" {
			e.Audiences = strings.Split(a, ",")
		}
		if filter.keep(e) {
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries, func(a, b Entry) int {
		return strings.Compare(a.ServiceAccount+" "+a.Server+" "+a.Key, b.ServiceAccount+" "+b.Server+" "+b.Key)
	})
	switch output {
	case "json":
		b, err := json.MarshalIndent(map[string]any{"entries": entries}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(map[string]any{"entries": entries})
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	if len(entries) == 0 {
		what := "cached credentials"
		if filter != (Filter{}) {
			what = "matching cached credentials"
		}
		_, err := fmt.Fprintf(stdout, "No %s in %s.\n", what, dir)
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "SERVICE ACCOUNT\tSERVER\tSOURCE CONTEXT\tAUDIENCES\tBOUND TO\tCACHE\tEXPIRES\tRE-MINT\tISSUED\tCREDENTIAL ID")
	for _, e := range entries {
		aud := "<api server>"
		if len(e.Audiences) > 0 {
			aud = strings.Join(e.Audiences, ",")
		}
		src := e.SourceContext
		if src == "" {
			src = "-"
		}
		// An unbound token outlives kubemint revoke: say so, not "-".
		bound := e.BoundObject
		if bound == "" {
			bound = "unbound"
		}
		id := e.CredentialID
		if id == "" {
			id = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ServiceAccount, e.Server, src, aud, bound, e.Cache, relative(e.Expires, now), relative(e.RefreshAt, now), relative(e.Issued, now), id)
	}
	return tw.Flush()
}

// relative prints a time as kubectl prints ages: "in 47m", "3m ago".
func relative(t, now time.Time) string {
	if t.After(now) {
		return "in " + duration.HumanDuration(t.Sub(now))
	}
	return duration.HumanDuration(now.Sub(t)) + " ago"
}

// Clean forgets the entries of the cache in dir, all or account's (and,
// for all, the temporary files of killed writers), and says how many on
// stdout; an entry it could not forget makes the error.
func Clean(stdout io.Writer, logf func(int, string, ...any), dir, account string) error {
	store := &cache.Store{Dir: dir, Logf: logf}
	infos, err := store.List()
	if err != nil {
		return fmt.Errorf("reading the cache index in %s: %w", dir, err)
	}
	n := 0
	var errs []string
	for _, in := range infos {
		if account != "" && in.Labels[resolve.LabelAccount] != account {
			continue
		}
		if err := store.Forget(in); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		logf(4, "forgot the %s entry %s of %s on %s", in.Backend, in.Key, in.Labels[resolve.LabelAccount], in.Labels[resolve.LabelServer])
		n++
	}
	if account == "" {
		// Left by writers killed before their rename; they hold tokens.
		if err := store.RemoveTemps(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	what := "cached credentials"
	if account != "" {
		what = "cached credentials of " + account
	}
	fmt.Fprintf(stdout, "Forgot %d %s.\n", n, what)
	if len(errs) > 0 {
		return fmt.Errorf("could not forget every entry: %s", strings.Join(errs, "; "))
	}
	return nil
}
