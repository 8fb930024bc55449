// Package resolve turns a `kubemint token` request into a credential: it
// resolves the request against the cache and, when the cache has nothing
// servable, against the API server (a mint). The name says what it
// provides: the answer to "which token does this caller get?", whatever
// it takes to reach it (a cache hit, a wait for another process's mint,
// a self-renewal, a mint with the source, a stale serve).
//
// The lean front (credential.ServeCached) answers most hits without this
// package; everything else goes through Resolve, which the token command,
// setup (to prove the new context works, through the same cache kubectl
// will use) and tests call. The CLI keeps only flags, the environment and
// printing. Deps holds what a unit test replaces: the cache directory, the
// clock, the parent process, and the two API calls (Mint, WhoAmI).
package resolve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubemint/kubemint/audit"
	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/internal/procs"
	"github.com/kubemint/kubemint/internal/redact"
)

// lockWaitMargin is how much longer than one mint (--request-timeout, or
// exchange.DefaultTimeout) a caller with no valid token waits for another
// kubemint process that holds the lock: long enough for that process to
// finish or give up, short enough that kubectl does not hang for minutes
// behind a holder that is stuck (stopped, or its source never answers).
const lockWaitMargin = 5 * time.Second

// StaleRetry is how soon a client is asked to come back when kubemint serves
// a still-valid token that is due for a re-mint, because minting a new one
// failed or another process is minting it.
const StaleRetry = 30 * time.Second

// MintingEnv is set while kubemint mints, so a kubemint started by that
// mint (a source context whose credentials come from kubemint, perhaps
// through a wrapper script) refuses instead of forking without end.
const MintingEnv = "KUBEMINT_MINTING"

// Request is what the caller asks for.
type Request struct {
	// Options are the token flags, already validated.
	Options credential.Options
	// Cluster is the API server the credential is for, from the exec info
	// (provideClusterInfo). Nil: the source names it.
	Cluster *credential.Cluster
}

// Credential is the answer: the token, and when the client should ask
// again (the ExecCredential's expirationTimestamp).
type Credential struct {
	Token     string
	RefreshAt time.Time
}

// API is the part of the API server the flow talks to. Both default to
// the real calls (exchange.Mint, a SelfSubjectReview); a test replaces
// them to play a server.
type API struct {
	// Mint mints a token with src. The real one bounds the call with
	// src.Bounded.
	Mint func(ctx context.Context, src *exchange.Source, req exchange.Request, logf exchange.Logf) (exchange.Token, error)
	// WhoAmI asks the API server who src's token is; an Unauthorized
	// error means the token is refused (revoked).
	WhoAmI func(ctx context.Context, src *exchange.Source, logf exchange.Logf) error
}

// Deps are the flow's dependencies. The zero value of each field is the
// real one (see DefaultDeps), except Stderr, which is io.Discard.
type Deps struct {
	// CacheDir holds the file cache, the locks and the served records.
	CacheDir string
	// Now is the clock.
	Now func() time.Time
	// ParentPID names the client (kubectl) in the served record.
	ParentPID func() int
	// Stderr gets warnings and -v lines; tokens are registered with its
	// redactor (redact.Add) before they can appear in a line.
	Stderr io.Writer
	API    API
}

// DefaultDeps are the real dependencies, writing to stderr.
func DefaultDeps(stderr io.Writer) Deps {
	return Deps{Stderr: stderr}.withDefaults()
}

func (d Deps) withDefaults() Deps {
	if d.CacheDir == "" {
		d.CacheDir = cache.DefaultDir()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ParentPID == nil {
		d.ParentPID = os.Getppid
	}
	if d.Stderr == nil {
		d.Stderr = io.Discard
	}
	if d.API.Mint == nil {
		d.API.Mint = exchange.Mint
	}
	if d.API.WhoAmI == nil {
		d.API.WhoAmI = whoAmI
	}
	return d
}

// whoAmI is the real API.WhoAmI.
func whoAmI(ctx context.Context, src *exchange.Source, logf exchange.Logf) error {
	c, err := exchange.NewClient(src.Config, src.Label, logf)
	if err != nil {
		return err
	}
	_, err = c.WhoAmI(ctx)
	return err
}

// flow is one call's fixed context: what was asked and with what. Nothing
// in it changes once Resolve has built it but the store's mode (a cache
// found unusable is switched to none). Per-call findings (the source, the
// cached entry) travel as arguments and results, not as fields.
type flow struct {
	o       *credential.Options
	cluster credential.Cluster
	key     string
	store   *cache.Store
	d       Deps
	logf    exchange.Logf
}

// Resolve answers req: a cached token when one is servable, else a new one,
// minted and cached. Its errors are one line that says what failed and how
// to fix it.
func Resolve(ctx context.Context, req Request, d Deps) (Credential, error) {
	d = d.withDefaults()
	if _, ok := d.Stderr.(*redact.Writer); !ok {
		// The failed-mint record quotes the error through the redactor:
		// it must know every secret even when the caller's stderr is a
		// plain writer, and no line reaches it unmasked.
		w := redact.New(d.Stderr)
		defer w.Flush()
		d.Stderr = w
	}
	o := req.Options
	logf := credential.NewLogf(d.Stderr, o.Verbosity)
	var src *exchange.Source
	cluster := req.Cluster
	if cluster.NeedsCAFile() {
		// The Python client names the CA by path: key on its bytes, as
		// for kubectl, which sends them.
		ca, err := exchange.ReadBounded(cluster.CertificateAuthority, "the certificate-authority in KUBERNETES_EXEC_INFO,", exchange.CAFileLimit)
		if err != nil {
			return Credential{}, err
		}
		c := *cluster
		c.CertificateAuthorityData, c.CertificateAuthority = ca, ""
		cluster = &c
	}
	if cluster == nil {
		// No provideClusterInfo (or run by hand): the cache key needs the
		// API server, and the source names it.
		var err error
		if src, err = loadSource(ctx, &o, nil, d.Stderr); err != nil {
			return Credential{}, err
		}
		cluster = &credential.Cluster{Server: src.Server, CertificateAuthorityData: src.CAData}
	}
	if err := refuseLoop(logf); err != nil {
		return Credential{}, err
	}
	key := credential.Key(&o, *cluster)
	f := &flow{
		o:       &o,
		cluster: *cluster,
		key:     key,
		store:   &cache.Store{Mode: cache.Mode(o.Cache), Dir: d.CacheDir, Logf: logf, Now: d.Now},
		d:       d,
		logf:    logf,
	}
	return f.answer(ctx, src)
}

// FailMemory is how long a failed mint is remembered for its entry and
// client: long enough to cover the retries kubectl makes of a failing
// plugin within one command (each would wait for the same server again:
// 5 runs of 10 s for one `kubectl get`), short enough that a client that
// lives on (a controller, a Python program) soon tries again. Another
// client (the user's next kubectl command) tries again at once.
const FailMemory = 5 * time.Second

// answer is run, with failed mints remembered for FailMemory: a call from
// the same client that finds a recent failure fails at once with the same
// message.
func (f *flow) answer(ctx context.Context, src *exchange.Source) (Credential, error) {
	if err := f.recallFailure(); err != nil {
		return Credential{}, err
	}
	c, err := f.run(ctx, src)
	if err != nil && f.store.Mode != cache.None && !errors.Is(err, context.Canceled) {
		msg := redact.Wrap(f.d.Stderr).String(err.Error())
		if rerr := f.store.RememberFailure(f.key, cache.Failure{PID: f.d.ParentPID(), At: f.d.Now(), Message: msg}); rerr != nil {
			f.logf(4, "could not remember the failed mint: %v", rerr)
		}
	}
	return c, err
}

// recallFailure returns the error of a mint of this entry for this client
// that failed less than FailMemory ago, else nil.
func (f *flow) recallFailure() error {
	if f.store.Mode == cache.None {
		return nil
	}
	failed, ok := f.store.RecallFailure(f.key)
	if !ok || failed.PID != f.d.ParentPID() {
		return nil
	}
	ago := f.d.Now().Sub(failed.At)
	if ago < 0 || ago >= FailMemory {
		return nil
	}
	f.logf(1, "the last mint of %s failed %v ago; failing at once with its error (kubemint tries again %v after a failure)", f.o.ServiceAccount, ago.Round(time.Millisecond), FailMemory)
	return errors.New(failed.Message)
}

// run takes the lock, looks up the cache, and mints when it must. src is
// the source when Resolve already loaded it, else nil.
func (f *flow) run(ctx context.Context, src *exchange.Source) (Credential, error) {
	if f.store.Mode != cache.None {
		unlock, stale, err := f.lock(ctx)
		switch {
		case stale != nil:
			return Credential{Token: stale.Token, RefreshAt: f.serveUntil(*stale)}, nil
		case errors.As(err, new(*lockHeldError)):
			return Credential{}, err // it names the holder and the fix
		case errors.Is(err, context.DeadlineExceeded):
			return Credential{}, fmt.Errorf("no valid cached token for %s to serve meanwhile: %w; check that the API server answers, then try again", f.o.ServiceAccount, err)
		case err != nil:
			// A read-only or broken home must not break kubectl.
			f.warnf("cannot use the cache (%v); minting without it, as --cache=none would", err)
			f.store.Mode = cache.None
		default:
			defer unlock()
		}
	}
	c := f.lookup(ctx)
	if c.serve {
		return Credential{Token: c.entry.Token, RefreshAt: c.entry.RefreshAt(f.o.RefreshBefore)}, nil
	}
	return f.mintAndSave(ctx, src, c)
}

// cached is what the cache holds for the key, and what it is good for.
type cached struct {
	entry   *cache.Entry
	backend cache.Backend
	// serve: the entry is fresh and not refused; the answer.
	serve bool
	// refused: the API server refused the entry (revoked before it
	// expired). It is never served again and cannot renew itself.
	refused bool
}

// lookup reads the entry under the lock and decides what it is good for.
// Only a fresh entry asked for again by the same client (a retry after a
// 401) costs a request to the API server.
func (f *flow) lookup(ctx context.Context) cached {
	if f.store.Mode == cache.None {
		return cached{}
	}
	e, backend, err := f.store.Load(f.key)
	if err != nil {
		f.logLoadError(backend, err)
		return cached{}
	}
	f.secret(e.Token)
	c := cached{entry: &e, backend: backend}
	if now := f.d.Now(); !credential.Servable(e, now, f.o.RefreshBefore) {
		if e.Fresh(now, f.o.RefreshBefore) {
			// A client that wants 5 minutes left (Python's) would run
			// kubemint on every request until the refresh point.
			f.logf(1, "the cached token for %s is within %v of its refresh point; minting a new one now", f.o.ServiceAccount, e.RefreshAt(f.o.RefreshBefore).Sub(credential.HandOffAt(e, f.o.RefreshBefore)))
		} else {
			f.logf(1, "the cached token for %s is due for a re-mint", f.o.ServiceAccount)
		}
		return c
	}
	if f.refused(ctx, e.Token) {
		c.refused = true
		return c
	}
	f.logf(4, "served the cached token for %s from the %s cache", f.o.ServiceAccount, backend)
	c.serve = true
	return c
}

// logLoadError says why the cache had no entry to use.
func (f *flow) logLoadError(backend cache.Backend, err error) {
	switch {
	case errors.Is(err, cache.ErrCorrupt):
		f.logf(1, "the cached entry for %s in the %s cache is unreadable; minting a new token to replace it", f.o.ServiceAccount, backend)
	case errors.Is(err, os.ErrNotExist):
		f.logf(1, "no cached token for %s; minting one", f.o.ServiceAccount)
	case errors.Is(err, cache.ErrInsecure):
		f.warnf("not using the cached token for %s: %v; minting a new one to replace it", f.o.ServiceAccount, err)
	default:
		f.logf(1, "could not read the cache for %s: %v", f.o.ServiceAccount, err)
	}
}

// mintAndSave mints a new token, caches it and returns it. When the mint
// fails, a still-valid cached token is served meanwhile, unless the API
// server refuses it: then it is deleted and the error says both.
func (f *flow) mintAndSave(ctx context.Context, src *exchange.Source, c cached) (Credential, error) {
	renewable := c.entry
	if c.refused {
		// A revoked token cannot renew itself: go straight to the source.
		renewable = nil
	}
	tok, chainStart, err := f.mint(ctx, src, renewable)
	if err != nil {
		return f.mintFailed(ctx, c, err)
	}
	f.secret(tok.Token)
	// Whole seconds, as the cache stores them: the answer to this call and
	// every later cache hit then name the same refresh point.
	entry := cache.Entry{Token: tok.Token, Issued: tok.Issued.Truncate(time.Second), Expiry: tok.Expiry.Truncate(time.Second), ChainStart: chainStart.Truncate(time.Second)}
	f.logf(1, "minted a token for %s, valid until %s", f.o.ServiceAccount, tok.Expiry.Format(time.RFC3339))
	if f.store.Mode != cache.None {
		if err := f.store.ForgetFailure(f.key); err != nil {
			f.logf(1, "%v", err)
		}
	}
	if err := f.save(entry); err != nil {
		return Credential{}, err
	}
	return Credential{Token: entry.Token, RefreshAt: entry.RefreshAt(f.o.RefreshBefore)}, nil
}

// mintFailed answers a failed mint: the cached token while it is valid
// and not refused, else the error.
func (f *flow) mintFailed(ctx context.Context, c cached, mintErr error) (Credential, error) {
	valid := c.entry != nil && c.entry.Valid(f.d.Now())
	refused := c.refused
	if valid && !refused {
		// Due for a re-mint, not yet checked: a client asking again
		// after a 401 must not get the refused token back.
		refused = f.refused(ctx, c.entry.Token)
	}
	if refused {
		return Credential{}, f.forgetRefused(c.backend, mintErr)
	}
	if !valid {
		return Credential{}, mintErr
	}
	f.logf(1, "%v", mintErr)
	f.logf(1, "serving the cached token for %s, valid until %s, and retrying the mint on the next call", f.o.ServiceAccount, c.entry.Expiry.Format(time.RFC3339))
	return Credential{Token: c.entry.Token, RefreshAt: f.serveUntil(*c.entry)}, nil
}

// save caches a new entry, with its status record and its served record.
// Only the keyring mode, which the user chose over the file cache, fails
// the call when the save fails; otherwise the next call mints again.
func (f *flow) save(e cache.Entry) error {
	if f.store.Mode == cache.None {
		return nil
	}
	backend, err := f.store.Save(f.key, e)
	switch {
	case err != nil && f.store.Mode == cache.Keyring:
		return fmt.Errorf("%v; the token was not cached: unlock the keyring or use --cache=file", err)
	case err != nil && f.store.Mode == cache.Kernel:
		f.warnf("could not cache the token, the next call will mint again: %v (--cache=kernel writes no token to disk; --cache=auto would use the file cache)", err)
	case err != nil:
		f.warnf("could not cache the token, the next call will mint again: %v", err)
	default:
		f.logf(4, "stored the token in the %s cache", backend)
		if err := f.store.SaveInfo(f.info(backend, e)); err != nil {
			f.logf(1, "could not record the entry for kubemint status: %v", err)
		}
	}
	f.store.WriteServed(f.key, cache.Served{PID: f.d.ParentPID(), Last: f.d.Now()})
	return nil
}

// lock takes the cache lock for the key. When another process holds it (it
// is minting, or it is stuck: stopped, or its source never answers), a
// caller that has a still-valid token in the cache does not queue behind
// it: it gets that entry back, to serve at once (stale-while-revalidate).
// Only a caller with nothing valid to serve waits, for at most lockWait,
// or stuckWait when the holder (named in the lock file) is stopped or
// known stuck; it then fails naming the holder (heldError).
func (f *flow) lock(ctx context.Context) (unlock func(), stale *cache.Entry, err error) {
	unlock, ok, err := f.store.TryLock(f.key)
	if err != nil || ok {
		return unlock, nil, err
	}
	if e, ok := f.servableWhileBusy(); ok {
		f.logf(1, "another kubemint process is minting %s; serving the cached token, valid until %s, meanwhile", f.o.ServiceAccount, e.Expiry.Format(time.RFC3339))
		return nil, &e, nil
	}
	wait := LockWait(f.o)
	if h, ok := f.store.LockHolder(f.key); ok && (h.Stuck || procs.Stopped(h.ID)) {
		// Waiting the full time would change nothing: it is stopped, or
		// a caller before this one waited for it in vain.
		wait = stuckWait
	}
	f.logf(4, "another kubemint process is minting %s; waiting up to %v for it", f.o.ServiceAccount, wait)
	lockCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	unlock, err = f.store.Lock(lockCtx, f.key)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		if h, ok := f.store.LockHolder(f.key); ok {
			if !h.Stuck {
				if merr := f.store.MarkStuck(f.key, h); merr != nil {
					f.logf(4, "could not mark the lock's holder stuck: %v", merr)
				}
			}
			return nil, nil, f.heldError(h)
		}
	}
	return unlock, nil, err
}

// stuckWait is how long a caller waits for a holder that is stopped, or
// that another caller already waited for in vain: long enough to take the
// lock of one that was just resumed and is finishing.
const stuckWait = time.Second

// heldError names the process that holds the lock, how long it has, and
// what to do about it: the caller has no valid token to serve, and the
// API server is not what failed.
func (f *flow) heldError(h cache.Holder) error {
	held := f.d.Now().Sub(h.Since).Round(time.Second)
	state := "has held the lock for " + held.String() + " without finishing (stuck?)"
	if procs.Stopped(h.ID) {
		state = "is stopped (SIGSTOP, Ctrl-Z or a debugger) and has held the lock for " + held.String()
	}
	return &lockHeldError{hint.Wrap(fmt.Errorf("kubemint process %d, minting %s, %s; there is no valid cached token to serve meanwhile", h.PID, f.o.ServiceAccount, state),
		fmt.Sprintf("resume it (kill -CONT %d) or end it (kill %d); the next call then mints at once", h.PID, h.PID))}
}

// lockHeldError is heldError's error.
type lockHeldError struct{ error }

func (e *lockHeldError) Unwrap() error { return e.error }

// LockWait bounds the wait for the lock: one mint's timeout and a margin.
func LockWait(o *credential.Options) time.Duration {
	d := o.RequestTimeout
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
func (f *flow) servableWhileBusy() (cache.Entry, bool) {
	e, _, err := f.store.Load(f.key)
	if err != nil || !e.Valid(f.d.Now()) {
		return cache.Entry{}, false
	}
	f.secret(e.Token)
	pid, now := f.d.ParentPID(), f.d.Now()
	served := f.store.ReadServed(f.key)
	if credential.Repeat(served, pid, now) {
		return cache.Entry{}, false
	}
	f.store.WriteServed(f.key, credential.Next(served, pid, now))
	return e, true
}

// serveUntil is the expirationTimestamp to hand out with e: its refresh
// point while it is fresh; once it is due for a re-mint that this call
// could not make, StaleRetry from now (or its expiry, if sooner), so the
// client comes back soon for the new token.
func (f *flow) serveUntil(e cache.Entry) time.Time {
	now := f.d.Now()
	if e.Fresh(now, f.o.RefreshBefore) {
		return e.RefreshAt(f.o.RefreshBefore)
	}
	retry := now.Add(StaleRetry)
	if e.Expiry.Before(retry) {
		retry = e.Expiry
	}
	return retry
}

// forgetRefused deletes the cached token the API server refused (with its
// status record), so no later call serves it again: the lean front answers
// hits without asking the server. It returns the one error that says both
// what happened to the token and why no new one could be minted.
func (f *flow) forgetRefused(backend cache.Backend, mintErr error) error {
	if err := f.store.Forget(cache.Info{Key: f.key, Backend: backend}); err != nil {
		f.warnf("could not delete the refused token from the cache: %v", err)
	}
	return fmt.Errorf("the API server refuses the cached token for %s (revoked?) and a new one could not be minted: %w", f.o.ServiceAccount, mintErr)
}

// refused reports whether the API server now refuses a cached token that
// has not expired. It asks only when the same client asked for this entry
// moments ago, which client-go does after a 401 (the token was revoked);
// then one SelfSubjectReview with the token, sent to the cluster the token
// is for, settles it. Any other failure of that check counts as not
// refused: the token is served as before.
func (f *flow) refused(ctx context.Context, token string) bool {
	pid, now := f.d.ParentPID(), f.d.Now()
	served := f.store.ReadServed(f.key)
	if !credential.Repeat(served, pid, now) {
		f.store.WriteServed(f.key, credential.Next(served, pid, now))
		return false
	}
	if err := f.d.API.WhoAmI(ctx, f.selfSource(token), f.logf); apierrors.IsUnauthorized(err) {
		f.logf(1, "the API server refuses the cached token for %s (revoked before it expired); minting a new one", f.o.ServiceAccount)
		return true
	}
	// Good (or unknown): spare this process further checks for a while.
	f.store.WriteServed(f.key, credential.Verified(pid, now))
	return false
}

// selfSource authenticates with token itself, on the cluster it is for.
func (f *flow) selfSource(token string) *exchange.Source {
	self := exchange.SelfSource(f.o.ServiceAccount, f.cluster.Server, f.cluster.CertificateAuthorityData, token)
	if f.o.RequestTimeout > 0 {
		self.Config.Timeout = f.o.RequestTimeout
	}
	return self
}

// mint mints a new token: with the cached token itself when --self-renew
// allows (the chain goes on), else with the source (a new chain starts):
// src when Resolve loaded it, else the configured one. It returns the
// token and the start of its chain.
func (f *flow) mint(ctx context.Context, src *exchange.Source, renewable *cache.Entry) (exchange.Token, time.Time, error) {
	ns, name, _ := f.o.Account()
	req := exchange.Request{
		Namespace: ns,
		Name:      name,
		Audiences: f.o.Audiences,
		Duration:  f.o.Duration,
		BoundKind: f.o.BoundObjectKind,
		BoundName: f.o.BoundObjectName,
		BoundUID:  f.o.BoundObjectUID,
	}
	tok, ok, selfErr := f.selfRenew(ctx, req, renewable)
	if ok {
		return tok, renewable.ChainStart, nil
	}
	if src == nil {
		var err error
		if src, err = loadSource(ctx, f.o, &f.cluster, f.d.Stderr); err != nil {
			return exchange.Token{}, time.Time{}, withSelfErr(err, selfErr)
		}
	}
	restore, err := markMinting(f.o.ServiceAccount)
	if err != nil {
		return exchange.Token{}, time.Time{}, err
	}
	defer restore()
	tok, err = f.d.API.Mint(ctx, src, req, f.logf)
	return tok, tok.Issued, withSelfErr(err, selfErr)
}

// selfRenew mints with the cached token itself when --self-renew allows.
// ok says it did; otherwise selfErr says why it failed, if it tried.
func (f *flow) selfRenew(ctx context.Context, req exchange.Request, renewable *cache.Entry) (tok exchange.Token, ok bool, selfErr error) {
	now := f.d.Now()
	if !f.o.SelfRenew || renewable == nil || !renewable.Valid(now) {
		return exchange.Token{}, false, nil
	}
	if age := now.Sub(renewable.ChainStart); f.o.MaxChainAge > 0 && age >= f.o.MaxChainAge {
		f.logf(1, "the chain of tokens of %s started %s ago, past --max-chain-age; minting with the source", f.o.ServiceAccount, age.Round(time.Second))
		return exchange.Token{}, false, nil
	}
	tok, err := f.d.API.Mint(ctx, f.selfSource(renewable.Token), req, f.logf)
	if err != nil {
		f.logf(1, "the token of %s could not renew itself (%v); minting with the source (kubemint setup --self-renew grants the right to renew)", f.o.ServiceAccount, err)
		return exchange.Token{}, false, err
	}
	f.logf(4, "the token of %s renewed itself (chain started %s)", f.o.ServiceAccount, renewable.ChainStart.Format(time.RFC3339))
	return tok, true, nil
}

// markMinting sets MintingEnv, inherited by any exec plugin that client-go
// runs for the source, and returns what puts the old value back. The value
// names the account and this process (PID and start time, where they can
// be read), so that a process the plugin leaves behind, which keeps the
// variable, does not refuse the kubemint calls it makes once this one has
// ended.
func markMinting(account string) (restore func(), err error) {
	old, had := os.LookupEnv(MintingEnv)
	value := account
	if id := procs.Identity(os.Getpid()); id != "" {
		value += " " + id
	}
	if err := os.Setenv(MintingEnv, value); err != nil {
		return nil, err
	}
	return func() {
		if had {
			os.Setenv(MintingEnv, old)
		} else {
			os.Unsetenv(MintingEnv)
		}
	}, nil
}

// withSelfErr adds to a failed mint by the source why the token could not
// renew itself first, so the one error line names both fixes.
func withSelfErr(err, selfErr error) error {
	if err == nil || selfErr == nil {
		return err
	}
	return fmt.Errorf("%w; before that, the cached token could not renew itself: %v", err, selfErr)
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
//
// A value that names a kubemint no longer running is stale (a daemon the
// plugin started keeps the variable after that kubemint ended) and is
// ignored; a value without a process (an older kubemint's, or where start
// times cannot be read) is refused as before.
func refuseLoop(logf exchange.Logf) error {
	outer := os.Getenv(MintingEnv)
	if outer == "" {
		return nil
	}
	account, id, _ := strings.Cut(outer, " ")
	if id != "" && !procs.Running(id) {
		logf(1, "ignoring %s=%q: the kubemint it names (process %s) no longer runs", MintingEnv, outer, id)
		return nil
	}
	return fmt.Errorf("this kubemint was run by the source's exec plugin of another kubemint that is minting %s: a loop (a wrapper script that runs kubemint?); set --source-context to a context with credentials of its own", account)
}

// warnf writes a warning line to stderr.
func (f *flow) warnf(format string, args ...any) {
	fmt.Fprintf(f.d.Stderr, "kubemint: warning: "+format+"\n", args...)
}

// secret tells stderr's redactor a token kubemint now holds.
func (f *flow) secret(token string) { redact.Add(f.d.Stderr, token) }

// info describes a cached entry for kubemint status and clean.
func (f *flow) info(backend cache.Backend, e cache.Entry) cache.Info {
	labels := map[string]string{
		LabelAccount:  f.o.ServiceAccount,
		LabelServer:   f.cluster.Server,
		LabelAudience: strings.Join(f.o.Audiences, ","),
	}
	if f.o.BoundObjectKind != "" {
		labels[LabelBound] = f.o.BoundObjectKind + "/" + f.o.BoundObjectName
	}
	if f.o.SourceContext != "" {
		labels[LabelSourceContext] = f.o.SourceContext
	}
	if id, iat, ok := audit.TokenCredential(e.Token); ok {
		// What the audit log names for this token's requests, for
		// kubemint status: no secret, and no use without the log.
		labels[LabelCredentialID] = id
		if !iat.IsZero() {
			labels[LabelIssuedAt] = iat.Format(time.RFC3339)
		}
	}
	return cache.Info{Key: f.key, Labels: labels, Backend: backend, Issued: e.Issued, Expiry: e.Expiry, RefreshAt: e.RefreshAt(f.o.RefreshBefore)}
}

// The labels kubemint writes into cache.Info, which status and clean read.
const (
	LabelAccount  = "serviceAccount"
	LabelServer   = "server"
	LabelAudience = "audiences"
	LabelBound    = "boundObject"
	// LabelSourceContext is --source-context, when the entry names one
	// (kubectl does not tell a plugin its own context).
	LabelSourceContext = "sourceContext"
	// LabelCredentialID is the token's credential ID as the API server's
	// audit log names it (JTI=...); LabelIssuedAt its iat claim, RFC 3339.
	LabelCredentialID = "credentialID"
	LabelIssuedAt     = "issuedAt"
)
