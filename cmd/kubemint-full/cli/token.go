package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	clientauthv1beta1 "k8s.io/client-go/pkg/apis/clientauthentication/v1beta1"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/redact"
)

// lockWaitMargin is how much longer than one mint (--request-timeout, or
// exchange.DefaultTimeout) a caller with no valid token waits for another
// kubemint process that holds the lock: long enough for that process to
// finish or give up, short enough that kubectl does not hang for minutes
// behind a holder that is stuck (stopped, or its source never answers).
const lockWaitMargin = 5 * time.Second

// staleRetry is how soon a client is asked to come back when kubemint serves
// a still-valid token that is due for a re-mint, because minting a new one
// failed or another process is minting it.
const staleRetry = 30 * time.Second

// mintingEnv is set while kubemint mints, so a kubemint started by that
// mint (a source context whose credentials come from kubemint, perhaps
// through a wrapper script) refuses instead of forking without end.
const mintingEnv = "KUBEMINT_MINTING"

type tokenCmd struct {
	credential.Options
	stdout, stderr io.Writer
	execInfo       string
	// cluster is the API server the credential is for, from the exec info
	// or, failing that, the source.
	cluster  *credential.Cluster
	now      func() time.Time
	cacheDir string
}

func newTokenCmd(stdout, stderr io.Writer) *cobra.Command {
	t := &tokenCmd{stdout: stdout, stderr: stderr, now: time.Now}
	cmd := &cobra.Command{
		Use:   "token --service-account NAMESPACE/NAME [--source-context CTX]",
		Short: "Print an ExecCredential with a service-account token (run by kubectl)",
		Long: `Print an ExecCredential that holds a TokenRequest token for a service
account, for a kubeconfig users[].user.exec entry. The token is served from the
cache until shortly before it expires, then minted again with the credentials
of --source-context. stdout carries the ExecCredential and nothing else.

Exit status: 0 with an ExecCredential on stdout; 1 with one line on stderr
that says what failed and how to fix it, and nothing on stdout.`,
		Example: `  # The kubeconfig exec entry that kubectl runs
  users:
  - name: deployer
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: kubemint
        args: [token, --service-account=ci/deployer, --source-context=admin]
        interactiveMode: Never
        provideClusterInfo: true

  # By hand: mint (or reuse) a 2h token bound to a Secret
  kubemint token --service-account=ci/deployer --source-context=admin \
    --duration=2h --bound-object-kind=Secret --bound-object-name=deployer-kubemint`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := t.Validate(); err != nil {
				return err
			}
			t.execInfo = os.Getenv("KUBERNETES_EXEC_INFO")
			t.cacheDir = cache.DefaultDir()
			return t.run(cmd.Context())
		},
	}
	t.AddFlags(cmd.Flags())
	registerCompletions(cmd, &t.Options)
	return cmd
}

// registerCompletions completes the flags whose values kubemint can list.
func registerCompletions(cmd *cobra.Command, o *credential.Options) {
	fixed := func(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("cache", fixed("auto", "keyring", "file", "none"))
	_ = cmd.RegisterFlagCompletionFunc("bound-object-kind", fixed("Pod", "Secret"))
	_ = cmd.RegisterFlagCompletionFunc("source-context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		names, err := exchange.ContextNames(o.SourceKubeconfig)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
}

// run is the whole token flow: read the exec info, lock, look up, mint if
// needed, save, write.
func (t *tokenCmd) run(ctx context.Context) error {
	logf := credential.NewLogf(t.stderr, t.Verbosity)
	ns, name, _ := t.Account()
	info, err := parseExecInfo(t.execInfo)
	if err != nil {
		return err
	}

	var src *exchange.Source
	if info.Cluster == nil {
		// No provideClusterInfo (or run by hand): the cache key needs the
		// API server, and the source names it.
		if src, err = t.loadSource(); err != nil {
			return err
		}
		info.Cluster = &credential.Cluster{Server: src.Server, CertificateAuthorityData: src.CAData}
	}
	t.cluster = info.Cluster
	if src != nil {
		t.registerSource(src)
	}
	key := credential.Key(&t.Options, *info.Cluster)
	store := &cache.Store{Mode: cache.Mode(t.Cache), Dir: t.cacheDir, Logf: logf, Now: t.now}

	if err := refuseLoop(); err != nil {
		return err
	}
	var cached *cache.Entry
	var cachedIn cache.Backend
	// refusedByServer: the API server refused the cached token (revoked
	// before it expired). It is never served again.
	refusedByServer := false
	if store.Mode != cache.None {
		unlock, stale, err := t.lock(ctx, store, key, logf)
		switch {
		case stale != nil:
			return t.write(info.APIVersion, stale.Token, t.serveUntil(*stale))
		case errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("no valid cached token for %s to serve meanwhile: %w; check that the API server answers, then try again", t.ServiceAccount, err)
		case err != nil:
			// A read-only or broken home must not break kubectl.
			fmt.Fprintf(t.stderr, "kubemint: warning: cannot use the cache (%v); minting without it, as --cache=none would\n", err)
			store.Mode = cache.None
		default:
			defer unlock()
		}
	}
	if store.Mode != cache.None {
		e, backend, err := store.Load(key)
		if err == nil {
			t.secret(e.Token)
			cachedIn = backend
		}
		switch {
		case err == nil && e.Fresh(t.now(), t.RefreshBefore) && !t.refused(ctx, store, key, e.Token, logf):
			logf(4, "served the cached token for %s from the %s cache", t.ServiceAccount, backend)
			return t.write(info.APIVersion, e.Token, e.RefreshAt(t.RefreshBefore))
		case err == nil && e.Fresh(t.now(), t.RefreshBefore):
			// Refused: mint a new one, and never serve this one again.
			cached, refusedByServer = &e, true
		case err == nil:
			logf(4, "the cached token for %s is due for a re-mint", t.ServiceAccount)
			cached = &e
		case errors.Is(err, cache.ErrCorrupt):
			logf(1, "the cached entry for %s in the %s cache is unreadable; minting a new token to replace it", t.ServiceAccount, backend)
		case errors.Is(err, os.ErrNotExist):
			logf(4, "no cached token for %s", t.ServiceAccount)
		case errors.Is(err, cache.ErrInsecure):
			fmt.Fprintf(t.stderr, "kubemint: warning: not using the cached token for %s: %v; minting a new one to replace it\n", t.ServiceAccount, err)
		default:
			logf(1, "could not read the cache for %s: %v", t.ServiceAccount, err)
		}
	}

	renewable := cached
	if refusedByServer {
		// A revoked token cannot renew itself: go straight to the source.
		renewable = nil
	}
	tok, chainStart, err := t.mint(ctx, src, *info.Cluster, renewable, ns, name, logf)
	if err != nil {
		if cached != nil && cached.Valid(t.now()) && !refusedByServer {
			// Due for a re-mint, not yet checked: a client asking again
			// after a 401 must not get the refused token back.
			refusedByServer = t.refused(ctx, store, key, cached.Token, logf)
		}
		if refusedByServer {
			return t.forgetRefused(store, key, cachedIn, err)
		}
		if cached != nil && cached.Valid(t.now()) {
			logf(1, "%v", err)
			logf(1, "serving the cached token for %s, valid until %s, and retrying the mint on the next call", t.ServiceAccount, cached.Expiry.Format(time.RFC3339))
			return t.write(info.APIVersion, cached.Token, t.serveUntil(*cached))
		}
		return err
	}
	t.secret(tok.Token)
	// Whole seconds, as the cache stores them: the answer to this call and
	// every later cache hit then name the same refresh point.
	entry := cache.Entry{Token: tok.Token, Issued: tok.Issued.Truncate(time.Second), Expiry: tok.Expiry.Truncate(time.Second), ChainStart: chainStart.Truncate(time.Second)}
	logf(4, "minted a token for %s, valid until %s", t.ServiceAccount, tok.Expiry.Format(time.RFC3339))
	if store.Mode != cache.None {
		backend, err := store.Save(key, entry)
		switch {
		case err != nil && store.Mode == cache.Keyring:
			return fmt.Errorf("%v; the token was not cached: unlock the keyring or use --cache=file", err)
		case err != nil:
			fmt.Fprintf(t.stderr, "kubemint: warning: could not cache the token, the next call will mint again: %v\n", err)
		default:
			logf(4, "stored the token in the %s cache", backend)
			if err := store.SaveInfo(t.info(key, info.Cluster.Server, backend, entry)); err != nil {
				logf(1, "could not record the entry for kubemint status: %v", err)
			}
		}
		store.WriteServed(key, cache.Served{PID: os.Getppid(), Last: t.now()})
	}
	return t.write(info.APIVersion, entry.Token, entry.RefreshAt(t.RefreshBefore))
}

// lock takes the cache lock for key. When another process holds it (it is
// minting, or it is stuck: stopped, or its source never answers), a caller
// that has a still-valid token in the cache does not queue behind it: it
// gets that entry back, to serve at once (stale-while-revalidate). Only a
// caller with nothing valid to serve waits, for at most lockWait.
func (t *tokenCmd) lock(ctx context.Context, store *cache.Store, key string, logf exchange.Logf) (unlock func(), stale *cache.Entry, err error) {
	unlock, ok, err := store.TryLock(key)
	if err != nil || ok {
		return unlock, nil, err
	}
	if e, ok := t.servableWhileBusy(store, key); ok {
		logf(1, "another kubemint process is minting %s; serving the cached token, valid until %s, meanwhile", t.ServiceAccount, e.Expiry.Format(time.RFC3339))
		return nil, &e, nil
	}
	logf(4, "another kubemint process is minting %s; waiting up to %v for it", t.ServiceAccount, t.lockWait())
	lockCtx, cancel := context.WithTimeout(ctx, t.lockWait())
	defer cancel()
	unlock, err = store.Lock(lockCtx, key)
	return unlock, nil, err
}

// lockWait bounds the wait for the lock: one mint's timeout and a margin.
func (t *tokenCmd) lockWait() time.Duration {
	d := t.RequestTimeout
	if d <= 0 {
		d = exchange.DefaultTimeout
	}
	return d + lockWaitMargin
}

// servableWhileBusy reads the cached entry without the lock (entries are
// replaced by rename, so a read sees a whole one) and reports whether it
// may be served while another process mints: not expired, and not asked for
// again by the same client moments after it was served, which is client-go
// retrying after a 401; that caller waits for the new token instead.
func (t *tokenCmd) servableWhileBusy(store *cache.Store, key string) (cache.Entry, bool) {
	e, _, err := store.Load(key)
	if err != nil || !e.Valid(t.now()) {
		return cache.Entry{}, false
	}
	t.secret(e.Token)
	pid, now := os.Getppid(), t.now()
	served := store.ReadServed(key)
	if credential.Repeat(served, pid, now) {
		return cache.Entry{}, false
	}
	store.WriteServed(key, credential.Next(served, pid, now))
	return e, true
}

// serveUntil is the expirationTimestamp to hand out with e: its refresh
// point while it is fresh; once it is due for a re-mint that this call
// could not make, staleRetry from now (or its expiry, if sooner), so the
// client comes back soon for the new token.
func (t *tokenCmd) serveUntil(e cache.Entry) time.Time {
	if e.Fresh(t.now(), t.RefreshBefore) {
		return e.RefreshAt(t.RefreshBefore)
	}
	retry := t.now().Add(staleRetry)
	if e.Expiry.Before(retry) {
		retry = e.Expiry
	}
	return retry
}

// forgetRefused deletes the cached token the API server refused (with its
// status record), so no later call serves it again: the lean front answers
// hits without asking the server. It returns the one error that says both
// what happened to the token and why no new one could be minted.
func (t *tokenCmd) forgetRefused(store *cache.Store, key string, backend cache.Backend, mintErr error) error {
	if err := store.Forget(cache.Info{Key: key, Backend: backend}); err != nil {
		fmt.Fprintf(t.stderr, "kubemint: warning: could not delete the refused token from the cache: %v\n", err)
	}
	return fmt.Errorf("the API server refuses the cached token for %s (revoked?) and a new one could not be minted: %w", t.ServiceAccount, mintErr)
}

// secret tells stderr's redactor a token kubemint now holds.
func (t *tokenCmd) secret(token string) { redact.Add(t.stderr, token) }

// registerSource tells stderr's redactor the source's bearer token: the
// one in its config, or in the file client-go reads it from (only a small
// regular file: a pipe or a device is left to client-go).
func (t *tokenCmd) registerSource(src *exchange.Source) {
	if src == nil || src.Config == nil {
		return
	}
	t.secret(src.Config.BearerToken)
	if p := src.Config.BearerTokenFile; p != "" {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Size() <= maxRedactRead {
			if b, err := os.ReadFile(p); err == nil {
				t.secret(string(b))
			}
		}
	}
}

// maxRedactRead bounds the token file registerSource reads.
const maxRedactRead = 64 << 10

// refused reports whether the API server now refuses a cached token that
// has not expired. It asks only when the same client asked for this entry
// moments ago, which client-go does after a 401 (the token was revoked);
// then one SelfSubjectReview with the token, sent to the cluster the token
// is for, settles it. Any other failure of that check counts as not
// refused: the token is served as before.
func (t *tokenCmd) refused(ctx context.Context, store *cache.Store, key string, token string, logf exchange.Logf) bool {
	pid, now := os.Getppid(), t.now()
	served := store.ReadServed(key)
	if !credential.Repeat(served, pid, now) {
		store.WriteServed(key, credential.Next(served, pid, now))
		return false
	}
	self := exchange.SelfSource(t.ServiceAccount, t.cluster.Server, t.cluster.CertificateAuthorityData, token)
	if t.RequestTimeout > 0 {
		self.Config.Timeout = t.RequestTimeout
	}
	c, err := exchange.NewClient(self.Config, "the token of "+t.ServiceAccount, logf)
	if err != nil {
		return false
	}
	if _, err := c.WhoAmI(ctx); apierrors.IsUnauthorized(err) {
		logf(1, "the API server refuses the cached token for %s (revoked before it expired); minting a new one", t.ServiceAccount)
		return true
	}
	// Good (or unknown): spare this process further checks for a while.
	store.WriteServed(key, credential.Verified(pid, now))
	return false
}

// info describes a cached entry for kubemint status and clean.
func (t *tokenCmd) info(key, server string, backend cache.Backend, e cache.Entry) cache.Info {
	labels := map[string]string{
		labelAccount:  t.ServiceAccount,
		labelServer:   server,
		labelAudience: strings.Join(t.Audiences, ","),
	}
	if t.BoundObjectKind != "" {
		labels[labelBound] = t.BoundObjectKind + "/" + t.BoundObjectName
	}
	return cache.Info{Key: key, Labels: labels, Backend: backend, Issued: e.Issued, Expiry: e.Expiry, RefreshAt: e.RefreshAt(t.RefreshBefore)}
}

// The labels kubemint writes into cache.Info.
const (
	labelAccount  = "serviceAccount"
	labelServer   = "server"
	labelAudience = "audiences"
	labelBound    = "boundObject"
)

// loadSource loads the configured source: a pod's own token, a token
// file, or (the default) a kubeconfig context.
func (t *tokenCmd) loadSource() (*exchange.Source, error) {
	var src *exchange.Source
	var err error
	switch {
	case t.SourceInCluster:
		src, err = exchange.InCluster()
	case t.SourceTokenFile != "":
		server, ca := t.SourceServer, []byte(nil)
		if t.SourceCA != "" {
			if ca, err = exchange.ReadBounded(t.SourceCA, "--source-certificate-authority", exchange.CAFileLimit); err != nil {
				return nil, err
			}
		}
		if server == "" && t.cluster != nil {
			server, ca = t.cluster.Server, t.cluster.CertificateAuthorityData
		}
		src, err = exchange.TokenFile(t.SourceTokenFile, server, ca)
	default:
		src, err = exchange.LoadSource(t.SourceKubeconfig, t.SourceContext)
	}
	if err == nil && t.RequestTimeout > 0 {
		src.Config.Timeout = t.RequestTimeout
	}
	t.registerSource(src)
	return src, err
}

// refuseLoop refuses a call made while another kubemint mints, before it
// takes the lock: that kubemint ran this one through its source's exec
// plugin (a wrapper script that runs kubemint), holds the lock this call
// would wait a minute for, and would run its source again for every level.
// Any nested call is refused, whatever its account: a different account
// would not deadlock, but kubemint cannot tell a chain from a loop before
// it recurses, and a kubemint source is refused outright anyway (a source
// context whose user runs kubemint). The lean front still serves a nested
// cache hit, which neither locks nor recurses.
func refuseLoop() error {
	if outer := os.Getenv(mintingEnv); outer != "" {
		return fmt.Errorf("this kubemint was run by the source's exec plugin of another kubemint that is minting %s: a loop (a wrapper script that runs kubemint?); set --source-context to a context with credentials of its own", outer)
	}
	return nil
}

// mint mints a new token: with the cached token itself when --self-renew
// allows (the chain goes on), else with the configured source (a new chain
// starts). It returns the token and the start of its chain.
func (t *tokenCmd) mint(ctx context.Context, src *exchange.Source, cluster credential.Cluster, cached *cache.Entry, ns, name string, logf exchange.Logf) (exchange.Token, time.Time, error) {
	req := exchange.Request{
		Namespace: ns,
		Name:      name,
		Audiences: t.Audiences,
		Duration:  t.Duration,
		BoundKind: t.BoundObjectKind,
		BoundName: t.BoundObjectName,
		BoundUID:  t.BoundObjectUID,
	}
	var selfErr error
	if t.SelfRenew && cached != nil && cached.Valid(t.now()) {
		if t.MaxChainAge > 0 && t.now().Sub(cached.ChainStart) >= t.MaxChainAge {
			logf(1, "the chain of tokens of %s started %s ago, past --max-chain-age; minting with the source", t.ServiceAccount, t.now().Sub(cached.ChainStart).Round(time.Second))
		} else {
			self := exchange.SelfSource(t.ServiceAccount, cluster.Server, cluster.CertificateAuthorityData, cached.Token)
			if t.RequestTimeout > 0 {
				self.Config.Timeout = t.RequestTimeout
			}
			tok, err := exchange.Mint(ctx, self, req, logf)
			if err == nil {
				logf(4, "the token of %s renewed itself (chain started %s)", t.ServiceAccount, cached.ChainStart.Format(time.RFC3339))
				return tok, cached.ChainStart, nil
			}
			selfErr = err
			logf(1, "the token of %s could not renew itself (%v); minting with the source (kubemint setup --self-renew grants the right to renew)", t.ServiceAccount, err)
		}
	}
	if src == nil {
		var err error
		if src, err = t.loadSource(); err != nil {
			return exchange.Token{}, time.Time{}, withSelfErr(err, selfErr)
		}
	}
	if src.Server != cluster.Server {
		// Often the same cluster by two names (a load balancer and a node);
		// if not, the token will be refused, and this says why.
		logf(1, "warning: the exec entry's cluster is %s but %s mints on %s; the token is only good there", cluster.Server, src.Label, src.Server)
	}
	// Inherited by any exec plugin that client-go runs for the source.
	if err := os.Setenv(mintingEnv, t.ServiceAccount); err != nil {
		return exchange.Token{}, time.Time{}, err
	}
	tok, err := exchange.Mint(ctx, src, req, logf)
	return tok, tok.Issued, withSelfErr(err, selfErr)
}

// withSelfErr adds to a failed mint by the source why the token could not
// renew itself first, so the one error line names both fixes.
func withSelfErr(err, selfErr error) error {
	if err == nil || selfErr == nil {
		return err
	}
	return fmt.Errorf("%w; before that, the cached token could not renew itself: %v", err, selfErr)
}

// write prints the ExecCredential, built with client-go's own types, in the
// apiVersion the caller asked for.
func (t *tokenCmd) write(apiVersion, token string, refreshAt time.Time) error {
	ts := metav1.NewTime(refreshAt)
	var obj any
	switch apiVersion {
	case credential.APIVersionV1beta1:
		obj = &clientauthv1beta1.ExecCredential{
			TypeMeta: metav1.TypeMeta{Kind: "ExecCredential", APIVersion: apiVersion},
			Status:   &clientauthv1beta1.ExecCredentialStatus{Token: token, ExpirationTimestamp: &ts},
		}
	default:
		obj = &clientauthv1.ExecCredential{
			TypeMeta: metav1.TypeMeta{Kind: "ExecCredential", APIVersion: apiVersion},
			Status:   &clientauthv1.ExecCredentialStatus{Token: token, ExpirationTimestamp: &ts},
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding the ExecCredential: %w", err)
	}
	_, err = t.stdout.Write(append(b, '\n'))
	return err
}

// parseExecInfo reads KUBERNETES_EXEC_INFO with client-go's
// clientauthentication types. Empty means run by hand: answer in v1.
func parseExecInfo(s string) (credential.ExecInfo, error) {
	if s == "" {
		return credential.ExecInfo{APIVersion: credential.APIVersionV1}, nil
	}
	if err := credential.CheckExecInfoSize(s); err != nil {
		return credential.ExecInfo{}, err
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal([]byte(s), &tm); err != nil {
		return credential.ExecInfo{}, fmt.Errorf("KUBERNETES_EXEC_INFO is not valid JSON: %v", err)
	}
	if err := credential.CheckExecInfoVersion(tm.Kind, tm.APIVersion); err != nil {
		return credential.ExecInfo{}, err
	}
	info := credential.ExecInfo{APIVersion: tm.APIVersion}
	switch tm.APIVersion {
	case credential.APIVersionV1:
		var ec clientauthv1.ExecCredential
		if err := json.Unmarshal([]byte(s), &ec); err != nil {
			return credential.ExecInfo{}, fmt.Errorf("KUBERNETES_EXEC_INFO is not a valid ExecCredential: %v", err)
		}
		info.Interactive = ec.Spec.Interactive
		if c := ec.Spec.Cluster; c != nil && c.Server != "" {
			info.Cluster = &credential.Cluster{Server: c.Server, CertificateAuthorityData: c.CertificateAuthorityData}
		}
	case credential.APIVersionV1beta1:
		var ec clientauthv1beta1.ExecCredential
		if err := json.Unmarshal([]byte(s), &ec); err != nil {
			return credential.ExecInfo{}, fmt.Errorf("KUBERNETES_EXEC_INFO is not a valid ExecCredential: %v", err)
		}
		info.Interactive = ec.Spec.Interactive
		if c := ec.Spec.Cluster; c != nil && c.Server != "" {
			info.Cluster = &credential.Cluster{Server: c.Server, CertificateAuthorityData: c.CertificateAuthorityData}
		}
	}
	return info, nil
}
