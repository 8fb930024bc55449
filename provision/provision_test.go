package provision

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/apitest"
	"github.com/kubemint/kubemint/internal/hint"
)

// harness is a fake API server, a kubeconfig whose context "admin" talks
// to it, and Deps that mint through the server's TokenRequest.
type harness struct {
	api            *apitest.Server
	kubeconfig     string
	stdout, stderr bytes.Buffer
	mintErr        error
}

func newHarness(t *testing.T) *harness {
	h := &harness{api: apitest.New(t)}
	// Every path is explicit (--source-kubeconfig, kubemint's own), so
	// the tests read no environment and run in parallel: client-go's
	// client-side rate limit (5 requests a second after a burst of 10)
	// makes a full setup wait a second or two.
	h.kubeconfig = filepath.Join(t.TempDir(), "config")
	kc := `apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster: {server: "` + h.api.URL + `", certificate-authority-data: ` + base64.StdEncoding.EncodeToString(h.api.CAData) + `}
users:
- name: admin
  user: {token: ` + apitest.AdminToken + `}
contexts:
- name: admin
  context: {cluster: dev, user: admin}
current-context: admin
`
	if err := os.WriteFile(h.kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	h.api.Put("/apis/rbac.authorization.k8s.io/v1/clusterroles/edit", &rbacv1.ClusterRole{
		TypeMeta: metav1.TypeMeta{Kind: "ClusterRole", APIVersion: "rbac.authorization.k8s.io/v1"}, ObjectMeta: metav1.ObjectMeta{Name: "edit"}})
	h.api.Rules = func(user, ns string) []authorizationv1.ResourceRule {
		if user == apitest.Admin {
			return nil
		}
		return []authorizationv1.ResourceRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}
	}
	return h
}

func (h *harness) deps() Deps {
	return Deps{
		Stdout: &h.stdout, Stderr: &h.stderr,
		KubemintPath: func() (string, error) { return "/opt/kubemint/kubemint", nil },
		Now:          func() time.Time { return time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC) },
		Mint: func(ctx context.Context, src *exchange.Source, o credential.Options, _ io.Writer) (string, error) {
			if h.mintErr != nil {
				return "", h.mintErr
			}
			ns, name, _ := o.Account()
			tok, err := exchange.Mint(ctx, src, exchange.Request{Namespace: ns, Name: name, Duration: o.Duration,
				BoundKind: o.BoundObjectKind, BoundName: o.BoundObjectName}, nil)
			return tok.Token, err
		},
	}
}

func (h *harness) setup() SetupRequest {
	return SetupRequest{Request: Request{Namespace: "ci", Name: "deployer", SourceKubeconfig: h.kubeconfig, SourceContext: "admin", Duration: time.Hour}}
}

// writes are the requests that change the cluster: every POST but the
// reviews and TokenRequest.
func (h *harness) writes() []string {
	var out []string
	for _, r := range h.api.Requests() {
		if strings.HasPrefix(r, "POST ") && !strings.HasSuffix(r, "reviews") && !strings.HasSuffix(r, "/token") {
			out = append(out, r)
		}
	}
	return out
}

func (h *harness) read(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(h.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestSetupCreatesEverything: what each flag asks for is created and
// reported, the exec entry carries it, and the context is proven. Two
// cases in parallel, each under client-go's client-side rate limit.
func TestSetupCreatesEverything(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change     func(s *SetupRequest)
		steps      int
		wantReport []string
		wantArgs   []string
	}{
		"a role, a minter, revocable": {
			change: func(s *SetupRequest) {
				s.Binding = exchange.Binding{Kind: "ClusterRole", Role: "edit"}
				s.Minters = []exchange.Minter{{Kind: "User", Name: "alice"}}
				s.Revocable = true
			},
			steps: 7,
			wantReport: []string{
				"created    namespace ci\n",
				"created    serviceaccount ci/deployer\n",
				"created    rolebinding ci/kubemint:deployer:edit (ClusterRole edit)\n",
				"created    role ci/kubemint-minter-deployer (create on serviceaccounts/token named deployer)\n",
				"created    rolebinding ci/" + exchange.MinterBinding("deployer", exchange.Minter{Kind: "User", Name: "alice"}) + " (user:alice may mint)\n",
				"created    secret ci/deployer-kubemint (tokens are bound to it: kubemint revoke deletes it)\n",
				"In namespace ci it may:\n  get, list: pods\n",
				"  kubemint use --service-account=ci/deployer --revocable   # user:alice\n",
			},
			wantArgs: []string{"--bound-object-kind=Secret", "--bound-object-name=deployer-kubemint"},
		},
		"self-renewing, for two hours": {
			change: func(s *SetupRequest) { s.SelfRenew, s.Duration = true, 2*time.Hour },
			steps:  5,
			wantReport: []string{
				"created    role ci/deployer-self-renew (create on its own serviceaccounts/token)\n",
				"created    rolebinding ci/kubemint:deployer:deployer-self-renew\n",
			},
			wantArgs: []string{"--duration=2h0m0s", "--self-renew"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := h.setup()
			tt.change(&s)
			rep, err := Setup(context.Background(), s, h.deps())
			if err != nil {
				t.Fatalf("Setup: %v\nstderr: %s", err, h.stderr.String())
			}
			for _, want := range append(tt.wantReport,
				"created    context ci-deployer@dev in "+h.kubeconfig+"\n",
				"(the kubeconfig as it was is kept in "+h.kubeconfig+".kubemint-backup-20261204T150000Z)",
				"kubectl --context ci-deployer@dev acts as system:serviceaccount:ci:deployer.\n") {
				if !strings.Contains(h.stdout.String(), want) {
					t.Errorf("the report lacks %q:\n%s", want, h.stdout.String())
				}
			}
			if len(rep.Steps) != tt.steps || !rep.Changed {
				t.Errorf("report: %d steps, changed %v; want %d, true", len(rep.Steps), rep.Changed, tt.steps)
			}
			kc := h.read(t)
			for _, want := range append(tt.wantArgs, "--service-account=ci/deployer", "--source-context=admin",
				"--source-kubeconfig="+h.kubeconfig, "command: /opt/kubemint/kubemint") {
				if !strings.Contains(kc, want) {
					t.Errorf("the kubeconfig lacks %q:\n%s", want, kc)
				}
			}
		})
	}
}

// TestSetupTwiceChangesNothing: run again, setup writes nothing and says so.
func TestSetupTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.setup()
	s.Binding, s.Revocable = exchange.Binding{Kind: "ClusterRole", Role: "edit"}, true
	if _, err := Setup(context.Background(), s, h.deps()); err != nil {
		t.Fatal(err)
	}
	h.stdout.Reset()
	before, kc := len(h.writes()), h.read(t)
	rep, err := Setup(context.Background(), s, h.deps())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.stdout.String(), "Nothing changed: everything was already set up.") || strings.Contains(h.stdout.String(), "created") || rep.Changed {
		t.Errorf("second run:\n%s", h.stdout.String())
	}
	if got := h.writes()[before:]; len(got) != 0 || h.read(t) != kc {
		t.Errorf("second run wrote %q or changed the kubeconfig", got)
	}
}

// TestSetupChecksBeforeWriting: each refusal is found before anything is
// created on the cluster or written to the kubeconfig.
func TestSetupChecksBeforeWriting(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change    func(h *harness, s *SetupRequest)
		wantErr   string
		wantHints []string
	}{
		"missing Role, missing namespace": {
			change:    func(h *harness, s *SetupRequest) { s.Binding = exchange.Binding{Kind: "Role", Role: "deployer"} },
			wantErr:   `the Role ci/deployer was not found on ` + "https://",
			wantHints: []string{"create it first (kubectl create namespace ci, then kubectl create role deployer -n ci --verb=... --resource=...) or use --cluster-role"},
		},
		"missing ClusterRole": {
			change:    func(h *harness, s *SetupRequest) { s.Binding = exchange.Binding{Kind: "ClusterRole", Role: "nope"} },
			wantErr:   `the ClusterRole "nope" was not found`,
			wantHints: []string{"create it first (kubectl create clusterrole nope --verb=... --resource=...) or name an existing one"},
		},
		"may not create bindings nor read secrets": {
			change: func(h *harness, s *SetupRequest) {
				s.Binding, s.Revocable = exchange.Binding{Kind: "ClusterRole", Role: "edit", ClusterWide: true}, true
				h.api.Allow = func(user string, a authorizationv1.ResourceAttributes) bool {
					return !(a.Verb == "create" && a.Resource == "clusterrolebindings") && !(a.Verb == "get" && a.Resource == "secrets")
				}
			},
			wantErr:   `context "admin" may not create clusterrolebindings, get secrets in namespace ci on https://`,
			wantHints: []string{"run it again with a --source-context that may (an admin's)"},
		},
		"a minter binding that binds someone else": {
			change: func(h *harness, s *SetupRequest) {
				m := exchange.Minter{Kind: "User", Name: "alice"}
				s.Minters = []exchange.Minter{m}
				h.api.Put("/apis/rbac.authorization.k8s.io/v1/namespaces/ci/rolebindings/"+exchange.MinterBinding("deployer", m), &rbacv1.RoleBinding{
					TypeMeta:   metav1.TypeMeta{Kind: "RoleBinding", APIVersion: "rbac.authorization.k8s.io/v1"},
					ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: exchange.MinterBinding("deployer", m)},
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: exchange.MinterRole("deployer")},
					Subjects:   []rbacv1.Subject{{Kind: "User", Name: "mallory", APIGroup: rbacv1.GroupName}},
				})
			},
			wantErr: "nothing was created",
		},
		"a user of the context's name that kubemint did not write": {
			change:    func(h *harness, s *SetupRequest) { s.ContextName = "admin" },
			wantErr:   `already has a user "admin"`,
			wantHints: []string{"choose another --context-name"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			s := h.setup()
			tt.change(h, &s)
			before := h.read(t)
			_, err := Setup(context.Background(), s, h.deps())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Setup = %v, want an error containing %q", err, tt.wantErr)
			}
			for _, want := range tt.wantHints {
				if !slices.Contains(hint.Hints(err), want) {
					t.Errorf("hints %q lack %q", hint.Hints(err), want)
				}
			}
			if w := h.writes(); len(w) != 0 {
				t.Errorf("wrote to the cluster before the checks passed: %q", w)
			}
			if h.read(t) != before || h.stdout.Len() != 0 {
				t.Errorf("changed the kubeconfig or reported steps:\n%s", h.stdout.String())
			}
		})
	}
}

func TestSetupDryRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.setup()
	s.DryRun, s.Binding = true, exchange.Binding{Kind: "ClusterRole", Role: "edit"}
	h.api.Put("/api/v1/namespaces/ci", map[string]any{"kind": "Namespace", "apiVersion": "v1", "metadata": map[string]any{"name": "ci"}})
	before := h.read(t)
	if _, err := Setup(context.Background(), s, h.deps()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"unchanged     namespace ci\n",
		"would create  serviceaccount ci/deployer\n",
		"would create  context ci-deployer@dev in ",
		"Its exec entry would run: /opt/kubemint/kubemint token --service-account=ci/deployer --source-context=admin",
		"Dry run: nothing was created or written.\n",
	} {
		if !strings.Contains(h.stdout.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, h.stdout.String())
		}
	}
	if w := h.writes(); len(w) != 0 || h.read(t) != before {
		t.Errorf("a dry run wrote %q or changed the kubeconfig", w)
	}
}

func TestSetupMintFailsAfterWriting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mintErr = errors.New("the source's exec plugin failed")
	_, err := Setup(context.Background(), h.setup(), h.deps())
	if err == nil || err.Error() != "the context was written, but minting a token failed: the source's exec plugin failed" {
		t.Fatalf("Setup = %v", err)
	}
	if !strings.Contains(h.read(t), "ci-deployer@dev") {
		t.Error("the context was not written")
	}
}

func TestSetupStandaloneNeedsForce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.setup()
	s.KubeconfigOut = filepath.Join(t.TempDir(), "out.kubeconfig")
	if err := os.WriteFile(s.KubeconfigOut, []byte("something else"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Setup(context.Background(), s, h.deps())
	if err == nil || !strings.Contains(err.Error(), "not writing over "+s.KubeconfigOut) || len(h.writes()) != 0 {
		t.Fatalf("Setup = %v, writes %q; want a refusal before any write", err, h.writes())
	}
	s.Force = true
	if _, err := Setup(context.Background(), s, h.deps()); err != nil {
		t.Fatal(err)
	}
	want := "kubectl --kubeconfig=" + s.KubeconfigOut + " --context=ci-deployer@dev acts as system:serviceaccount:ci:deployer."
	if !strings.Contains(h.stdout.String(), want) || !strings.Contains(h.stdout.String(), "updated    context ci-deployer@dev in "+s.KubeconfigOut) {
		t.Errorf("the report lacks %q:\n%s", want, h.stdout.String())
	}
	cfg, err := clientcmd.LoadFromFile(s.KubeconfigOut)
	if err != nil || cfg.Clusters["dev"] == nil || cfg.Clusters["dev"].Server != h.api.URL {
		t.Errorf("standalone kubeconfig: %v, %+v", err, cfg)
	}
}

func TestUse(t *testing.T) {
	t.Parallel()
	mayMint := func(may bool) func(string, authorizationv1.ResourceAttributes) bool {
		return func(user string, a authorizationv1.ResourceAttributes) bool {
			if a.Subresource == "token" {
				return may
			}
			return a.Verb == "create" && strings.HasSuffix(a.Resource, "reviews")
		}
	}
	t.Run("may mint", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.api.Allow = mayMint(true)
		r := h.setup().Request
		r.ContextName = "mine"
		if _, err := Use(context.Background(), r, h.deps()); err != nil {
			t.Fatal(err)
		}
		if want := "created    context mine in " + h.kubeconfig; !strings.Contains(h.stdout.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, h.stdout.String())
		}
		if want := "\nkubectl --context mine acts as system:serviceaccount:ci:deployer.\n"; !strings.Contains(h.stdout.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, h.stdout.String())
		}
		for _, r := range h.api.Requests() {
			if strings.HasPrefix(r, "GET ") {
				t.Errorf("use read %s; it needs only the right to mint", r)
			}
		}
	})
	t.Run("may not", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.api.Allow = mayMint(false)
		before := h.read(t)
		_, err := Use(context.Background(), h.setup().Request, h.deps())
		want := `context "admin" (admin) may not mint tokens for ci/deployer on ` + h.api.URL + `: it needs create on serviceaccounts/token named deployer in namespace ci; an admin grants it with: kubemint setup --service-account=ci/deployer --source-context=ADMIN --minter=user:admin`
		if err == nil || err.Error() != want {
			t.Fatalf("Use = %v\nwant %s", err, want)
		}
		if h.read(t) != before || h.stdout.Len() != 0 {
			t.Error("a refused use changed the kubeconfig or reported steps")
		}
	})
	t.Run("a source context that is not there", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		r := h.setup().Request
		r.SourceContext = "nope"
		_, err := Use(context.Background(), r, h.deps())
		if err == nil || !slices.Contains(hint.Hints(err), "set --source-context to one of: admin") {
			t.Fatalf("Use = %v, hints %q", err, hint.Hints(err))
		}
	})
}

// TestSetupRerunKeepsWhatItDoesNotSay: a re-run without --revocable and
// --duration (adding nothing) keeps both from the existing context, says
// so, and changes the context not at all; a dry run before it says the
// same. Setting a flag changes it.
func TestSetupRerunKeepsWhatItDoesNotSay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.setup()
	s.Revocable, s.Duration = true, 30*time.Minute
	if _, err := Setup(context.Background(), s, h.deps()); err != nil {
		t.Fatal(err)
	}
	kc := h.read(t)
	again := h.setup() // no --revocable, --duration at its default
	again.Changed = func(string) bool { return false }
	for _, dry := range []bool{true, false} {
		h.stdout.Reset()
		again.DryRun = dry
		rep, err := Setup(context.Background(), again, h.deps())
		if err != nil {
			t.Fatal(err)
		}
		kept, same := "kept       ", "unchanged  context ci-deployer@dev"
		if dry {
			kept, same = "would keep    ", "unchanged     context ci-deployer@dev"
		}
		if !strings.Contains(h.stdout.String(), kept+"--revocable --duration=30m0s, as set up before") {
			t.Errorf("dry run %v: the report does not say what it kept:\n%s", dry, h.stdout.String())
		}
		if !strings.Contains(h.stdout.String(), same) {
			t.Errorf("dry run %v: the context is not unchanged:\n%s", dry, h.stdout.String())
		}
		if rep.Changed {
			t.Errorf("dry run %v: changed", dry)
		}
	}
	if h.read(t) != kc {
		t.Errorf("the re-run changed the kubeconfig")
	}
	// Saying it changes it.
	h.stdout.Reset()
	again.DryRun = false
	again.Changed = func(flag string) bool { return flag == "duration" || flag == "revocable" }
	if _, err := Setup(context.Background(), again, h.deps()); err != nil {
		t.Fatal(err)
	}
	if got := h.read(t); strings.Contains(got, "--duration=30m0s") || strings.Contains(got, "--bound-object-name") {
		t.Errorf("--duration=1h --revocable=false set explicitly kept the old ones:\n%s", got)
	}
}

// TestSetupRevocablePolicy: with --revocable, setup creates the revocation
// policy and its binding and reports them; where it cannot, or the server
// does not enforce it, one warning says revocation is best-effort and why.
// The fake API server enforces nothing, so the created policy gets the
// not-enforced warning; the real one is e2e/TestRevocationPolicy's.
func TestSetupRevocablePolicy(t *testing.T) {
	t.Parallel()
	discovery := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "admissionregistration.k8s.io/v1",
		APIResources: []metav1.APIResource{{Name: "validatingadmissionpolicies"}, {Name: "validatingadmissionpolicybindings"}}}
	tests := map[string]struct {
		served  bool
		deny    bool
		older   bool // the account exists before setup
		report  string
		warning string
	}{
		"created, not enforced": {served: true,
			report:  "created    validatingadmissionpolicy kubemint-revocable.ci.deployer and its binding (tokens of ci/deployer must be bound to Secret ci/deployer-kubemint and last at most 1h0m0s)\n",
			warning: "kubemint: warning: revocation of ci/deployer is best-effort: " + "https://"},
		"created for an account that existed": {served: true, older: true,
			report:  "created    validatingadmissionpolicy kubemint-revocable.ci.deployer",
			warning: "kubemint: warning: ci/deployer existed before its revocation policy: tokens minted for it until now (kubectl create token, another tool) are not bound to Secret ci/deployer-kubemint and outlive kubemint revoke until they expire; to end them now, delete and recreate the service account (kubectl delete serviceaccount deployer -n ci), then run this setup again\n"},
		"not served": {served: false, warning: "serves no ValidatingAdmissionPolicy (Kubernetes before 1.30, or the API turned off)"},
		"may not":    {served: true, deny: true, warning: `context "admin" may not get validatingadmissionpolicies`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if tt.served {
				h.api.Put("/apis/admissionregistration.k8s.io/v1", discovery)
			}
			if tt.deny {
				h.api.Allow = func(user string, a authorizationv1.ResourceAttributes) bool {
					return !strings.HasPrefix(a.Resource, "validatingadmissionpolic")
				}
			}
			if tt.older {
				h.api.Put("/api/v1/namespaces/ci/serviceaccounts/deployer", map[string]any{"kind": "ServiceAccount", "apiVersion": "v1", "metadata": map[string]any{"name": "deployer", "namespace": "ci"}})
			}
			s := h.setup()
			s.Revocable = true
			if _, err := Setup(context.Background(), s, h.deps()); err != nil {
				t.Fatalf("Setup: %v\n%s", err, h.stderr.String())
			}
			if tt.report != "" && !strings.Contains(h.stdout.String(), tt.report) {
				t.Errorf("the report lacks %q:\n%s", tt.report, h.stdout.String())
			}
			if tt.report == "" && strings.Contains(h.stdout.String(), "validatingadmissionpolicy") {
				t.Errorf("a policy line without a policy:\n%s", h.stdout.String())
			}
			if strings.Count(h.stderr.String(), "best-effort") != 1 || !strings.Contains(h.stderr.String(), tt.warning) {
				t.Errorf("want one best-effort warning with %q:\n%s", tt.warning, h.stderr.String())
			}
			if got := strings.Contains(h.stderr.String(), "existed before its revocation policy"); got != tt.older {
				t.Errorf("warned of the account's older tokens: %v, want %v:\n%s", got, tt.older, h.stderr.String())
			}
		})
	}
}
