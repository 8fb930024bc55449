package provision

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubemint/kubemint/exchange"
	"github.com/kubemint/kubemint/internal/apitest"
	"github.com/kubemint/kubemint/internal/hint"
)

// front is a TLS server in front of a harness's fake API server, for what
// the fake does not play: SubjectAccessReviews (answered by sar, with the
// RBAC authorizer's reason), PUT (an update stores the object), and hook,
// which may answer any request before the fake does. The harness's
// kubeconfig is pointed at it.
type front struct {
	h    *harness
	sar  func(a authorizationv1.ResourceAttributes) (allowed bool, reason string)
	hook func(w http.ResponseWriter, r *http.Request, body []byte) bool

	mu   sync.Mutex
	puts []string
}

func newFront(t *testing.T, h *harness) *front {
	f := &front{h: h}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	ca := pemOf(srv.Certificate().Raw)
	kc := strings.NewReplacer(h.api.URL, srv.URL, base64.StdEncoding.EncodeToString(h.api.CAData), base64.StdEncoding.EncodeToString(ca)).Replace(h.read(t))
	if err := os.WriteFile(h.kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if f.hook != nil && f.hook(w, r, body) {
		return
	}
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/subjectaccessreviews") && f.sar != nil:
		var in authorizationv1.SubjectAccessReview
		_ = json.Unmarshal(body, &in)
		if in.Spec.User == "system:serviceaccount:ci:deployer" && in.Spec.ResourceAttributes != nil {
			in.Status.Allowed, in.Status.Reason = f.sar(*in.Spec.ResourceAttributes)
		}
		replyJSON(w, http.StatusCreated, in)
		return
	case r.Method == http.MethodPut:
		f.mu.Lock()
		f.puts = append(f.puts, r.URL.Path)
		f.mu.Unlock()
		f.h.api.Put(r.URL.Path, json.RawMessage(body))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.h.api.ServeHTTP(w, r)
}

func (f *front) updates() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.puts)
}

func pemOf(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func replyJSON(w http.ResponseWriter, code int, obj any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(obj)
}

// refuse answers a request as the API server refuses one.
func refuse(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string, details *metav1.StatusDetails) {
	replyJSON(w, code, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
		Reason: reason, Code: int32(code), Message: msg, Details: details})
}

// boundTo is the Secret a TokenRequest binds its token to, or "".
func boundTo(r *http.Request, body []byte) string {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/token") {
		return ""
	}
	var tr authenticationv1.TokenRequest
	if json.Unmarshal(body, &tr) != nil || tr.Spec.BoundObjectRef == nil || tr.Spec.BoundObjectRef.Kind != "Secret" {
		return ""
	}
	return tr.Spec.BoundObjectRef.Name
}

// servePolicies makes the fake serve ValidatingAdmissionPolicies.
func (h *harness) servePolicies() {
	h.api.Put("/apis/admissionregistration.k8s.io/v1", &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "admissionregistration.k8s.io/v1",
		APIResources: []metav1.APIResource{{Name: "validatingadmissionpolicies"}, {Name: "validatingadmissionpolicybindings"}}})
}

// execArgs are the arguments of the exec entry in the harness's
// kubeconfig, one per line as written.
func execArgs(t *testing.T, h *harness) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s*- (--\S+)$`).FindAllStringSubmatch(h.read(t), -1) {
		out = append(out, m[1])
	}
	return out
}

// addArgs adds args to the exec entry in the harness's kubeconfig, as a
// user edits it by hand.
func addArgs(t *testing.T, h *harness, args ...string) {
	t.Helper()
	kc := h.read(t)
	m := regexp.MustCompile(`(?m)^(\s*)- --service-account=ci/deployer$`).FindStringSubmatch(kc)
	if m == nil {
		t.Fatalf("no exec entry for ci/deployer:\n%s", kc)
	}
	add := m[0]
	for _, a := range args {
		add += "\n" + m[1] + "- " + a
	}
	if err := os.WriteFile(h.kubeconfig, []byte(strings.Replace(kc, m[0], add, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSetupRerunKeeps: a re-run that does not say a flag keeps what the
// existing context (or the account's revocation Secret or policy) set,
// names it on one kept line, and leaves the exec entry's flags as they
// were; saying the flag drops it.
func TestSetupRerunKeeps(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		first    func(s *SetupRequest) // nil: no first setup
		edit     []string              // flags added by hand to the first setup's exec entry
		prepare  func(h *harness)
		say      string // the flag the re-run sets, "" for none
		kept     string // the kept line, "" for none
		wantArgs []string
		lackArgs []string
	}{
		"--self-renew": {
			first:    func(s *SetupRequest) { s.SelfRenew = true },
			kept:     "kept       --self-renew, as set up before: this run did not say (set them to change them)\n",
			wantArgs: []string{"--self-renew"},
		},
		"--self-renew=false said": {
			first:    func(s *SetupRequest) { s.SelfRenew = true },
			say:      "self-renew",
			lackArgs: []string{"--self-renew"},
		},
		"audiences and --allow-server added by hand": {
			first:    func(s *SetupRequest) {},
			edit:     []string{"--audience=vault", "--allow-server=https://kube.example.com:6443"},
			kept:     "kept       --audience=vault --allow-server=https://kube.example.com:6443, as set up before",
			wantArgs: []string{"--audience=vault", "--allow-server=https://kube.example.com:6443"},
		},
		"a bound object other than the revocation Secret": {
			first:    func(s *SetupRequest) {},
			edit:     []string{"--bound-object-kind=Secret", "--bound-object-name=other"},
			kept:     "kept       --bound-object-kind=Secret --bound-object-name=other, as set up before",
			wantArgs: []string{"--bound-object-kind=Secret", "--bound-object-name=other"},
		},
		"--revocable from the account's Secret, without a context": {
			prepare: func(h *harness) {
				h.api.Put("/api/v1/namespaces/ci/secrets/deployer-kubemint", map[string]any{"kind": "Secret", "apiVersion": "v1", "metadata": map[string]any{"name": "deployer-kubemint", "namespace": "ci"}})
			},
			kept:     "kept       --revocable, as set up before",
			wantArgs: []string{"--bound-object-kind=Secret", "--bound-object-name=deployer-kubemint"},
		},
		"--revocable from the account's policy, without a context": {
			prepare: func(h *harness) {
				h.api.Put("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/"+exchange.RevocationPolicyName("ci", "deployer"), &admissionv1.ValidatingAdmissionPolicy{
					TypeMeta: metav1.TypeMeta{Kind: "ValidatingAdmissionPolicy", APIVersion: "admissionregistration.k8s.io/v1"}, ObjectMeta: metav1.ObjectMeta{Name: exchange.RevocationPolicyName("ci", "deployer")}})
			},
			kept:     "kept       --revocable, as set up before",
			wantArgs: []string{"--bound-object-kind=Secret", "--bound-object-name=deployer-kubemint"},
		},
		"--revocable=false said, the Secret there": {
			prepare: func(h *harness) {
				h.api.Put("/api/v1/namespaces/ci/secrets/deployer-kubemint", map[string]any{"kind": "Secret", "apiVersion": "v1", "metadata": map[string]any{"name": "deployer-kubemint", "namespace": "ci"}})
			},
			say:      "revocable",
			lackArgs: []string{"--bound-object-kind=Secret"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if tt.prepare != nil {
				tt.prepare(h)
			}
			if tt.first != nil {
				s := h.setup()
				tt.first(&s)
				if _, err := Setup(context.Background(), s, h.deps()); err != nil {
					t.Fatal(err)
				}
				addArgs(t, h, tt.edit...)
			}
			before := execArgs(t, h)
			h.stdout.Reset()
			again := h.setup()
			again.Changed = func(flag string) bool { return flag == tt.say }
			if _, err := Setup(context.Background(), again, h.deps()); err != nil {
				t.Fatalf("re-run: %v\n%s", err, h.stderr.String())
			}
			out := h.stdout.String()
			if tt.kept != "" && !strings.Contains(out, tt.kept) {
				t.Errorf("the report lacks %q:\n%s", tt.kept, out)
			}
			if tt.kept == "" && regexp.MustCompile(`(?m)^kept `).MatchString(out) {
				t.Errorf("kept what the run said:\n%s", out)
			}
			args := execArgs(t, h)
			for _, a := range tt.wantArgs {
				if !slices.Contains(args, a) {
					t.Errorf("the exec entry lacks %s: %q", a, args)
				}
			}
			for _, a := range tt.lackArgs {
				if slices.Contains(args, a) {
					t.Errorf("the exec entry kept %s: %q", a, args)
				}
			}
			// The same flags, in the exec entry's own order.
			slices.Sort(before)
			if sorted := slices.Sorted(slices.Values(args)); tt.first != nil && tt.say == "" && !slices.Equal(sorted, before) {
				t.Errorf("a re-run that said nothing changed the exec entry:\n%q\n%q", before, args)
			}
		})
	}
}

// TestSetupDryRunSaysWhatTheRunDoes: --dry-run reports the very steps the
// real run then takes (would create, would update, unchanged), for a first
// run, for one with the revocation policy, and for a re-run that updates
// the policy's cap; it writes nothing.
func TestSetupDryRunSaysWhatTheRunDoes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		first  func(s *SetupRequest) // nil: no first setup
		change func(s *SetupRequest)
		want   string // a line of the real run
	}{
		"a role and a minter": {
			change: func(s *SetupRequest) {
				s.Binding, s.Minters = exchange.Binding{Kind: "ClusterRole", Role: "edit"}, []exchange.Minter{{Kind: "User", Name: "alice"}}
			},
			want: "created    rolebinding ci/kubemint:deployer:edit (ClusterRole edit)\n",
		},
		"revocable, with the policy": {
			change: func(s *SetupRequest) { s.Revocable, s.MaxDuration = true, 2*time.Hour },
			want:   "created    validatingadmissionpolicy kubemint-revocable.ci.deployer and its binding (tokens of ci/deployer must be bound to Secret ci/deployer-kubemint and last at most 2h0m0s)\n",
		},
		"a re-run that raises the policy's cap": {
			first:  func(s *SetupRequest) { s.Revocable = true },
			change: func(s *SetupRequest) { s.Revocable, s.MaxDuration = true, 3*time.Hour },
			want:   "updated    validatingadmissionpolicy kubemint-revocable.ci.deployer and its binding (tokens of ci/deployer must be bound to Secret ci/deployer-kubemint and last at most 3h0m0s)\n",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.servePolicies()
			f := newFront(t, h)
			if tt.first != nil {
				s := h.setup()
				tt.first(&s)
				if _, err := Setup(context.Background(), s, h.deps()); err != nil {
					t.Fatal(err)
				}
			}
			s := h.setup()
			tt.change(&s)
			s.DryRun = true
			writes, kc := len(h.writes()), h.read(t)
			dry, err := Setup(context.Background(), s, h.deps())
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if w := h.writes()[writes:]; len(w) != 0 || len(f.updates()) != 0 || h.read(t) != kc {
				t.Fatalf("the dry run wrote %q, updated %q or changed the kubeconfig", w, f.updates())
			}
			h.stdout.Reset()
			s.DryRun = false
			real, err := Setup(context.Background(), s, h.deps())
			if err != nil {
				t.Fatalf("real run: %v\n%s", err, h.stderr.String())
			}
			if !slices.Equal(dry.Steps, real.Steps) || dry.Changed != real.Changed {
				t.Errorf("the dry run said\n%v\nthe real run did\n%v", dry.Steps, real.Steps)
			}
			if !strings.Contains(h.stdout.String(), tt.want) {
				t.Errorf("the real run's report lacks %q:\n%s", tt.want, h.stdout.String())
			}
		})
	}
}

// TestSetupWaitsForTheUpdatedPolicy: after raising the policy's cap, setup
// waits until the API server has loaded it (the old policy still refuses
// the longer token for a moment) before it proves the context, which would
// otherwise fail.
func TestSetupWaitsForTheUpdatedPolicy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.servePolicies()
	f := newFront(t, h)
	s := h.setup()
	s.Revocable = true
	if _, err := Setup(context.Background(), s, h.deps()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	refusals := 0
	f.hook = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		mu.Lock()
		defer mu.Unlock()
		// The old policy refuses bound tokens longer than its cap until
		// it has been refused twice after the update.
		if boundTo(r, body) == "" || len(f.updates()) == 0 || refusals == 2 {
			return false
		}
		refusals++
		refuse(w, http.StatusForbidden, metav1.StatusReasonForbidden, `serviceaccounts "deployer" is forbidden: ValidatingAdmissionPolicy '`+exchange.RevocationPolicyName("ci", "deployer")+`' denied request: too long`, nil)
		return true
	}
	d := h.deps()
	d.PolicyLoad = 5 * time.Second
	s.Duration = 2 * time.Hour
	s.Changed = func(flag string) bool { return flag == "duration" }
	h.stdout.Reset()
	if _, err := Setup(context.Background(), s, d); err != nil {
		t.Fatalf("Setup: %v\n%s", err, h.stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if refusals != 2 || len(f.updates()) == 0 {
		t.Errorf("refused %d times, updated %q; want 2 refusals after an update", refusals, f.updates())
	}
	if want := "updated    validatingadmissionpolicy kubemint-revocable.ci.deployer and its binding (tokens of ci/deployer must be bound to Secret ci/deployer-kubemint and last at most 2h0m0s)\n"; !strings.Contains(h.stdout.String(), want) {
		t.Errorf("the report lacks %q:\n%s", want, h.stdout.String())
	}
}

// TestSetupRisks: setup warns, one line each, of every grant of the
// account's role that defeats revocable tokens, naming the binding that
// grants it when the authorizer says; it asks as the admin
// (SubjectAccessReviews), or as the account when the admin may not, and a
// dry run, which has no token of the account, asks only as the admin.
func TestSetupRisks(t *testing.T) {
	t.Parallel()
	const edit = `RBAC: allowed by RoleBinding "kubemint:deployer:edit/ci" of ClusterRole "edit" to ServiceAccount "deployer/ci"`
	tests := map[string]struct {
		grants   map[string]string // "VERB RESOURCE[/SUB]" -> the authorizer's reason
		noSAR    bool              // the admin may not create SubjectAccessReviews
		dryRun   bool
		revoc    bool
		warnings []string
	}{
		"edit's grants, and reading secrets": {
			grants: map[string]string{"create serviceaccounts/token": edit, "impersonate serviceaccounts": edit, "create pods": edit, "list secrets": ""},
			warnings: []string{
				"kubemint: warning: ci/deployer may create its own serviceaccounts/token in namespace ci (RoleBinding ci/kubemint:deployer:edit of ClusterRole edit): it can mint itself a token that is not bound to its revocation Secret",
				"kubemint: warning: ci/deployer may create serviceaccounts/token for any account in namespace ci (RoleBinding ci/kubemint:deployer:edit of ClusterRole edit): ",
				"kubemint: warning: ci/deployer may impersonate in namespace ci (RoleBinding ci/kubemint:deployer:edit of ClusterRole edit): ",
				"kubemint: warning: ci/deployer may read secrets in namespace ci: it can copy other accounts' legacy tokens",
				"kubemint: warning: ci/deployer may create pods or workloads in namespace ci (RoleBinding ci/kubemint:deployer:edit of ClusterRole edit): ",
			},
		},
		// Each case grants enough that few checks ask every question:
		// client-go's rate limit makes each request past the tenth wait.
		"asked as the account": {
			grants: map[string]string{"create secrets": "", "impersonate serviceaccounts": "", "create pods": ""},
			noSAR:  true,
			warnings: []string{
				"kubemint: warning: ci/deployer may impersonate in namespace ci: ",
				"kubemint: warning: ci/deployer may create secrets in namespace ci: ",
				"kubemint: warning: ci/deployer may create pods or workloads in namespace ci: ",
			},
		},
		"a dry run asks the admin": {
			grants: map[string]string{"create serviceaccounts/token": "", "impersonate serviceaccounts": "", "create secrets": "", "get secrets": "", "bind clusterroles": "", "create pods": ""},
			dryRun: true,
			warnings: []string{
				"kubemint: warning: ci/deployer may create its own serviceaccounts/token in namespace ci: ",
				"kubemint: warning: ci/deployer may create serviceaccounts/token for any account in namespace ci: ",
				"kubemint: warning: ci/deployer may impersonate in namespace ci: ",
				"kubemint: warning: ci/deployer may create secrets in namespace ci: ",
				"kubemint: warning: ci/deployer may read secrets in namespace ci: ",
				"kubemint: warning: ci/deployer may bind or escalate roles in namespace ci: ",
				"kubemint: warning: ci/deployer may create pods or workloads in namespace ci: ",
			},
		},
		"a dry run without the admin's SubjectAccessReviews asks no one": {
			grants: map[string]string{"escalate roles": ""},
			dryRun: true, noSAR: true,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			f := newFront(t, h)
			grant := func(a authorizationv1.ResourceAttributes) (bool, string) {
				what := a.Verb + " " + a.Resource
				if a.Subresource != "" {
					what += "/" + a.Subresource
				}
				reason, ok := tt.grants[what]
				return ok, reason
			}
			f.sar = grant
			h.api.Allow = func(user string, a authorizationv1.ResourceAttributes) bool {
				if user == apitest.Admin {
					return !tt.noSAR || a.Resource != "subjectaccessreviews"
				}
				ok, _ := grant(a)
				return ok
			}
			s := h.setup()
			s.DryRun = tt.dryRun
			if _, err := Setup(context.Background(), s, h.deps()); err != nil {
				t.Fatalf("Setup: %v\n%s", err, h.stderr.String())
			}
			var got []string
			for _, l := range strings.Split(h.stderr.String(), "\n") {
				if strings.HasPrefix(l, "kubemint: warning: ci/deployer may ") {
					got = append(got, l)
				}
			}
			if len(got) != len(tt.warnings) {
				t.Fatalf("%d risk warnings, want %d:\n%s", len(got), len(tt.warnings), h.stderr.String())
			}
			for i, want := range tt.warnings {
				if !strings.HasPrefix(got[i], want) {
					t.Errorf("warning %d is\n%s\nwant it to start with\n%s", i, got[i], want)
				}
			}
		})
	}
}

// TestSetupNextSteps: after the context works, setup says what the
// account may do and what comes next for each minter: a use line for a
// person, none for a service account (a runner), and a warning, before
// anything is created, for a minter account that does not exist.
func TestSetupNextSteps(t *testing.T) {
	t.Parallel()
	runner := exchange.Minter{Kind: "ServiceAccount", Namespace: "pods", Name: "runner"}
	tests := map[string]struct {
		minters  []exchange.Minter
		runnerSA bool // the runner's service account exists
		noRules  bool
		want     []string
		lack     []string
		warning  string
	}{
		"a person": {
			minters: []exchange.Minter{{Kind: "User", Name: "alice"}},
			want:    []string{"  kubemint use --service-account=ci/deployer   # user:alice\n", "--source-github-actions -o ci/runner-github-actions.kubeconfig"},
		},
		"a service account that exists": {
			minters: []exchange.Minter{runner}, runnerSA: true,
			want: []string{"For a CI runner among them, write its kubeconfig here", " --source-in-cluster -o ci/runner-in-cluster.kubeconfig   # "},
			lack: []string{"kubemint use", "People among the minters"},
		},
		"a service account that does not exist": {
			minters: []exchange.Minter{runner},
			lack:    []string{"kubemint use"},
			warning: "kubemint: warning: the minter serviceaccount:pods/runner does not exist on https://",
		},
		"no minters, no rules": {
			noRules: true,
			want:    []string{"It may do nothing in namespace ci yet: bind a role with --role or --cluster-role.\n"},
			lack:    []string{"For a CI runner", "In namespace ci it may"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if tt.runnerSA {
				h.api.Put("/api/v1/namespaces/pods/serviceaccounts/runner", map[string]any{"kind": "ServiceAccount", "apiVersion": "v1", "metadata": map[string]any{"name": "runner", "namespace": "pods"}})
			}
			if tt.noRules {
				h.api.Rules = nil
			}
			s := h.setup()
			s.Minters = tt.minters
			if _, err := Setup(context.Background(), s, h.deps()); err != nil {
				t.Fatalf("Setup: %v\n%s", err, h.stderr.String())
			}
			out := h.stdout.String()
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("the report lacks %q:\n%s", want, out)
				}
			}
			for _, lack := range tt.lack {
				if strings.Contains(out, lack) {
					t.Errorf("the report has %q:\n%s", lack, out)
				}
			}
			if got := strings.Count(h.stderr.String(), "does not exist on"); (tt.warning == "" && got != 0) || (tt.warning != "" && (got != 1 || !strings.Contains(h.stderr.String(), tt.warning))) {
				t.Errorf("want the warning %q once:\n%s", tt.warning, h.stderr.String())
			}
		})
	}
}

// TestUseRevocationSecret: use binds the teammate's tokens to the
// account's revocation Secret when it is there, not when it is not, and
// with --revocable refuses an account without one, naming the setup line,
// before writing anything. A re-run keeps the existing context's flags.
func TestUseRevocationSecret(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		secret    bool
		revocable bool
		rerun     bool
		wantErr   string
		wantHints []string
		bound     bool
		kept      string
	}{
		"the Secret there": {secret: true, bound: true},
		"no Secret":        {},
		"no Secret, --revocable": {revocable: true,
			wantErr:   "ci/deployer has no revocation Secret ci/deployer-kubemint on https://",
			wantHints: []string{"an admin runs kubemint setup --service-account=ci/deployer --revocable (again, after a revoke)", "or drop --revocable"}},
		"a re-run keeps the bound Secret and --duration": {secret: true, rerun: true, bound: true,
			kept: "kept       --revocable --duration=30m0s, as set up before"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			f := newFront(t, h)
			secret := tt.secret
			f.hook = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
				if b := boundTo(r, body); b == "" || secret {
					return false
				}
				refuse(w, http.StatusNotFound, metav1.StatusReasonNotFound, `secrets "deployer-kubemint" not found`,
					&metav1.StatusDetails{Kind: "secrets", Name: "deployer-kubemint"})
				return true
			}
			h.api.Allow = func(user string, a authorizationv1.ResourceAttributes) bool {
				// The account may do anything, so each risk check asks
				// once; the admin may mint and ask the self reviews, not
				// SubjectAccessReviews: the risks are asked as the account.
				return user != apitest.Admin || a.Subresource == "token" || (a.Verb == "create" && strings.HasPrefix(a.Resource, "self"))
			}
			r := h.setup().Request
			r.Revocable = tt.revocable
			if tt.rerun {
				first := r
				first.Duration = 30 * time.Minute
				if _, err := Use(context.Background(), first, h.deps()); err != nil {
					t.Fatal(err)
				}
				h.stdout.Reset()
				h.stderr.Reset()
				r.Changed = func(string) bool { return false }
			}
			kc := h.read(t)
			_, err := Use(context.Background(), r, h.deps())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Use = %v, want %q", err, tt.wantErr)
				}
				for _, want := range tt.wantHints {
					if !slices.Contains(hint.Hints(err), want) {
						t.Errorf("hints %q lack %q", hint.Hints(err), want)
					}
				}
				if h.read(t) != kc || h.stdout.Len() != 0 {
					t.Errorf("a refused use wrote the kubeconfig or reported:\n%s", h.stdout.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("Use: %v", err)
			}
			out, args := h.stdout.String(), execArgs(t, h)
			says := strings.Contains(out, "Its tokens are bound to Secret ci/deployer-kubemint: kubemint revoke --service-account=ci/deployer kills them.\n")
			if has := slices.Contains(args, "--bound-object-name=deployer-kubemint"); has != tt.bound || says != tt.bound {
				t.Errorf("bound %v, says so %v; want %v:\n%q\n%s", has, says, tt.bound, args, out)
			}
			if tt.kept != "" && !strings.Contains(out, tt.kept) {
				t.Errorf("the report lacks %q:\n%s", tt.kept, out)
			}
			if want := "kubemint audit --service-account=ci/deployer --minted-by=admin AUDIT-LOG...\n"; !strings.Contains(out, want) {
				t.Errorf("the report lacks %q:\n%s", want, out)
			}
			// The account may do anything: every risk, once, asked as
			// the account; use makes no revocation policy.
			if n := strings.Count(h.stderr.String(), "kubemint: warning: ci/deployer may "); n != 7 || !strings.Contains(h.stderr.String(), "set it up with --revocable, whose admission policy refuses such tokens") {
				t.Errorf("want the 7 risk warnings, once each:\n%s", h.stderr.String())
			}
		})
	}
}
