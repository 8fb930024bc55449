// Package doctor is kubemint doctor's checks: the kubeconfig and the
// commands its exec entries run, the keyring, the source context's API
// server and clock, and the right to mint, each reported on a line of its
// own with a fix.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/cache"
	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/hint"
	"github.com/kubemint/kubemint/internal/product"
	"github.com/kubemint/kubemint/kubeconfig"
	"github.com/kubemint/kubemint/resolve"
)

// probeAudience is the audience of the token doctor mints to learn the
// lifetime the server grants: no API server accepts it, so the throwaway
// token can authenticate nowhere.
const probeAudience = "kubemint-doctor-probe.invalid"

// maxSkew is the clock difference doctor warns about: tokens carry issue
// and expiry times, and a skewed client re-mints at the wrong moment.
const maxSkew = 30 * time.Second

// Run runs every check o allows (the source context's; with
// o.ServiceAccount, the right to mint its tokens), reporting to stdout and
// -v lines to stderr, and reports whether any check failed.
func Run(ctx context.Context, o *credential.Options, stdout, stderr io.Writer) (failed bool) {
	d := &doctor{w: stdout}
	d.run(ctx, o, stderr)
	return d.failed
}

type doctor struct {
	w      io.Writer
	failed bool
}

func (d *doctor) ok(format string, args ...any) {
	fmt.Fprintf(d.w, "ok    "+format+"\n", args...)
}

func (d *doctor) warn(fix, format string, args ...any) {
	fmt.Fprintf(d.w, "warn  "+format+"\n", args...)
	if fix != "" {
		fmt.Fprintf(d.w, "      fix: %s\n", fix)
	}
}

func (d *doctor) fail(fix, format string, args ...any) {
	d.failed = true
	fmt.Fprintf(d.w, "FAIL  "+format+"\n", args...)
	if fix != "" {
		fmt.Fprintf(d.w, "      fix: %s\n", fix)
	}
}

// failErr reports err, prefixed, with each hint it carries as a fix.
func (d *doctor) failErr(err error, prefix string) {
	d.failed = true
	fmt.Fprintf(d.w, "FAIL  %s%v\n", prefix, err)
	for _, h := range hint.Hints(err) {
		fmt.Fprintf(d.w, "      fix: %s\n", h)
	}
}

func (d *doctor) run(ctx context.Context, o *credential.Options, stderr io.Writer) {
	logf := credential.NewLogf(stderr, o.Verbosity)
	d.kubeconfig(o.SourceKubeconfig)
	d.keyring()

	// Without --source-context, the current context is what kubectl uses:
	// when its user runs kubemint (a runner's kubeconfig), check the
	// source its exec entry names, with the entry's own flags.
	var entry *entryOptions
	if o.SourceContext == "" {
		var err error
		if entry, err = currentEntry(o.SourceKubeconfig); err != nil {
			d.failErr(err, "current context: ")
			return
		}
	}
	var src *exchange.Source
	var err error
	if entry != nil {
		d.ok("context %q runs kubemint token for %s with %s", entry.context, entry.o.ServiceAccount, entry.o.SourceFlag())
		src, err = resolve.LoadSource(ctx, &entry.o, entry.cluster, stderr)
		if o.ServiceAccount == "" {
			o.ServiceAccount = entry.o.ServiceAccount
		}
	} else {
		src, err = exchange.LoadSource(o.SourceKubeconfig, o.SourceContext)
	}
	if err != nil {
		d.failErr(err, "source: ")
		return
	}
	c, err := exchange.NewClient(src.Config, src.Label, logf)
	if err != nil {
		d.failErr(err, fmt.Sprintf("source %s: ", src.Label))
		return
	}
	start := time.Now()
	rtt, serverTime, err := c.Ping(ctx)
	if err != nil {
		d.failErr(err, "")
		return
	}
	d.ok("%s reaches %s in %v", src.Label, src.Server, rtt.Round(time.Millisecond))
	if !serverTime.IsZero() {
		skew := serverTime.Sub(start.Add(rtt / 2))
		if skew > maxSkew || skew < -maxSkew {
			d.warn("synchronise this machine's clock (NTP): kubemint re-mints by the local clock", "the API server's clock is %v off this machine's", skew.Round(time.Second))
		} else {
			d.ok("clocks agree with the API server (within %v)", maxSkew)
		}
	}
	if o.ServiceAccount == "" {
		return
	}
	ns, name, _ := o.Account()
	allowed, reason, err := c.CanMint(ctx, ns, name)
	switch {
	case err != nil:
		d.failErr(err, "")
		return
	case !allowed:
		who, user := "the user of "+src.Label, ""
		if u, err := c.WhoAmI(ctx); err == nil {
			who, user = u.Username, u.Username
		}
		role, binding := exchange.MintGrant(ns, name, user)
		d.fail(role+" && "+binding,
			"%s (%s) may not create serviceaccounts/token for %s%s", src.Label, who, o.ServiceAccount, because(reason))
		return
	}
	d.ok("%s may create serviceaccounts/token for %s", src.Label, o.ServiceAccount)
	policy := d.policy(ctx, c, ns, name, entry)
	d.probe(ctx, c, ns, name, entry, policy)
	d.risks(ctx, c, ns, name, policy)
}

// entryOptions is the current context's exec entry, when it runs
// kubemint token: its flags, and the cluster client-go would send it.
type entryOptions struct {
	context string
	o       credential.Options
	cluster *credential.Cluster
}

// currentEntry reads the current context of the kubeconfig (path, else
// client-go's defaults) and returns its exec entry's options when its user
// runs kubemint token; nil otherwise.
func currentEntry(path string) (*entryOptions, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	raw, err := rules.Load()
	if err != nil {
		return nil, nil // the kubeconfig check above said why
	}
	kctx := raw.Contexts[raw.CurrentContext]
	if kctx == nil {
		return nil, nil
	}
	user := raw.AuthInfos[kctx.AuthInfo]
	if user == nil || user.Exec == nil || !exchange.IsKubemintCommand(user.Exec.Command) {
		return nil, nil
	}
	o, err := kubeconfig.TokenOptions(user.Exec)
	if err != nil {
		return nil, hint.Wrap(fmt.Errorf("context %q runs kubemint: %w", raw.CurrentContext, err), "write the entry again with kubemint setup, use or kubeconfig")
	}
	e := &entryOptions{context: raw.CurrentContext, o: o}
	if err := e.o.Validate(); err != nil {
		return nil, fmt.Errorf("context %q: %w", raw.CurrentContext, err)
	}
	if cl := raw.Clusters[kctx.Cluster]; cl != nil && user.Exec.ProvideClusterInfo {
		e.cluster = &credential.Cluster{Server: cl.Server, CertificateAuthorityData: cl.CertificateAuthorityData}
		if len(cl.CertificateAuthorityData) == 0 && cl.CertificateAuthority != "" {
			if e.cluster.CertificateAuthorityData, err = exchange.ReadBounded(cl.CertificateAuthority, "the certificate-authority of context "+raw.CurrentContext, exchange.CAFileLimit); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

// policy checks kubemint's revocation policy for ns/name, and reports
// whether the API server enforces it. It asks with a dry-run create of a
// legacy token Secret, which stores nothing; a source that may not ask
// learns nothing, and nothing is said unless the entry expects the policy.
func (d *doctor) policy(ctx context.Context, c *exchange.Client, ns, name string, entry *entryOptions) bool {
	revocable := entry != nil && entry.o.BoundObjectKind == "Secret" && entry.o.BoundObjectName == exchange.RevocationSecret(name)
	err := c.ProbeRevocationPolicy(ctx, ns, name, 0)
	switch {
	case err == nil:
		d.ok("the API server enforces kubemint's revocation policy %s: every token of %s/%s is bound to Secret %s and capped", exchange.RevocationPolicyName(ns, name), ns, name, exchange.RevocationSecret(name))
		return true
	case errors.Is(err, exchange.ErrNotEnforced) && revocable:
		d.warn(fmt.Sprintf("an admin runs kubemint setup --service-account=%s/%s --revocable again, which creates it", ns, name),
			"no revocation policy for %s/%s: its tokens minted here are bound to Secret %s, but whoever may mint its tokens can mint an unbound one that kubemint revoke does not kill", ns, name, exchange.RevocationSecret(name))
	}
	return false
}

// probe mints one throwaway token to learn whether the API server grants
// the lifetime the entry asks for (or 1h): one no API server accepts
// (its audience), bound as the entry binds its own, and no longer than
// the entry's. It says so before it mints.
func (d *doctor) probe(ctx context.Context, c *exchange.Client, ns, name string, entry *entryOptions, policy bool) {
	req := exchange.Request{Namespace: ns, Name: name, Audiences: []string{probeAudience}, Duration: time.Hour}
	if entry != nil {
		req.Duration, req.BoundKind, req.BoundName, req.BoundUID = entry.o.Duration, entry.o.BoundObjectKind, entry.o.BoundObjectName, entry.o.BoundObjectUID
	} else if policy {
		req.BoundKind, req.BoundName = "Secret", exchange.RevocationSecret(name)
	}
	bound := "unbound"
	if req.BoundKind != "" {
		bound = "bound to " + req.BoundKind + " " + req.BoundName
	}
	d.ok("minting one probe token for %s/%s to measure its lifetime: %v, %s, audience %s (which no API server accepts)", ns, name, req.Duration, bound, probeAudience)
	tok, err := c.Mint(ctx, req)
	if err != nil {
		d.failErr(err, "the probe: ")
		return
	}
	granted := tok.Expiry.Sub(tok.Issued).Round(time.Minute)
	if granted < req.Duration-time.Minute {
		d.warn("ask for at most that with --duration, or raise the API server's --service-account-max-token-expiration", "the API server grants tokens of %v when asked for %v: it shortens them", granted, req.Duration)
		return
	}
	d.ok("the API server grants the %v asked for", req.Duration)
}

// risks prints what the account's role allows that defeats revocable
// tokens, when the source may ask (SubjectAccessReviews).
func (d *doctor) risks(ctx context.Context, c *exchange.Client, ns, name string, policy bool) {
	may, err := c.CanI(ctx, "create", "authorization.k8s.io", "subjectaccessreviews", "", "")
	if err != nil || !may {
		return
	}
	risks, err := c.Risks(ctx, ns, name, true, policy)
	if err != nil {
		d.failErr(err, "")
		return
	}
	for _, r := range risks {
		d.warn(r.Fix, "%s may %s in namespace %s%s: %s", ns+"/"+name, r.May, ns, grantOf(r), r.Means)
	}
	if len(risks) == 0 {
		d.ok("%s/%s may do nothing that defeats short-lived, revocable tokens", ns, name)
	}
}

func grantOf(r exchange.Risk) string {
	if r.Grant == "" {
		return ""
	}
	return " (" + r.Grant + ")"
}

func because(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

func (d *doctor) kubeconfig(path string) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	where := strings.Join(rules.GetLoadingPrecedence(), string(os.PathListSeparator))
	if path != "" {
		rules.ExplicitPath = path
		where = path
	}
	raw, err := rules.Load()
	if err != nil {
		d.fail("fix the YAML, or point --source-kubeconfig at the right file", "kubeconfig %s does not load: %v", where, err)
		return
	}
	d.ok("kubeconfig %s loads: %d contexts, current %q", where, len(raw.Contexts), raw.CurrentContext)
	for _, n := range exchange.Sorted(raw.AuthInfos) {
		u := raw.AuthInfos[n]
		if u.Exec == nil {
			continue
		}
		if p, err := resolveCommand(u.Exec.Command, u.LocationOfOrigin); err != nil {
			fix := "install it, or fix users[" + n + "].user.exec.command"
			if exchange.IsKubemintCommand(u.Exec.Command) {
				fix = "install kubemint (./install.sh) and write its absolute path in users[" + n + "].user.exec.command"
			}
			d.fail(fix, "user %q runs %q, which is not there: %v", n, u.Exec.Command, err)
		} else {
			d.ok("user %q runs %s", n, p)
			if exchange.IsKubemintCommand(u.Exec.Command) {
				d.full(n, p)
			}
		}
	}
	d.pins(raw)
}

// pins checks each context that runs a kubemint exec user against the
// server pin (docs/security.md, "Where a credential may go"): kubemint
// refuses every call from a context whose cluster is neither its source's
// server nor one of --allow-server, so such a context never works.
func (d *doctor) pins(raw *clientcmdapi.Config) {
	for _, name := range exchange.Sorted(raw.Contexts) {
		c := raw.Contexts[name]
		u, cl := raw.AuthInfos[c.AuthInfo], raw.Clusters[c.Cluster]
		if u == nil || u.Exec == nil || !exchange.IsKubemintCommand(u.Exec.Command) || cl == nil || cl.Server == "" {
			continue
		}
		args := u.Exec.Args
		if len(args) == 0 || args[0] != "token" {
			continue
		}
		o, err := credential.ParseArgs(args[1:])
		if err != nil || o.SourceInCluster || o.FlagsPin(cl.Server) {
			continue // a bad entry says so when it runs; a pod's server is known only in the pod
		}
		own := "no API server of its own"
		if !o.NoServerPinned() && o.SourceServer == "" {
			src, err := exchange.LoadSource(o.SourceKubeconfig, o.SourceContext)
			if err != nil {
				continue // the source check reports it
			}
			if credential.SameServer(src.Server, cl.Server) {
				continue
			}
			own = fmt.Sprintf("context %q is for %s", src.Context, src.Server)
		} else if o.SourceServer != "" {
			own = "--source-server is " + o.SourceServer
		}
		d.fail(fmt.Sprintf("if %s is the same API server under another name, add --allow-server=%s to users[%s].user.exec.args; otherwise use user %q only with a cluster of its source's server", cl.Server, cl.Server, c.AuthInfo, c.AuthInfo),
			"context %q runs user %q with cluster %s, which its source does not pin (%s): kubemint refuses every call", name, c.AuthInfo, cl.Server, own)
	}
}

// full checks that the kubemint an exec entry runs finds its kubemint-full
// and that both come from one release: a front alone serves only cached
// tokens, and a kubemint-full of another release refuses to run under it.
// Both are asked `version`, which the front answers itself.
func (d *doctor) full(user, front string) {
	hint := func() string {
		return strings.Join(product.Hints(product.Resolve(front), "release"), "; ")
	}
	full, err := product.FindFull(front)
	if err != nil {
		d.fail(hint(), "user %q runs %s, which cannot mint: %v", user, front, err)
		return
	}
	fv, err := versionOf(full)
	if err != nil {
		d.fail(hint(), "user %q: %v", user, err)
		return
	}
	kv, err := versionOf(front)
	if err != nil {
		d.fail(hint(), "user %q: %v", user, err)
		return
	}
	if fv != kv {
		d.fail(hint(), "user %q runs %s (%s) with %s (%s): not one release, so it refuses to mint", user, front, kv, full, fv)
		return
	}
	d.ok("user %q runs %s with %s (%s)", user, front, full, kv)
}

// versionOf runs `bin version` and returns its line, without the front's
// version in the environment (this asks each binary its own).
func versionOf(bin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "version")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, product.VersionEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s version: %v", bin, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// resolveCommand finds an exec entry's command as client-go does: a bare
// name on PATH, a relative path beside the kubeconfig that names it.
func resolveCommand(command, kubeconfigFile string) (string, error) {
	if !strings.ContainsRune(command, os.PathSeparator) && !strings.ContainsRune(command, '/') {
		return exec.LookPath(command)
	}
	p := command
	if !filepath.IsAbs(p) && kubeconfigFile != "" {
		p = filepath.Join(filepath.Dir(kubeconfigFile), p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%s is a directory", p)
	}
	return p, nil
}

func (d *doctor) keyring() {
	store := &cache.Store{Mode: cache.Auto, Dir: cache.DefaultDir()}
	// Where --cache=auto puts entries when it does not use the OS keyring.
	fallback := "the file cache in " + store.Dir
	if runtime.GOOS == "linux" {
		st, kerr := cache.KernelProbe()
		if kerr != nil {
			d.warn("run kubemint where keyctl is allowed (Docker: a seccomp profile that allows keyctl, add_key and request_key), or use --cache=file", "kernel keyring: %v; --cache=auto falls back to %s", kerr, fallback)
		} else {
			fallback = "the kernel keyring"
			d.ok("kernel keyring: usable; this user holds %d of %d keys and %d of %d bytes (sysctl kernel.keys.maxkeys and kernel.keys.maxbytes raise the quota; an entry that does not fit goes to the file cache)", st.Keys, st.MaxKeys, st.Bytes, st.MaxBytes)
		}
	}
	took, err := store.ProbeKeyring()
	switch {
	case errors.Is(err, cache.ErrNoSessionBus):
		d.ok("keyring: %v; --cache=auto uses %s", err, fallback)
	case err != nil:
		d.warn("unlock the keyring, or use --cache=file", "keyring: %v; --cache=auto uses %s", err, fallback)
	default:
		copyNote := ""
		if fallback == "the kernel keyring" {
			copyNote = ", with a copy of each entry in the kernel keyring that hits read"
		}
		d.ok("keyring: the OS keyring answered in %v; --cache=auto uses it%s", took.Round(100*time.Microsecond), copyNote)
	}
	if since, why, off := store.KeyringOffSince(); off {
		d.warn("delete "+filepath.Join(store.Dir, "keyring-unavailable")+" to try the keyring again at once", "--cache=auto has used the file cache since %s: %s", since.Format(time.RFC3339), why)
	}
}
