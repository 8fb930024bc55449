package resolve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/internal/procs"
	"github.com/kubemint/kubemint/internal/redact"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const (
	account   = "ci/deployer"
	srcServer = "https://source.example:6443"
	srcToken  = "source-bearer-token"
)

// harness plays the API server and the clock around one cache directory.
// Tokens it mints are "tok-N"; it records which source minted each.
type harness struct {
	t       *testing.T
	mu      sync.Mutex
	now     time.Time
	pid     int
	dir     string
	stderr  bytes.Buffer
	minted  []string // label of the source of each successful mint
	mints   int      // every mint attempt
	whoAmIs int
	// mintErr fails mints by the source; selfErr fails self-renewals;
	// whoErr is the SelfSubjectReview's answer.
	mintErr, selfErr, whoErr error
	// mintEnv is MintingEnv as the last mint saw it.
	mintEnv string
	opts    credential.Options
	cluster *credential.Cluster
}

func newHarness(t *testing.T) *harness {
	t.Setenv(MintingEnv, "")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	h := &harness{t: t, now: t0, pid: 4242, dir: filepath.Join(t.TempDir(), "kubemint")}
	h.opts = credential.Options{
		ServiceAccount:   account,
		SourceKubeconfig: writeKubeconfig(t),
		SourceContext:    "admin",
		Duration:         time.Hour,
		Cache:            string(cache.File),
	}
	h.cluster = &credential.Cluster{Server: srcServer}
	return h
}

// writeKubeconfig writes a kubeconfig whose context admin authenticates
// with srcToken on srcServer (nothing listens there: the harness mints).
func writeKubeconfig(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "config")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "` + srcServer + `"}
users:
- name: admin
  user: {token: "` + srcToken + `"}
contexts:
- name: admin
  context: {cluster: c, user: admin}
current-context: admin
`
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (h *harness) deps() Deps {
	return Deps{
		CacheDir:  h.dir,
		Now:       func() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.now },
		ParentPID: func() int { return h.pid },
		Stderr:    &h.stderr,
		API:       API{Mint: h.mint, WhoAmI: h.whoAmI},
	}
}

func (h *harness) mint(_ context.Context, src *exchange.Source, req exchange.Request, _ exchange.Logf) (exchange.Token, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mints++
	h.mintEnv = os.Getenv(MintingEnv)
	if req.Namespace+"/"+req.Name != account {
		h.t.Errorf("minted for %s/%s, want %s", req.Namespace, req.Name, account)
	}
	err := h.mintErr
	if src.Context == "self" {
		err = h.selfErr
	}
	if err != nil {
		return exchange.Token{}, err
	}
	h.minted = append(h.minted, src.Context)
	return exchange.Token{Token: fmt.Sprintf("tok-%d", len(h.minted)), Issued: h.now, Expiry: h.now.Add(time.Hour)}, nil
}

func (h *harness) whoAmI(_ context.Context, src *exchange.Source, _ exchange.Logf) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.whoAmIs++
	if src.Config.BearerToken == "" || src.Context != "self" {
		h.t.Errorf("WhoAmI with %s, want the cached token itself", src.Label)
	}
	return h.whoErr
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

func (h *harness) resolve() (Credential, error) {
	return h.resolveCtx(context.Background())
}

func (h *harness) resolveCtx(ctx context.Context) (Credential, error) {
	return Resolve(ctx, Request{Options: h.opts, Cluster: h.cluster}, h.deps())
}

func (h *harness) must() Credential {
	h.t.Helper()
	c, err := h.resolve()
	if err != nil {
		h.t.Fatalf("Resolve: %v\nstderr:\n%s", err, h.stderr.String())
	}
	return c
}

func (h *harness) store() *cache.Store {
	return &cache.Store{Mode: cache.Mode(h.opts.Cache), Dir: h.dir, Now: func() time.Time { return h.now }}
}

func (h *harness) key() string { return credential.Key(&h.opts, *h.cluster) }

var unauthorized = apierrors.NewUnauthorized("token revoked")

// refreshAt of a token minted at issued for an hour, with the default
// margin (a fifth of its lifetime).
func refreshAt(issued time.Time) time.Time { return issued.Add(48 * time.Minute) }

func TestMissThenHit(t *testing.T) {
	h := newHarness(t)
	c := h.must()
	if c.Token != "tok-1" || !c.RefreshAt.Equal(refreshAt(t0)) {
		t.Fatalf("miss: %+v", c)
	}
	if a, _, _ := strings.Cut(h.mintEnv, " "); a != account {
		t.Errorf("the mint ran with %s=%q, want %q and this process", MintingEnv, h.mintEnv, account)
	}
	if v := os.Getenv(MintingEnv); v != "" {
		t.Errorf("%s left set to %q after the mint", MintingEnv, v)
	}
	// Another client (kubectl run again), later: a hit, no mint, no check.
	h.pid++
	h.advance(time.Minute)
	if c := h.must(); c.Token != "tok-1" || !c.RefreshAt.Equal(refreshAt(t0)) {
		t.Errorf("hit: %+v", c)
	}
	if h.mints != 1 || h.whoAmIs != 0 {
		t.Errorf("%d mints, %d checks; want 1, 0", h.mints, h.whoAmIs)
	}
	// The status record names the account and the server.
	infos, err := h.store().List()
	if err != nil || len(infos) != 1 || infos[0].Labels[LabelAccount] != account || infos[0].Labels[LabelServer] != srcServer {
		t.Errorf("status records %+v, %v", infos, err)
	}
}

func TestDueRemints(t *testing.T) {
	h := newHarness(t)
	h.must()
	h.advance(50 * time.Minute) // past the refresh point, before expiry
	if c := h.must(); c.Token != "tok-2" {
		t.Errorf("due: served %s, want a new token", c.Token)
	}
}

// TestWindowBeforeTheRefreshPoint: a call within 5 minutes of the refresh
// point mints, so the answer has more than 5 minutes left (the Python
// client asks again for anything less); if that mint fails, the cached
// token is served until its refresh point as before.
func TestWindowBeforeTheRefreshPoint(t *testing.T) {
	h := newHarness(t)
	h.must()
	h.pid++
	h.advance(43*time.Minute - time.Second)
	if c := h.must(); c.Token != "tok-1" {
		t.Fatalf("before the window: served %s, want the cached tok-1", c.Token)
	}
	h.pid++
	h.advance(2 * time.Second)
	c := h.must()
	if c.Token != "tok-2" || c.RefreshAt.Sub(h.now) <= credential.ClientMargin {
		t.Fatalf("in the window: served %s until %v (%v left), want a new token with more than 5m left", c.Token, c.RefreshAt, c.RefreshAt.Sub(h.now))
	}
	h.pid++
	h.advance(43*time.Minute + time.Second)
	h.mintErr = errors.New("connection refused")
	if c, err := h.resolve(); err != nil || c.Token != "tok-2" || !c.RefreshAt.Equal(refreshAt(t0.Add(43*time.Minute+time.Second))) {
		t.Errorf("in the window, mint failing: %+v, %v; want tok-2 until its refresh point", c, err)
	}
}

func TestRefused(t *testing.T) {
	tests := map[string]struct {
		mintErr   error
		wantToken string
		wantErr   string
	}{
		"a new token is minted":             {wantToken: "tok-2"},
		"the mint fails: deleted, one line": {mintErr: errors.New("source down"), wantErr: "the API server refuses the cached token for ci/deployer (revoked?) and a new one could not be minted: source down"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.opts.SelfRenew = true // a revoked token must not renew itself
			h.must()
			// The same client asks again at once: client-go after a 401.
			h.advance(time.Second)
			h.whoErr, h.mintErr = unauthorized, tt.mintErr
			c, err := h.resolve()
			if h.whoAmIs != 1 {
				t.Errorf("%d checks, want 1", h.whoAmIs)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if _, _, err := h.store().Load(h.key()); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the refused token is still cached: %v", err)
				}
				return
			}
			if err != nil || c.Token != tt.wantToken {
				t.Fatalf("got %+v, %v; want %s", c, err, tt.wantToken)
			}
			if got := h.minted[len(h.minted)-1]; got != "admin" {
				t.Errorf("the new token was minted by %q, want the source", got)
			}
		})
	}
}

// A check that finds the token good (or cannot tell) serves it, and spares
// the same client further checks for a while.
func TestRepeatCheckedGood(t *testing.T) {
	for name, whoErr := range map[string]error{"good": nil, "unknown": errors.New("connection refused")} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.must()
			h.whoErr = whoErr
			h.advance(time.Second)
			if c := h.must(); c.Token != "tok-1" {
				t.Errorf("served %s", c.Token)
			}
			h.advance(time.Second)
			h.must()
			if h.whoAmIs != 1 || h.mints != 1 {
				t.Errorf("%d checks, %d mints; want 1, 1", h.whoAmIs, h.mints)
			}
		})
	}
}

func TestStaleServeWhenTheMintFails(t *testing.T) {
	h := newHarness(t)
	h.opts.Verbosity = 1
	h.must()
	h.advance(50 * time.Minute)
	h.mintErr = errors.New("source down")
	c, err := h.resolve()
	if err != nil || c.Token != "tok-1" {
		t.Fatalf("got %+v, %v; want the cached token", c, err)
	}
	if want := h.now.Add(StaleRetry); !c.RefreshAt.Equal(want) {
		t.Errorf("RefreshAt %v, want %v (come back soon)", c.RefreshAt, want)
	}
	if !strings.Contains(h.stderr.String(), "serving the cached token for ci/deployer") {
		t.Errorf("stderr does not say so:\n%s", h.stderr.String())
	}
	// Expired: nothing to serve, the error itself.
	h.advance(time.Hour)
	if _, err := h.resolve(); err == nil || err.Error() != "source down" {
		t.Errorf("expired and the mint fails: %v", err)
	}
}

// The same client retrying after a 401 while the token is due and the mint
// fails is checked: a refused token is not served again.
func TestDueRefusedAndTheMintFails(t *testing.T) {
	h := newHarness(t)
	h.must()
	h.advance(50 * time.Minute)
	h.pid++
	h.mintErr = errors.New("source down")
	if _, err := h.resolve(); err != nil {
		t.Fatal(err) // stale serve, recorded for this pid
	}
	h.advance(time.Second)
	h.whoErr = unauthorized
	if _, err := h.resolve(); err == nil || !strings.Contains(err.Error(), "refuses the cached token") {
		t.Errorf("err = %v, want the refusal", err)
	}
}

func TestServeUntil(t *testing.T) {
	now := t0
	tests := map[string]struct {
		issued, expiry time.Time
		want           time.Time
	}{
		"fresh: its refresh point":        {now.Add(-time.Minute), now.Add(59 * time.Minute), now.Add(59*time.Minute - 12*time.Minute)},
		"due, valid long: 30s ahead":      {now.Add(-55 * time.Minute), now.Add(5 * time.Minute), now.Add(StaleRetry)},
		"due, expiring sooner: at expiry": {now.Add(-time.Hour), now.Add(10 * time.Second), now.Add(10 * time.Second)},
	}
	for name, tt := range tests {
		f := &flow{o: &credential.Options{}, d: Deps{Now: func() time.Time { return now }}}
		got := f.serveUntil(cache.Entry{Token: "x", Issued: tt.issued, Expiry: tt.expiry})
		if !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", name, got, tt.want)
		}
	}
}

// holdLock takes the entry's lock with another Store, as another kubemint
// process minting would, until the test ends.
func (h *harness) holdLock() {
	h.t.Helper()
	if err := os.MkdirAll(h.dir, 0o700); err != nil {
		h.t.Fatal(err)
	}
	unlock, ok, err := h.store().TryLock(h.key())
	if err != nil || !ok {
		h.t.Fatalf("TryLock: %v, %v", ok, err)
	}
	h.t.Cleanup(unlock)
}

func TestStaleWhileRevalidate(t *testing.T) {
	h := newHarness(t)
	h.must()
	h.advance(50 * time.Minute) // due
	h.holdLock()
	h.pid++
	c, err := h.resolve()
	if err != nil || c.Token != "tok-1" {
		t.Fatalf("got %+v, %v; want the cached token at once", c, err)
	}
	if !c.RefreshAt.Equal(h.now.Add(StaleRetry)) {
		t.Errorf("RefreshAt %v, want %v", c.RefreshAt, h.now.Add(StaleRetry))
	}
	// The same client at once again (a 401 retry) waits for the lock
	// instead: here, until its context ends.
	h.advance(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.resolveCtx(ctx); err == nil || !strings.Contains(err.Error(), "no valid cached token for ci/deployer to serve meanwhile") {
		t.Errorf("a repeat while busy: %v", err)
	}
	if h.mints != 1 {
		t.Errorf("%d mints, want 1", h.mints)
	}
}

func TestLockWaitTimeout(t *testing.T) {
	h := newHarness(t)
	h.holdLock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := h.resolveCtx(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "check that the API server answers") {
		t.Errorf("err = %v", err)
	}
	if h.mints != 0 {
		t.Errorf("minted while another process held the lock")
	}
}

func TestLockWait(t *testing.T) {
	if got := LockWait(&credential.Options{}); got != exchange.DefaultTimeout+lockWaitMargin {
		t.Errorf("default: %v", got)
	}
	if got := LockWait(&credential.Options{RequestTimeout: time.Second}); got != time.Second+lockWaitMargin {
		t.Errorf("--request-timeout=1s: %v", got)
	}
}

func TestErrors(t *testing.T) {
	tests := map[string]struct {
		change  func(h *harness)
		wantErr string
	}{
		"source load error, no cluster": {
			change:  func(h *harness) { h.cluster = nil; h.opts.SourceContext = "missing" },
			wantErr: `"missing"`,
		},
		"source load error at the mint": {
			change:  func(h *harness) { h.opts.SourceContext = "missing" },
			wantErr: `"missing"`,
		},
		"mint error": {
			change:  func(h *harness) { h.mintErr = errors.New("forbidden: cannot create serviceaccounts/token") },
			wantErr: "forbidden: cannot create serviceaccounts/token",
		},
		"keyring mode, the save fails": {
			change:  func(h *harness) { h.opts.Cache = string(cache.Keyring) },
			wantErr: "the token was not cached: unlock the keyring or use --cache=file",
		},
		"a loop": {
			change:  func(h *harness) { h.t.Setenv(MintingEnv, "ops/other") },
			wantErr: "another kubemint that is minting ops/other: a loop",
		},
		"token file source, unreadable CA": {
			change: func(h *harness) {
				h.opts.SourceTokenFile = filepath.Join(h.t.TempDir(), "token")
				h.opts.SourceCA = filepath.Join(h.t.TempDir(), "missing-ca")
				h.opts.SourceServer = srcServer
			},
			wantErr: "--source-certificate-authority",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			tt.change(h)
			_, err := h.resolve()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(h.stderr.String(), "tok-") || (err != nil && strings.Contains(err.Error(), "tok-")) {
				t.Errorf("a token leaked: %v\n%s", err, h.stderr.String())
			}
		})
	}
}

// The loop is refused before the lock: a nested call never waits for the
// lock its outer kubemint holds.
func TestLoopRefusedBeforeTheLock(t *testing.T) {
	h := newHarness(t)
	h.holdLock()
	t.Setenv(MintingEnv, "ci/deployer")
	start := time.Now()
	if _, err := h.resolve(); err == nil || !strings.Contains(err.Error(), "a loop") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > time.Second || h.mints != 0 {
		t.Errorf("waited %v, %d mints", time.Since(start), h.mints)
	}
}

// A cache that cannot be used (here a file where the directory should be)
// works as --cache=none, with a warning.
func TestUnusableCacheWorksAsNone(t *testing.T) {
	h := newHarness(t)
	if err := os.WriteFile(h.dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if c := h.must(); c.Token != fmt.Sprintf("tok-%d", i) {
			t.Errorf("call %d served %s", i, c.Token)
		}
	}
	if !strings.Contains(h.stderr.String(), "kubemint: warning: cannot use the cache") {
		t.Errorf("no warning:\n%s", h.stderr.String())
	}
}

func TestCacheNoneMintsEveryTime(t *testing.T) {
	h := newHarness(t)
	h.opts.Cache = string(cache.None)
	h.must()
	h.must()
	if h.mints != 2 {
		t.Errorf("%d mints, want 2", h.mints)
	}
	if _, err := os.Stat(h.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--cache=none touched the cache directory: %v", err)
	}
}

// Entries that cannot be used are replaced by a new token.
func TestBadEntryIsReplaced(t *testing.T) {
	tests := map[string]struct {
		spoil    func(path string) error
		wantLine string
	}{
		"unreadable":  {func(p string) error { return os.WriteFile(p, []byte("garbage"), 0o600) }, "is unreadable; minting a new token"},
		"not private": {func(p string) error { return os.Chmod(p, 0o644) }, "kubemint: warning: not using the cached token"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.opts.Verbosity = 1
			h.must()
			if err := tt.spoil(filepath.Join(h.dir, h.key()+".json")); err != nil {
				t.Fatal(err)
			}
			h.pid++
			if c := h.must(); c.Token != "tok-2" {
				t.Errorf("served %s, want a new token", c.Token)
			}
			if !strings.Contains(h.stderr.String(), tt.wantLine) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantLine, h.stderr.String())
			}
		})
	}
}

// A file cache that cannot save still answers, with a warning that names
// the fix. (A planted directory kubemint cannot remove: deeper than it
// goes; one it can remove is replaced, see cache.)
func TestFileSaveFailureWarns(t *testing.T) {
	h := newHarness(t)
	deep := filepath.Join(h.dir, h.key()+".json")
	if err := os.MkdirAll(filepath.Join(deep, strings.Repeat("d/", 20)), 0o700); err != nil {
		t.Fatal(err)
	}
	if c := h.must(); c.Token != "tok-1" {
		t.Errorf("served %s", c.Token)
	}
	if !strings.Contains(h.stderr.String(), "kubemint: warning: could not cache the token") || !strings.Contains(h.stderr.String(), "fix: rm -rf "+deep) {
		t.Errorf("no warning:\n%s", h.stderr.String())
	}
}

func TestSelfRenew(t *testing.T) {
	tests := map[string]struct {
		selfErr, mintErr error
		maxChainAge      time.Duration
		wantBy           string
		wantChainStart   time.Time
		wantErr          string
	}{
		"renews itself, the chain goes on":    {wantBy: "self", wantChainStart: t0},
		"cannot: the source mints, new chain": {selfErr: errors.New("forbidden"), wantBy: "admin", wantChainStart: t0.Add(50 * time.Minute)},
		"past --max-chain-age: the source":    {maxChainAge: 30 * time.Minute, wantBy: "admin", wantChainStart: t0.Add(50 * time.Minute)},
		"both fail: one error naming both":    {selfErr: errors.New("self forbidden"), mintErr: errors.New("source down"), wantErr: "source down; before that, the cached token could not renew itself: self forbidden"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.opts.SelfRenew, h.opts.MaxChainAge = true, tt.maxChainAge
			h.must()
			h.advance(50 * time.Minute)
			h.pid++
			h.selfErr, h.mintErr = tt.selfErr, tt.mintErr
			// Still valid: served stale, the error at -v 1.
			if tt.wantErr != "" {
				h.opts.Verbosity = 1
				if c := h.must(); c.Token != "tok-1" {
					t.Errorf("served %s, want the stale tok-1", c.Token)
				}
				if !strings.Contains(h.stderr.String(), tt.wantErr) {
					t.Errorf("stderr lacks %q:\n%s", tt.wantErr, h.stderr.String())
				}
				return
			}
			c := h.must()
			if c.Token != "tok-2" || h.minted[1] != tt.wantBy {
				t.Fatalf("got %s minted by %v, want tok-2 by %s", c.Token, h.minted, tt.wantBy)
			}
			e, _, err := h.store().Load(h.key())
			if err != nil || !e.ChainStart.Equal(tt.wantChainStart) {
				t.Errorf("chain start %v (%v), want %v", e.ChainStart, err, tt.wantChainStart)
			}
		})
	}
}

// Without cluster info the source names the server, and the entry is the
// one kubectl's calls with provideClusterInfo find.
func TestNoClusterTheSourceNamesIt(t *testing.T) {
	h := newHarness(t)
	h.cluster = nil
	h.must()
	h.cluster = &credential.Cluster{Server: srcServer}
	h.pid++
	if c := h.must(); c.Token != "tok-1" || h.mints != 1 {
		t.Errorf("served %s after %d mints; want the cached tok-1", c.Token, h.mints)
	}
}

// The server pin: a credential goes only to a server the source pins (its
// kubeconfig cluster, --source-server) or --allow-server names. On the old
// code a token file source minted on whatever the exec info named, and a
// context source minted for another cluster with a -v=1 warning.
func TestServerPin(t *testing.T) {
	const other = "https://lb.example"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("file-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		change func(o *credential.Options)
		// cluster is the exec info's server; "" sends none.
		cluster string
		// wantSource is the source that minted; "" wants the error.
		wantSource string
		wantErr    []string
	}{
		"context, its own cluster":               {cluster: srcServer, wantSource: "admin"},
		"context, same server spelled otherwise": {cluster: "HTTPS://Source.Example:6443/", wantSource: "admin"},
		"context, no exec info":                  {wantSource: "admin"},
		"context, another cluster": {cluster: other, wantErr: []string{
			"the exec entry's cluster is " + other + `, but context "admin" is for ` + srcServer,
			"--allow-server=" + other}},
		"context, another cluster allowed": {cluster: other, change: func(o *credential.Options) { o.AllowServers = []string{other + "/"} }, wantSource: "admin"},
		"context, a third cluster with an alias": {cluster: "https://third.example", change: func(o *credential.Options) { o.AllowServers = []string{other} },
			wantErr: []string{"the exec entry's cluster is https://third.example"}},
		"token file, exec info only": {cluster: other, change: tokenFileSource(tokenFile, ""), wantErr: []string{
			"the exec entry's cluster is " + other + ", and --source-token-file=" + tokenFile + " names no API server of its own",
			"--source-server=" + other}},
		"token file, --source-server": {cluster: other, change: tokenFileSource(tokenFile, other), wantSource: "token-file"},
		"token file, --source-server, another cluster": {cluster: srcServer, change: tokenFileSource(tokenFile, other), wantErr: []string{
			"the exec entry's cluster is " + srcServer + ", but --source-token-file=" + tokenFile + " is for " + other}},
		"token file, --allow-server": {cluster: other, change: func(o *credential.Options) {
			tokenFileSource(tokenFile, "")(o)
			o.AllowServers = []string{other}
		}, wantSource: "token-file"},
		"token env, exec info only": {cluster: other, change: func(o *credential.Options) {
			o.SourceContext, o.SourceKubeconfig, o.SourceTokenEnv = "", "", "KUBEMINT_TEST_PIN_TOKEN"
		},
			wantErr: []string{"--source-token-env=KUBEMINT_TEST_PIN_TOKEN names no API server of its own"}},
		"github actions, exec info only": {cluster: other, change: func(o *credential.Options) { o.SourceContext, o.SourceKubeconfig, o.SourceGitHubActions = "", "", true },
			wantErr: []string{"--source-github-actions names no API server of its own"}},
	}
	t.Setenv("KUBEMINT_TEST_PIN_TOKEN", "env-token")
	// Whatever the GitHub source would ask must never be asked.
	t.Setenv(exchange.GitHubRequestURLEnv, "https://127.0.0.1:1/never")
	t.Setenv(exchange.GitHubRequestTokenEnv, "request-token")
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.opts.RequestTimeout = 3 * time.Second
			if tt.change != nil {
				tt.change(&h.opts)
			}
			h.cluster = nil
			if tt.cluster != "" {
				h.cluster = &credential.Cluster{Server: tt.cluster}
			}
			c, err := h.resolve()
			if tt.wantSource != "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if c.Token != "tok-1" || len(h.minted) != 1 || h.minted[0] != tt.wantSource {
					t.Errorf("got %s minted by %v, want tok-1 by %s", c.Token, h.minted, tt.wantSource)
				}
				return
			}
			if err == nil {
				t.Fatalf("served %s (minted by %v), want a refusal", c.Token, h.minted)
			}
			if h.mints != 0 {
				t.Errorf("%d mints, want none: the credential went to the server", h.mints)
			}
			all := err.Error() + "\n" + strings.Join(hint.Hints(err), "\n")
			for _, want := range tt.wantErr {
				if !strings.Contains(all, want) {
					t.Errorf("error %q (hints %q) does not say %q", err, hint.Hints(err), want)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is not one line: %q", err)
			}
		})
	}
}

// tokenFileSource switches the harness to --source-token-file=path with
// --source-server=server.
func tokenFileSource(path, server string) func(o *credential.Options) {
	return func(o *credential.Options) {
		o.SourceContext, o.SourceKubeconfig, o.SourceTokenFile, o.SourceServer = "", "", path, server
	}
}

// An entry minted while --allow-server named the cluster is not served
// once the flag is gone: the key holds the allowed servers.
func TestAllowServerInTheKey(t *testing.T) {
	const other = "https://lb.example"
	h := newHarness(t)
	h.cluster = &credential.Cluster{Server: other}
	h.opts.AllowServers = []string{other}
	h.must()
	h.opts.AllowServers = nil
	h.pid++
	if c, err := h.resolve(); err == nil {
		t.Errorf("served %s without --allow-server", c.Token)
	}
}

// The source's token is taught to the redactor as soon as it is loaded.
func TestSourceTokenRedacted(t *testing.T) {
	h := newHarness(t)
	h.cluster = nil
	h.mintErr = errors.New("server said: " + srcToken)
	h.opts.Verbosity = 1
	var out bytes.Buffer
	d := h.deps()
	d.Stderr = redact.Wrap(&out)
	_, err := Resolve(context.Background(), Request{Options: h.opts}, d)
	if err == nil {
		t.Fatal("want the mint error")
	}
	credential.NewLogf(d.Stderr, 1)(1, "%v", err)
	if strings.Contains(out.String(), srcToken) {
		t.Errorf("the source token leaked: %s", out.String())
	}
}

func TestDefaultDeps(t *testing.T) {
	d := DefaultDeps(nil)
	if d.CacheDir == "" || d.Now == nil || d.ParentPID == nil || d.Stderr == nil || d.API.Mint == nil || d.API.WhoAmI == nil {
		t.Errorf("DefaultDeps left a field empty: %+v", d)
	}
	// The real WhoAmI reaches no server here: an error, never refused.
	err := d.API.WhoAmI(context.Background(), exchange.SelfSource(account, "https://127.0.0.1:1", nil, "x"), func(int, string, ...any) {})
	if err == nil || apierrors.IsUnauthorized(err) {
		t.Errorf("WhoAmI against nothing: %v", err)
	}
}

// TestFailedMintRemembered: kubectl re-runs a failing plugin several times
// for one command; the retries fail at once with the same message instead
// of waiting for the same server again. Another client, or the same one
// after FailMemory, tries again; a success forgets the failure. The
// remembered line holds no token.
func TestFailedMintRemembered(t *testing.T) {
	h := newHarness(t)
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	h.mintErr = errors.New("Post https://source.example:6443: timeout (server said " + jwt + ")")
	_, first := h.resolve()
	if first == nil {
		t.Fatal("the mint failed but Resolve did not")
	}
	h.advance(time.Second)
	_, again := h.resolve()
	// The same line as stderr shows it: redacted.
	if again == nil || again.Error() != strings.ReplaceAll(first.Error(), jwt, redact.Mask) || h.mints != 1 {
		t.Fatalf("a retry within %v: %v after %d mints; want the same error, no new mint", FailMemory, again, h.mints)
	}
	if b, _ := os.ReadFile(filepath.Join(h.dir, h.key()+".failed")); strings.Contains(string(b), jwt) || !strings.Contains(string(b), "timeout") {
		t.Errorf("remembered failure %q: want the error, redacted", b)
	}
	h.pid++
	if _, err := h.resolve(); err == nil || h.mints != 2 {
		t.Errorf("another client: %v after %d mints; want a new attempt", err, h.mints)
	}
	h.advance(FailMemory)
	if _, err := h.resolve(); err == nil || h.mints != 3 {
		t.Errorf("after %v: %v after %d mints; want a new attempt", FailMemory, err, h.mints)
	}
	h.mintErr = nil
	h.pid++
	h.must()
	if _, err := os.Stat(filepath.Join(h.dir, h.key()+".failed")); !os.IsNotExist(err) {
		t.Errorf("a success left the failure behind: %v", err)
	}
}

// TestVerbosityOneSaysMissAndMint: -v=1 promises cache decisions; a miss
// and its mint are the first of them. A hit says nothing at 1 (it is every
// kubectl call); a due token says why it is re-minted.
func TestVerbosityOneSaysMissAndMint(t *testing.T) {
	h := newHarness(t)
	h.opts.Verbosity = 1
	h.must()
	for _, want := range []string{"no cached token for " + account + "; minting one", "minted a token for " + account + ", valid until"} {
		if !strings.Contains(h.stderr.String(), want) {
			t.Errorf("-v=1 on a miss lacks %q:\n%s", want, h.stderr.String())
		}
	}
	h.stderr.Reset()
	h.pid++
	h.advance(time.Minute)
	h.must()
	if h.stderr.Len() != 0 {
		t.Errorf("-v=1 on a hit says %q, want nothing", h.stderr.String())
	}
	h.advance(50 * time.Minute)
	h.must()
	if !strings.Contains(h.stderr.String(), "is due for a re-mint") {
		t.Errorf("-v=1 on a due token:\n%s", h.stderr.String())
	}
}

// TestCAByPathKeysOnItsBytes: a cluster whose CA the exec info names by
// path (the Python client) gets the entry of the same cluster named by
// its CA's bytes (kubectl).
func TestCAByPathKeysOnItsBytes(t *testing.T) {
	h := newHarness(t)
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("CA BYTES"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.cluster = &credential.Cluster{Server: srcServer, CertificateAuthorityData: []byte("CA BYTES")}
	h.must()
	h.pid++
	h.cluster = &credential.Cluster{Server: srcServer, CertificateAuthority: ca}
	h.must()
	if h.mints != 1 {
		t.Errorf("%d mints, want 1: the CA by path missed the entry of its bytes", h.mints)
	}
}

// TestFailedMintRecordIsRedacted: the failed-mint record on disk holds
// the error as stderr would show it, masked, even when the server echoed
// the source's token encoded (URL, HTML, JSON, folded) and even when the
// caller's stderr is a plain writer without a redactor of its own.
func TestFailedMintRecordIsRedacted(t *testing.T) {
	esc := func(format string) string {
		var b strings.Builder
		for i := 0; i < len(srcToken); i++ {
			fmt.Fprintf(&b, format, srcToken[i])
		}
		return b.String()
	}
	echoes := map[string]string{
		"plain":  srcToken,
		"url":    esc("%%%02X"),
		"html":   esc("&#%d;"),
		"json":   esc(`\u%04x`),
		"folded": srcToken[:10] + "\n  " + srcToken[10:],
	}
	for name, echo := range echoes {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.mintErr = errors.New("the server has asked for the client to provide credentials: echo " + echo + " end")
			if _, err := h.resolve(); err == nil {
				t.Fatal("the mint failed but Resolve did not")
			}
			b, err := os.ReadFile(filepath.Join(h.dir, h.key()+".failed"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), echo) || strings.Contains(string(b), srcToken[10:]) || !strings.Contains(string(b), "echo "+redact.Mask+" end") {
				t.Errorf("remembered failure %q: want the echo masked", b)
			}
		})
	}
}

// TestStaleMintingEnvIsIgnored: a daemon that a source's exec plugin
// started keeps KUBEMINT_MINTING after the kubemint that set it has ended;
// a kubemint it runs then is not a loop. The guard still refuses while
// that kubemint runs, and a value that names no process (an older
// kubemint's).
func TestStaleMintingEnvIsIgnored(t *testing.T) {
	if procs.Identity(os.Getpid()) == "" {
		t.Skip("no process start times on this platform: every value is refused")
	}
	ended := exec.Command("true")
	if err := ended.Run(); err != nil {
		t.Fatal(err)
	}
	live := procs.Identity(os.Getpid())
	pid, _, _ := strings.Cut(live, ":")
	tests := map[string]struct {
		value   string
		refused bool
	}{
		"the minting kubemint runs":      {"ops/other " + live, true},
		"an older kubemint's value":      {"ops/other", true},
		"the minting kubemint has ended": {"ops/other " + strconv.Itoa(ended.Process.Pid) + ":1", false},
		"its PID reused by another":      {"ops/other " + pid + ":1", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			t.Setenv(MintingEnv, tt.value)
			_, err := h.resolve()
			if refused := err != nil && strings.Contains(err.Error(), "a loop"); refused != tt.refused {
				t.Errorf("%s=%q: err = %v, want refused %v", MintingEnv, tt.value, err, tt.refused)
			}
		})
	}
}

// TestMintingEnvNamesTheMintingProcess: the value a plugin sees names the
// account and this process, which is running.
func TestMintingEnvNamesTheMintingProcess(t *testing.T) {
	h := newHarness(t)
	h.must()
	account, id, _ := strings.Cut(h.mintEnv, " ")
	if account != h.opts.ServiceAccount || (procs.Identity(os.Getpid()) != "" && id != procs.Identity(os.Getpid())) {
		t.Errorf("the plugin saw %s=%q; want the account and this process", MintingEnv, h.mintEnv)
	}
}
