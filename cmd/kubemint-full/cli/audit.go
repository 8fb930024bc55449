package cli

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubemint/kubemint/audit"
)

func newAuditCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var q audit.Query
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
			f, err := q.Filter(time.Now())
			if err != nil {
				return err
			}
			inputs, err := audit.Inputs(args, stdin)
			if err != nil {
				return err
			}
			return audit.Report(inputs, f, q.Output, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&q.Output, "output", "o", "", "Output format: json (one object a line, for a SIEM). Default: a line of text per request.")
	fl.StringVar(&q.ServiceAccount, "service-account", "", "Only requests made as this service account, NAMESPACE/NAME.")
	fl.StringVar(&q.MintedBy, "minted-by", "", "Only requests made with tokens this user minted (the TokenRequest's user name, e.g. alice).")
	fl.StringVar(&q.CredentialID, "credential-id", "", "Only requests made with this token: its credential ID as kubemint status prints it (JTI=...), or the JTI alone.")
	fl.StringVar(&q.Since, "since", "", "Only requests received at or after this time: RFC 3339 (2026-12-01T00:00:00Z), or a duration ago (1h, 7d).")
	fl.StringVar(&q.Until, "until", "", "Only requests received before this time: RFC 3339, or a duration ago.")
	return cmd
}
