package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/resolve"
)

// statusEntry is one line of kubemint status; it never holds a token.
type statusEntry struct {
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

// statusFilter selects entries: by service account, by source context;
// empty fields select all.
type statusFilter struct {
	account, sourceContext string
}

func (f statusFilter) keep(e statusEntry) bool {
	return (f.account == "" || e.ServiceAccount == f.account) && (f.sourceContext == "" || e.SourceContext == f.sourceContext)
}

func newStatusCmd(stdout, stderr io.Writer) *cobra.Command {
	var output string
	var filter statusFilter
	var verbosity int
	cmd := &cobra.Command{
		Use:   "status [--service-account NAMESPACE/NAME] [--source-context CTX] [-o json|yaml]",
		Short: "List cached credentials: account, server, where stored, when they expire and are re-minted",
		Long: `List every credential kubemint has cached: service account, API server,
audiences, the source context that mints it (when the exec entry names one),
the object its token is bound to (kubemint revoke kills tokens bound to the
account's revocation Secret; an unbound one lives until it expires), where
it is stored, when it expires and when it will be re-minted, when it was
issued and its credential ID (JTI=..., the name the API server's audit log
gives every request made with it; see kubemint audit). Never the token
itself. --service-account and --source-context list only the matching
entries.

Exit status: 0; 1 with one line on stderr if the cache cannot be read.`,
		Example: `  kubemint status
  kubemint status --service-account=ci/deployer --source-context=admin
  kubemint status -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" && output != "json" && output != "yaml" {
				return fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json,yaml", output)
			}
			if filter.account != "" {
				o := credential.Options{ServiceAccount: filter.account}
				if _, _, err := o.Account(); err != nil {
					return err
				}
			}
			return runStatus(stdout, credential.NewLogf(stderr, verbosity), cache.DefaultDir(), output, filter, time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: json or yaml. Default: a table.")
	cmd.Flags().StringVar(&filter.account, "service-account", "", "List only this service account's credentials, as NAMESPACE/NAME.")
	cmd.Flags().StringVar(&filter.sourceContext, "source-context", "", "List only the credentials minted with this source context.")
	credential.AddVerbosityFlag(cmd.Flags(), &verbosity)
	return cmd
}

// logf receives the cache's messages (-v), its warnings about the cache
// directory at every level.
func runStatus(stdout io.Writer, logf func(int, string, ...any), dir, output string, filter statusFilter, now time.Time) error {
	infos, err := (&cache.Store{Dir: dir, Logf: logf}).List()
	if err != nil {
		return fmt.Errorf("reading the cache index in %s: %w", dir, err)
	}
	entries := make([]statusEntry, 0, len(infos))
	for _, in := range infos {
		e := statusEntry{
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
	slices.SortFunc(entries, func(a, b statusEntry) int {
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
		if filter != (statusFilter{}) {
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

func newCleanCmd(stdout, stderr io.Writer) *cobra.Command {
	var account string
	var verbosity int
	cmd := &cobra.Command{
		Use:   "clean [--service-account NAMESPACE/NAME]",
		Short: "Forget cached credentials, all or one service account's",
		Long: `Forget cached credentials: every one, or those of one service account, from
the keyring or file cache that holds them. The next kubectl call mints a new
token. Tokens already handed out stay valid until they expire; to revoke them,
see docs/security.md.

Exit status: 0 when every matching entry was forgotten; 1 otherwise.`,
		Example: `  kubemint clean
  kubemint clean --service-account=ci/deployer`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if account != "" {
				o := credential.Options{ServiceAccount: account}
				if _, _, err := o.Account(); err != nil {
					return err
				}
			}
			return runClean(stdout, credential.NewLogf(stderr, verbosity), cache.DefaultDir(), account)
		},
	}
	cmd.Flags().StringVar(&account, "service-account", "", "Forget only this service account's credentials, as NAMESPACE/NAME.")
	credential.AddVerbosityFlag(cmd.Flags(), &verbosity)
	return cmd
}

func runClean(stdout io.Writer, logf func(int, string, ...any), dir, account string) error {
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
