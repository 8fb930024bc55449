// Package provision is what kubemint setup and kubemint use do to a
// cluster and a kubeconfig: check first (the kubeconfig change, then every
// SelfSubjectAccessReview, before anything is written), plan (the objects
// and the kubeconfig change, as data), apply, prove (mint once through the
// token flow, as kubectl will, and ask who the token is), and report, one
// line per step.
//
// The CLI parses flags and validates them; this package does the rest.
// Deps holds what a unit test replaces: where the report goes, kubemint's
// own path, the mint and the clock. The API server is the source
// context's, so a test points that context at a fake one.
package provision

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/kubeconfig"
	"github.com/kubemint/kubemint/resolve"
)

// Request is what setup and use have in common: the account, the source
// context and the context to write.
type Request struct {
	// Namespace and Name are the service account, already validated.
	Namespace, Name string
	// SourceKubeconfig and SourceContext name the source ("" for the
	// defaults: $KUBECONFIG, the current context).
	SourceKubeconfig, SourceContext string
	// ContextName is the context (and user) to write; "" for
	// NAMESPACE-NAME@CLUSTER.
	ContextName string
	// KubeconfigOut is a standalone kubeconfig to write instead of editing
	// the source's; Force replaces it when it holds something else.
	KubeconfigOut string
	Force         bool
	// Duration is the lifetime of the tokens the exec entry mints.
	Duration  time.Duration
	Verbosity int
	// Revocable binds every token to the account's revocation Secret
	// (SecretName), which kubemint revoke deletes.
	Revocable bool
	// Changed says whether the user set a flag (by its name), so that a
	// re-run keeps what an existing context set and the run did not say;
	// nil: none was set.
	Changed func(flag string) bool
}

// Account is NAMESPACE/NAME.
func (r Request) Account() string { return r.Namespace + "/" + r.Name }

// Deps are the flow's dependencies; DefaultDeps gives the real ones.
type Deps struct {
	// Stdout gets the report, Stderr -v lines and the token flow's
	// warnings.
	Stdout, Stderr io.Writer
	// KubemintPath is the exec entry's command.
	KubemintPath func() (string, error)
	// Mint mints once with the exec entry's options o, as kubectl's first
	// call will, and returns the token.
	Mint func(ctx context.Context, src *exchange.Source, o credential.Options, stderr io.Writer) (string, error)
	// Now names the kubeconfig's backup.
	Now func() time.Time
	// PolicyLoad is how long setup waits for the API server to load a new
	// or updated revocation policy (it loads them a moment after they are
	// written); 0 asks once.
	PolicyLoad time.Duration
}

// DefaultDeps are the real dependencies.
func DefaultDeps(stdout, stderr io.Writer) Deps {
	return Deps{Stdout: stdout, Stderr: stderr, KubemintPath: kubeconfig.KubemintPath, Mint: mintAsExec, Now: time.Now, PolicyLoad: 10 * time.Second}
}

// mintAsExec mints through the token flow, so that the token lands under
// the cache key kubectl's first call will look up.
func mintAsExec(ctx context.Context, src *exchange.Source, o credential.Options, stderr io.Writer) (string, error) {
	// The cluster as client-go will describe it in KUBERNETES_EXEC_INFO,
	// so that kubectl's first call is a cache hit.
	cluster := &credential.Cluster{Server: src.Server, CertificateAuthorityData: src.CAData}
	c, err := resolve.Resolve(ctx, resolve.Request{Options: o, Cluster: cluster}, resolve.DefaultDeps(stderr))
	if err != nil {
		return "", hint.Wrap(err)
	}
	return c.Token, nil
}

// job is one run of setup or use, from start to report: the skeleton both
// share.
type job struct {
	r      Request
	d      Deps
	logf   exchange.Logf
	src    *exchange.Source
	client *exchange.Client // as the source
	plan   *kubeconfig.Plan
	rep    *Report
}

// start loads the source, plans the kubeconfig change with the exec
// entry's token options, and checks it: nothing is asked of the cluster
// yet.
func start(r Request, token credential.Options, dryRun bool, d Deps) (*job, error) {
	j := &job{r: r, d: d, logf: credential.NewLogf(d.Stderr, r.Verbosity), rep: &Report{w: d.Stdout, DryRun: dryRun}}
	var err error
	if j.src, err = exchange.LoadSource(r.SourceKubeconfig, r.SourceContext); err != nil {
		return nil, err
	}
	if j.client, err = exchange.NewClient(j.src.Config, j.src.Label, j.logf); err != nil {
		return nil, err
	}
	token.ServiceAccount, token.SourceContext, token.Duration, token.Cache = r.Account(), j.src.Context, r.Duration, string(cache.Auto)
	j.plan, err = kubeconfig.NewPlan(kubeconfig.PlanRequest{
		SourceKubeconfig: r.SourceKubeconfig, Source: j.src.Context, Server: j.src.Server, CAData: j.src.CAData,
		ContextName: r.ContextName, Namespace: r.Namespace, Name: r.Name, Out: r.KubeconfigOut,
		Command: d.KubemintPath, Token: token,
	})
	if err != nil {
		return nil, err
	}
	return j, j.plan.Check(r.Force)
}

// prove mints through the exec entry's options, as kubectl will, and
// returns a client that is the minted token and who it is. A failed mint
// is reported after mintFailed, when set.
func (j *job) prove(ctx context.Context, mintFailed string) (*exchange.Client, string, error) {
	o, err := kubeconfig.TokenOptions(j.plan.Context.Exec)
	if err != nil {
		return nil, "", err
	}
	o.Verbosity = j.r.Verbosity
	token, err := j.d.Mint(ctx, j.src, o, j.d.Stderr)
	if err != nil && mintFailed != "" {
		return nil, "", fmt.Errorf("%s: %w", mintFailed, err)
	}
	if err != nil {
		return nil, "", err
	}
	sa, err := exchange.NewClient(exchange.AsToken(j.src.Config, token), "the token of "+j.r.Account(), j.logf)
	if err != nil {
		return nil, "", err
	}
	who, err := sa.WhoAmI(ctx)
	return sa, who.Username, err
}

// keep fills into token, from the context as it is now (when it runs
// kubemint token for the same account), what this run did not set: the
// bound object (--revocable), --duration, --self-renew (with
// --max-chain-age), audiences and --allow-server. A re-run with fewer flags then changes
// nothing instead of dropping them. It returns the flags it kept, for the
// report.
func (j *job) keep(token *credential.Options) []string {
	old := j.plan.Existing
	if old == nil {
		return nil
	}
	set := func(flag string) bool { return j.r.Changed != nil && j.r.Changed(flag) }
	var kept []string
	if token.BoundObjectKind == "" && old.BoundObjectKind != "" && !set("revocable") {
		token.BoundObjectKind, token.BoundObjectName, token.BoundObjectUID = old.BoundObjectKind, old.BoundObjectName, old.BoundObjectUID
		if old.BoundObjectKind == "Secret" && old.BoundObjectName == SecretName(j.r.Name) {
			kept = append(kept, "--revocable")
		} else {
			kept = append(kept, "--bound-object-kind="+old.BoundObjectKind, "--bound-object-name="+old.BoundObjectName)
		}
	}
	if old.Duration != token.Duration && !set("duration") {
		token.Duration = old.Duration
		kept = append(kept, "--duration="+old.Duration.String())
	}
	if old.SelfRenew && !token.SelfRenew && !set("self-renew") {
		token.SelfRenew, token.MaxChainAge = true, old.MaxChainAge
		kept = append(kept, "--self-renew")
	}
	if len(token.Audiences) == 0 && len(old.Audiences) > 0 {
		token.Audiences = old.Audiences
		kept = append(kept, "--audience="+strings.Join(old.Audiences, ","))
	}
	// Neither setup nor use takes --allow-server: one added by hand stays.
	for _, a := range old.AllowServers {
		if !slices.Contains(token.AllowServers, a) {
			token.AllowServers = append(token.AllowServers, a)
			kept = append(kept, "--allow-server="+a)
		}
	}
	return kept
}

// replan writes token into the planned exec entry and checks the plan
// again.
func (j *job) replan(token credential.Options) error {
	if err := j.plan.SetToken(token); err != nil {
		return err
	}
	return j.plan.Check(j.r.Force)
}

// tokenOptions are the planned exec entry's token options.
func (j *job) tokenOptions() (credential.Options, error) {
	return kubeconfig.TokenOptions(j.plan.Context.Exec)
}

// warn prints one warning line on stderr.
func (j *job) warn(format string, args ...any) {
	fmt.Fprintf(j.d.Stderr, "kubemint: warning: "+format+"\n", args...)
}

// risks warns, one line each, of what the account's role allows that
// defeats short-lived, revocable tokens (exchange.Risks). It asks as the
// source (SubjectAccessReviews) when the source may, else as the account
// with self (nil: not asked).
func (j *job) risks(ctx context.Context, self *exchange.Client, policy bool) {
	asAdmin, err := j.client.CanI(ctx, "create", "authorization.k8s.io", "subjectaccessreviews", "", "")
	c := j.client
	if err != nil || !asAdmin {
		if c = self; c == nil {
			return
		}
	}
	risks, err := c.Risks(ctx, j.r.Namespace, j.r.Name, asAdmin, policy)
	if err != nil {
		j.logf(1, "could not ask what %s may do: %v", j.r.Account(), err)
	}
	for _, r := range risks {
		j.warn("%s", r.Line(j.r.Account(), j.r.Namespace))
	}
}

// write writes the kubeconfig change and reports it.
func (j *job) write() error {
	c, backups, err := j.plan.Write(j.r.Force, j.d.Now())
	if err != nil {
		return err
	}
	j.rep.step(c, j.contextLine())
	for _, b := range backups {
		fmt.Fprintf(j.d.Stdout, "           (the kubeconfig as it was is kept in %s)\n", b)
	}
	return nil
}

func (j *job) contextLine() string {
	return fmt.Sprintf("context %s in %s", j.plan.Context.Name, j.plan.File)
}

// actsAs is the report's last word: how to use the context, and who it is.
func (j *job) actsAs(user string) {
	fmt.Fprintf(j.d.Stdout, "\n%s acts as %s.\n", j.plan.KubectlLine(), user)
}

// traceLine is the one line setup and use print about tracing the
// account's requests to who minted each token (kubemint audit); mintedBy,
// when known, narrows it to one minter.
func traceLine(account, mintedBy string) string {
	line := "kubemint audit --service-account=" + account
	if mintedBy != "" {
		line += " --minted-by=" + mintedBy
	}
	return "Who minted the token behind each request (from the API server's audit log, docs/security.md#who-did-it): " + line + " AUDIT-LOG...\n"
}

// Report is what setup and use did (or with --dry-run would do), written
// one line per step as it happens, and kept.
type Report struct {
	w      io.Writer
	DryRun bool
	// Steps are the lines written, in order.
	Steps []Step
	// Changed says whether any step changed anything.
	Changed bool
}

// Step is one line of the report.
type Step struct {
	Change kubeconfig.Change
	What   string
}

// kept reports the flags a re-run kept: what the existing context set, or
// an earlier setup made, and this run did not say.
func (r *Report) kept(flags []string) {
	if len(flags) == 0 {
		return
	}
	what := fmt.Sprintf("%s, as set up before: this run did not say (set them to change them)", strings.Join(flags, " "))
	if r.DryRun {
		fmt.Fprintf(r.w, "%-14s%s\n", "would keep", what)
		return
	}
	fmt.Fprintf(r.w, "%-11s%s\n", "kept", what)
}

func (r *Report) step(c kubeconfig.Change, what string) {
	r.Steps = append(r.Steps, Step{c, what})
	if c != kubeconfig.Unchanged {
		r.Changed = true
	}
	if r.DryRun {
		fmt.Fprintf(r.w, "%-14s%s\n", [...]string{"unchanged", "would create", "would update"}[c], what)
		return
	}
	fmt.Fprintf(r.w, "%-11s%s\n", [...]string{"unchanged", "created", "updated"}[c], what)
}
