package audit

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/kubemint/kubemint/internal/hint"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// ev builds an audit event at t0+sec, as the API server writes it.
func ev(sec int, user authnv1.UserInfo, verb, resource, sub, ns, name string, code int32, annotations map[string]string) string {
	e := auditv1.Event{
		TypeMeta:                 metav1.TypeMeta{Kind: "Event", APIVersion: "audit.k8s.io/v1"},
		Level:                    auditv1.LevelMetadata,
		AuditID:                  types.UID("id-" + fmt.Sprint(sec)),
		Stage:                    auditv1.StageResponseComplete,
		RequestURI:               "/api/v1/" + resource,
		Verb:                     verb,
		User:                     user,
		ObjectRef:                &auditv1.ObjectReference{Resource: resource, Subresource: sub, Namespace: ns, Name: name, APIVersion: "v1"},
		ResponseStatus:           &metav1.Status{Code: code},
		RequestReceivedTimestamp: metav1.NewMicroTime(t0.Add(time.Duration(sec) * time.Second)),
		StageTimestamp:           metav1.NewMicroTime(t0.Add(time.Duration(sec)*time.Second + time.Millisecond)),
		Annotations:              annotations,
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func person(name string, groups ...string) authnv1.UserInfo {
	return authnv1.UserInfo{Username: name, Groups: append(groups, "system:authenticated"),
		Extra: map[string]authnv1.ExtraValue{CredentialIDExtra: {"X509SHA256=abcd"}}}
}

func sa(ns, name, credID string) authnv1.UserInfo {
	u := authnv1.UserInfo{Username: "system:serviceaccount:" + ns + ":" + name, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	if credID != "" {
		u.Extra = map[string]authnv1.ExtraValue{CredentialIDExtra: {credID}}
	}
	return u
}

// mint is alice's (or anyone's) TokenRequest for ns/name issuing jti.
func mint(sec int, who authnv1.UserInfo, ns, name, jti string) string {
	return ev(sec, who, "create", "serviceaccounts", "token", ns, name, 201, map[string]string{
		IssuedCredentialIDAnnotation: "JTI=" + jti, "authorization.k8s.io/decision": "allow"})
}

func use(sec int, ns, name, jti, verb, resource, obj string) string {
	cred := ""
	if jti != "" {
		cred = "JTI=" + jti
	}
	return ev(sec, sa(ns, name, cred), verb, resource, "", ns, obj, 200, nil)
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// row is what a test checks of a Record.
type row struct {
	Sec     int
	Minter  string
	Account string
	Verb    string
	Name    string
	Unknown string
}

func trace(t *testing.T, f Filter, inputs ...Input) ([]row, Summary, error) {
	t.Helper()
	var got []row
	s, err := Trace(inputs, f, func(r *Record) error {
		w := row{Sec: int(r.Time.Sub(t0) / time.Second), Account: r.ServiceAccount, Verb: r.Verb, Name: r.Name}
		if r.MintedBy != nil {
			w.Minter = r.MintedBy.Username
		} else {
			w.Unknown = r.Unknown
		}
		got = append(got, w)
		return nil
	})
	return got, s, err
}

func write(t *testing.T, name, content string, gz bool) Input {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	b := []byte(content)
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		b = buf.Bytes()
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return File(p, nil)
}

func TestTrace(t *testing.T) {
	alice, bob := person("alice", "devs"), person("bob")
	ciJob := authnv1.UserInfo{Username: "gitlab:project_path:org/app:ref_type:branch:ref:main", Groups: []string{"system:authenticated"}}
	log := lines(
		ev(0, person("admin", "system:masters"), "list", "pods", "", "ci", "", 200, nil),
		mint(1, alice, "ci", "deployer", "a-1"),
		mint(2, bob, "ci", "deployer", "b-1"),
		mint(3, ciJob, "ci", "deployer", "c-1"),
		use(4, "ci", "deployer", "a-1", "get", "configmaps", "from-alice"),
		use(5, "ci", "deployer", "b-1", "delete", "configmaps", "from-bob"),
		use(6, "ci", "deployer", "c-1", "create", "configmaps", "from-ci"),
		use(7, "ci", "deployer", "old", "get", "pods", "old-token"),
		use(8, "ci", "legacy", "", "get", "pods", "legacy-token"),
		// A watch's first event: its ResponseComplete comes later.
		strings.Replace(use(9, "ci", "deployer", "a-1", "watch", "pods", "started"), `"ResponseComplete"`, `"ResponseStarted"`, 1),
	)
	all := []row{
		{Sec: 4, Minter: "alice", Account: "ci/deployer", Verb: "get", Name: "from-alice"},
		{Sec: 5, Minter: "bob", Account: "ci/deployer", Verb: "delete", Name: "from-bob"},
		{Sec: 6, Minter: ciJob.Username, Account: "ci/deployer", Verb: "create", Name: "from-ci"},
		{Sec: 7, Account: "ci/deployer", Verb: "get", Name: "old-token", Unknown: UnknownBeforeLogs},
		{Sec: 8, Account: "ci/legacy", Verb: "get", Name: "legacy-token", Unknown: UnknownNotTokenRequest},
	}
	tests := []struct {
		name   string
		filter Filter
		want   []row
	}{
		{"all", Filter{}, all},
		{"minted by alice", Filter{MintedBy: "alice"}, all[:1]},
		{"credential ID", Filter{CredentialID: "JTI=b-1"}, all[1:2]},
		{"account", Filter{ServiceAccount: "ci/legacy"}, all[4:]},
		{"since and until", Filter{Since: t0.Add(5 * time.Second), Until: t0.Add(7 * time.Second)}, all[1:3]},
		{"nobody", Filter{MintedBy: "mallory"}, nil},
	}
	for _, gz := range []bool{false, true} {
		in := write(t, "audit.log", log, gz)
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s gzip=%t", tc.name, gz), func(t *testing.T) {
				got, s, err := trace(t, tc.filter, in)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("records (-want +got):\n%s", d)
				}
				if s.TokenRequests != 3 || s.Malformed != 0 || !s.FirstEvent.Equal(t0) {
					t.Errorf("summary %+v: want 3 TokenRequests, no malformed line, first event at %v", s, t0)
				}
			})
		}
	}
}

func TestTraceMinterDetails(t *testing.T) {
	in := write(t, "audit.log", lines(mint(1, person("alice", "devs"), "ci", "deployer", "a-1"), use(2, "ci", "deployer", "a-1", "get", "pods", "p")), false)
	var got *Record
	if _, err := Trace([]Input{in}, Filter{}, func(r *Record) error { got = r; return nil }); err != nil {
		t.Fatal(err)
	}
	want := &Record{
		Time: t0.Add(2 * time.Second), ServiceAccount: "ci/deployer", CredentialID: "JTI=a-1",
		MintedBy: &Minter{Username: "alice", Groups: []string{"devs", "system:authenticated"}, Minted: t0.Add(time.Second), AuditID: "id-1"},
		Verb:     "get", Resource: "pods", Namespace: "ci", Name: "p", RequestURI: "/api/v1/pods", Code: 200, AuditID: "id-2",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("record (-want +got):\n%s", d)
	}
}

// A self-renewing chain: the account's token mints its successor, which
// mints the next; every link names alice, who started the chain.
func TestTraceSelfRenewingChain(t *testing.T) {
	renew := func(sec int, withJTI, newJTI string) string {
		return mint(sec, sa("ci", "deployer", "JTI="+withJTI), "ci", "deployer", newJTI)
	}
	in := write(t, "audit.log", lines(
		mint(1, person("alice"), "ci", "deployer", "d-1"),
		renew(2, "d-1", "d-2"),
		renew(3, "d-2", "d-3"),
		use(4, "ci", "deployer", "d-3", "get", "pods", "p"),
	), false)
	var got []*Record
	if _, err := Trace([]Input{in}, Filter{MintedBy: "alice"}, func(r *Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	// The renewals are requests of the account too, each named for alice.
	if len(got) != 3 {
		t.Fatalf("got %d records minted by alice, want 3 (2 renewals, 1 get)", len(got))
	}
	last := got[2].MintedBy
	if last.Username != "alice" || last.Hops != 2 || last.Via != "ci/deployer" || last.AuditID != "id-1" {
		t.Errorf("the get's minter: %+v; want alice, 2 hops via ci/deployer, her TokenRequest id-1", last)
	}
	if first := got[0].MintedBy; first.Hops != 0 {
		t.Errorf("the first renewal was made with alice's own token: %+v", first)
	}
}

// A person acting as the account by impersonation, with no token: the
// event names them.
func TestTraceImpersonation(t *testing.T) {
	as := ev(1, person("carol", "ops"), "delete", "pods", "", "ci", "p", 200, nil)
	var e map[string]any
	json.Unmarshal([]byte(as), &e)
	e["impersonatedUser"] = map[string]any{"username": "system:serviceaccount:ci:deployer", "groups": []string{"system:serviceaccounts"}}
	b, _ := json.Marshal(e)
	var got []*Record
	if _, err := Trace([]Input{write(t, "audit.log", lines(string(b)), false)}, Filter{MintedBy: "carol"}, func(r *Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Impersonated || got[0].ServiceAccount != "ci/deployer" || got[0].CredentialID != "" || got[0].Verb != "delete" {
		t.Fatalf("records %+v, want carol's delete as ci/deployer, impersonated", got)
	}
}

// Rotated files, given newest first, are read oldest first: the
// TokenRequest in the older file still names the minter.
func TestTraceOrdersFilesByFirstEvent(t *testing.T) {
	older := write(t, "audit-2026-12-01T09-00-05.000.log.gz", lines(mint(1, person("alice"), "ci", "deployer", "a-1"), use(2, "ci", "deployer", "a-1", "get", "pods", "one")), true)
	newer := write(t, "audit.log", lines(use(10, "ci", "deployer", "a-1", "get", "pods", "two")), false)
	got, _, err := trace(t, Filter{}, newer, older)
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{Sec: 2, Minter: "alice", Account: "ci/deployer", Verb: "get", Name: "one"}, {Sec: 10, Minter: "alice", Account: "ci/deployer", Verb: "get", Name: "two"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}

func TestTraceMalformedLines(t *testing.T) {
	m, u := mint(1, person("alice"), "ci", "deployer", "a-1"), use(3, "ci", "deployer", "a-1", "get", "pods", "p")
	log := lines(
		m,
		"this is not json",
		u[:len(u)/2], // a line cut short, as a crash leaves it
		`{"kind":"Event", "user": {"username": "system:serviceaccount:ci:deployer", "extra": {JTI=}}}`,
		"",
		"\x00\x01\x02",
		strings.Repeat("x", MaxLine+10),
		u,
	)
	got, s, err := trace(t, Filter{}, write(t, "audit.log", log, false))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]row{{Sec: 3, Minter: "alice", Account: "ci/deployer", Verb: "get", Name: "p"}}, got); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	if s.Malformed != 5 || s.FirstMalformed.Line != 2 {
		t.Errorf("malformed: %d, first at %v; want 5, first at line 2", s.Malformed, s.FirstMalformed)
	}
	// A last line without its newline is read; one too long is counted.
	for name, tc := range map[string]struct {
		last      string
		records   int
		malformed int
	}{
		"event":    {u, 2, 0},
		"too long": {strings.Repeat("x", MaxLine+readBuffer), 1, 1}, // a whole number of reads: the last is empty
	} {
		got, s, err := trace(t, Filter{}, write(t, "audit.log", lines(m, u)+tc.last, false))
		if err != nil || len(got) != tc.records || s.Malformed != tc.malformed {
			t.Errorf("%s without a newline at the end: %d records, %d malformed, %v; want %d, %d", name, len(got), s.Malformed, err, tc.records, tc.malformed)
		}
	}
}

// The same events as EKS (CloudWatch Logs events) and AKS
// (AzureDiagnostics rows) export them.
func TestTraceWrappedEvents(t *testing.T) {
	m, u := mint(1, person("alice"), "ci", "deployer", "a-1"), use(2, "ci", "deployer", "a-1", "get", "pods", "p")
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	want := []row{{Sec: 2, Minter: "alice", Account: "ci/deployer", Verb: "get", Name: "p"}}
	for name, log := range map[string]string{
		"eks": lines(`{"logStreamName":"kube-apiserver-audit-abc","timestamp":1,"message":`+quote(m)+`,"ingestionTime":2,"eventId":"1"}`,
			`{"logStreamName":"kube-apiserver-audit-abc","timestamp":2,"message":`+quote(u)+`}`),
		"aks": lines(`{"Category":"kube-audit","log_s":`+quote(m)+`}`, `{"Category":"kube-audit","log_s":`+quote(u)+`}`),
	} {
		t.Run(name, func(t *testing.T) {
			got, _, err := trace(t, Filter{}, write(t, "export.json", log, false))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
		})
	}
}

func TestTraceNotAnAuditLog(t *testing.T) {
	for name, tc := range map[string]struct{ content, want string }{
		"kubeconfig": {"apiVersion: v1\nkind: Config\n", "is not a Kubernetes audit log"},
		"json":       {lines(`{"level":"info","msg":"hello"}`, `{"a":1}`), "is not a Kubernetes audit log"},
		"empty":      {"", "it is empty"},
		"gke":        {lines(`{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","methodName":"io.k8s.core.v1.pods.list"}}`), "Cloud Logging entries"},
	} {
		t.Run(name, func(t *testing.T) {
			emitted := 0
			_, err := Trace([]Input{write(t, "x", tc.content, false)}, Filter{}, func(*Record) error { emitted++; return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) || len(hint.Hints(err)) == 0 {
				t.Fatalf("error %v, want one naming %q with a hint", err, tc.want)
			}
			if emitted != 0 {
				t.Errorf("emitted %d records before the error", emitted)
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		_, err := Trace([]Input{File("-", strings.NewReader("hello\n"))}, Filter{}, func(*Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "- is not a Kubernetes audit log") {
			t.Fatalf("error %v", err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(mint(1, person("alice"), "ci", "deployer", "a-1")))
	f.Add([]byte(`{"message":"{\"kind\":\"Event\"}"}`))
	f.Add([]byte(`{"log_s":{"kind":"Event","apiVersion":"audit.k8s.io/v1"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e auditv1.Event
		sh, err := decode(b, &e)
		if err == nil && sh == isEvent && !isAuditEvent(&e) {
			t.Errorf("decode said event for %q", b)
		}
	})
}

func TestTokenCredential(t *testing.T) {
	jwt := func(claims string) string {
		return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".sig"
	}
	tests := map[string]struct {
		token  string
		id     string
		issued time.Time
		ok     bool
	}{
		"token request": {jwt(`{"jti":"0c5c-1","iat":1764835200,"sub":"system:serviceaccount:ci:deployer"}`), "JTI=0c5c-1", time.Unix(1764835200, 0).UTC(), true},
		"no iat":        {jwt(`{"jti":"x"}`), "JTI=x", time.Time{}, true},
		"secret-based":  {jwt(`{"sub":"system:serviceaccount:ci:deployer","kubernetes.io/serviceaccount/namespace":"ci"}`), "", time.Time{}, false},
		"not a jwt":     {"opaque-token", "", time.Time{}, false},
		"bad payload":   {"a.!!!.c", "", time.Time{}, false},
	}
	for name, tc := range tests {
		id, issued, ok := TokenCredential(tc.token)
		if id != tc.id || !issued.Equal(tc.issued) || ok != tc.ok {
			t.Errorf("%s: got %q %v %v, want %q %v %v", name, id, issued, ok, tc.id, tc.issued, tc.ok)
		}
	}
}
