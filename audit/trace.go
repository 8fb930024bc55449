// Package audit traces what a shared service account did to who minted
// each of its tokens, from the API server's audit log: a TokenRequest's
// event names the credential ID of the token it issued
// (annotation authentication.kubernetes.io/issued-credential-id) and who
// asked for it; every request made with that token names the same ID in
// its user's extra (authentication.kubernetes.io/credential-id).
//
// It streams: memory holds one line and the map from credential ID to
// minter, as large as the number of TokenRequests in the logs.
package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/kubemint/kubemint/internal/hint"
)

// Minter is who asked for a token: the user of its TokenRequest. A token
// minted with another service-account token whose own minter is known (a
// self-renewing chain, or one account minting for another) names that
// minter, the person or job at the root, with the hops in between.
type Minter struct {
	Username string   `json:"username"`
	UID      string   `json:"uid,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	// Impersonated is the user the minter acted as, when it impersonated.
	Impersonated string `json:"impersonated,omitempty"`
	// Minted is when the root TokenRequest was received.
	Minted time.Time `json:"minted"`
	// AuditID is the root TokenRequest's audit ID.
	AuditID string `json:"auditID"`
	// Hops counts the TokenRequests made with service-account tokens
	// between the root and this token; Via is the account that made the
	// last one.
	Hops int    `json:"hops,omitempty"`
	Via  string `json:"via,omitempty"`
}

// Why a record's minter is unknown.
const (
	// UnknownBeforeLogs: the token has a credential ID, and no
	// TokenRequest in the logs issued it: it was minted before they begin
	// (Summary.FirstEvent), or the audit policy did not record its
	// TokenRequest.
	UnknownBeforeLogs = "issued before these logs"
	// UnknownNotTokenRequest: the token has no JTI, so no TokenRequest
	// issued it: a Secret-based token.
	UnknownNotTokenRequest = "not by TokenRequest"
)

// Record is one request made with a service-account token, or as a
// service account by impersonation.
type Record struct {
	Time           time.Time `json:"time"`
	ServiceAccount string    `json:"serviceAccount"`
	CredentialID   string    `json:"credentialID,omitempty"`
	// MintedBy is nil when the TokenRequest is not in the logs; Unknown
	// says why (UnknownBeforeLogs, UnknownNotTokenRequest).
	MintedBy *Minter `json:"mintedBy,omitempty"`
	// Impersonated is true for a request made as the account by
	// impersonating it (Impersonate-User), with no token of the account's:
	// MintedBy is then the impersonator, its Minted and AuditID the
	// request's own.
	Impersonated bool     `json:"impersonated,omitempty"`
	Unknown      string   `json:"unknown,omitempty"`
	Verb         string   `json:"verb"`
	APIGroup     string   `json:"apiGroup,omitempty"`
	Resource     string   `json:"resource,omitempty"`
	Subresource  string   `json:"subresource,omitempty"`
	Namespace    string   `json:"namespace,omitempty"`
	Name         string   `json:"name,omitempty"`
	RequestURI   string   `json:"requestURI"`
	Code         int32    `json:"code,omitempty"`
	SourceIPs    []string `json:"sourceIPs,omitempty"`
	UserAgent    string   `json:"userAgent,omitempty"`
	AuditID      string   `json:"auditID"`
}

// Filter selects records; a zero field selects all.
type Filter struct {
	// ServiceAccount is NAMESPACE/NAME.
	ServiceAccount string
	// MintedBy is the minter's user name.
	MintedBy string
	// CredentialID is "JTI=<jti>".
	CredentialID string
	Since, Until time.Time
}

func (f Filter) keep(r *Record) bool {
	switch {
	case f.ServiceAccount != "" && r.ServiceAccount != f.ServiceAccount,
		f.CredentialID != "" && r.CredentialID != f.CredentialID,
		f.MintedBy != "" && (r.MintedBy == nil || r.MintedBy.Username != f.MintedBy),
		!f.Since.IsZero() && r.Time.Before(f.Since),
		!f.Until.IsZero() && !r.Time.Before(f.Until):
		return false
	}
	return true
}

// Position names a line of an input.
type Position struct {
	Input string
	Line  int
}

func (p Position) String() string { return fmt.Sprintf("%s line %d", p.Input, p.Line) }

// Summary counts what Trace read.
type Summary struct {
	Lines, Events, TokenRequests, Requests, Matched int
	// Unknown counts the matched records of each Unknown reason.
	Unknown map[string]int
	// Malformed counts lines that are not JSON, or too long; First is the
	// first of them.
	Malformed      int
	FirstMalformed Position
	// FirstEvent is when the earliest event of the logs was received.
	FirstEvent time.Time
}

// sniffLines is how many lines of an input may go by without an audit
// event before it is declared not an audit log.
const sniffLines = 1000

// Trace reads the inputs, oldest first (ordered by their first event;
// standard input, which cannot be read twice, first), and calls emit for
// every request made with a service-account token that f keeps, in the
// order of the logs. A line that cannot be read is counted, never fatal;
// an input that holds no audit event is an error, before anything is
// emitted when it is a file.
func Trace(inputs []Input, f Filter, emit func(*Record) error) (Summary, error) {
	s := Summary{Unknown: map[string]int{}}
	ordered, err := order(inputs)
	if err != nil {
		return s, err
	}
	t := tracer{filter: f, emit: emit, minters: map[string]*Minter{}, s: &s}
	for _, o := range ordered {
		if !o.first.IsZero() && (s.FirstEvent.IsZero() || o.first.Before(s.FirstEvent)) {
			s.FirstEvent = o.first
		}
	}
	for _, o := range ordered {
		if err := t.read(o.in); err != nil {
			return s, err
		}
	}
	return s, nil
}

type ordered struct {
	in    Input
	first time.Time
}

// order sorts inputs by the time of their first event: in one log the
// TokenRequest precedes the token's use, and rotated files are named by
// the time they were rotated, which sorts them by name only sometimes.
func order(inputs []Input) ([]ordered, error) {
	out := make([]ordered, 0, len(inputs))
	for _, in := range inputs {
		o := ordered{in: in}
		if in.reopenable {
			first, err := firstEvent(in)
			if err != nil {
				return nil, err
			}
			o.first = first
		}
		out = append(out, o)
	}
	slices.SortStableFunc(out, func(a, b ordered) int {
		switch {
		case !a.in.reopenable || !b.in.reopenable:
			// Standard input first, the rest stay put relative to it.
			if a.in.reopenable == b.in.reopenable {
				return 0
			}
			if !a.in.reopenable {
				return -1
			}
			return 1
		}
		return a.first.Compare(b.first)
	})
	return out, nil
}

// firstEvent reads in up to its first audit event and returns when that
// was received.
func firstEvent(in Input) (time.Time, error) {
	r, err := in.openReader()
	if err != nil {
		return time.Time{}, err
	}
	defer r.Close()
	var e auditv1.Event
	gke := false
	for r.line < sniffLines {
		b, tooLong, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("reading %s: %w", in.Name, err)
		}
		if tooLong {
			continue
		}
		b = bytes.TrimSpace(b)
		if !looksWhole(b) {
			continue
		}
		switch sh, _ := decode(b, &e); sh {
		case isEvent:
			return eventTime(&e), nil
		case gkeEntry:
			gke = true
		}
	}
	return time.Time{}, notAuditLog(in.Name, r.line, gke)
}

func notAuditLog(name string, lines int, gke bool) error {
	if gke {
		return hint.Wrap(fmt.Errorf("%s holds Cloud Logging entries (protoPayload), not Kubernetes audit events: kubemint cannot read them", name),
			"GKE writes its own Cloud Audit Logs record for each request, not the audit.k8s.io Event that names the credential ID; see docs/security.md#who-did-it")
	}
	what := "any of its lines"
	if lines >= sniffLines {
		what = fmt.Sprintf("any of its first %d lines", lines)
	}
	if lines == 0 {
		what = "a line: it is empty"
	}
	return hint.Wrap(fmt.Errorf("%s is not a Kubernetes audit log: no audit.k8s.io/v1 Event in %s", name, what),
		"pass the files kube-apiserver writes with --audit-log-path (rotated and .gz ones too), or the EKS or AKS export docs/security.md#who-did-it shows")
}

// eventTime is when the API server received the request.
func eventTime(e *auditv1.Event) time.Time {
	if !e.RequestReceivedTimestamp.IsZero() {
		return e.RequestReceivedTimestamp.UTC()
	}
	return e.StageTimestamp.UTC()
}

type tracer struct {
	filter  Filter
	emit    func(*Record) error
	minters map[string]*Minter
	s       *Summary
	e       auditv1.Event
}

func (t *tracer) malformed(in string, line int) {
	if t.s.Malformed == 0 {
		t.s.FirstMalformed = Position{Input: in, Line: line}
	}
	t.s.Malformed++
}

func (t *tracer) read(in Input) error {
	r, err := in.openReader()
	if err != nil {
		return err
	}
	defer r.Close()
	events, gke := 0, false
	for {
		b, tooLong, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s after line %d: %w", in.Name, r.line, err)
		}
		t.s.Lines++
		if tooLong {
			t.malformed(in.Name, r.line)
			continue
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		if !looksWhole(b) {
			t.malformed(in.Name, r.line)
			continue
		}
		// Until an input has shown an event, every line is decoded: an
		// input that is not an audit log must say so.
		if events > 0 && !worthDecoding(b) {
			continue
		}
		sh, err := decode(b, &t.e)
		if err != nil {
			t.malformed(in.Name, r.line)
			continue
		}
		switch sh {
		case gkeEntry:
			gke = true
		case isEvent:
			events++
			t.s.Events++
			if err := t.event(&t.e); err != nil {
				return err
			}
		}
		if events == 0 && r.line >= sniffLines {
			return notAuditLog(in.Name, r.line, gke)
		}
	}
	if events == 0 {
		return notAuditLog(in.Name, r.line, gke)
	}
	return nil
}

// event handles one audit event: a TokenRequest records its minter, a
// request made with a service-account token becomes a Record.
func (t *tracer) event(e *auditv1.Event) error {
	// One event per request: the one written when it completed (or
	// panicked). A policy that omits those stages leaves nothing to show.
	if e.Stage != auditv1.StageResponseComplete && e.Stage != auditv1.StagePanic {
		return nil
	}
	if id := e.Annotations[IssuedCredentialIDAnnotation]; id != "" && e.ObjectRef != nil &&
		e.ObjectRef.Resource == "serviceaccounts" && e.ObjectRef.Subresource == "token" {
		t.s.TokenRequests++
		m := &Minter{Username: e.User.Username, UID: e.User.UID, Groups: e.User.Groups, Minted: eventTime(e), AuditID: string(e.AuditID)}
		if e.ImpersonatedUser != nil {
			m.Impersonated = e.ImpersonatedUser.Username
		}
		if via, ok := strings.CutPrefix(e.User.Username, saUserPrefix); ok {
			if ids := e.User.Extra[CredentialIDExtra]; len(ids) > 0 && t.minters[ids[0]] != nil {
				// Minted with a token whose minter is known: that
				// minter, one hop further.
				root := *t.minters[ids[0]]
				root.Hops++
				root.Via = strings.Replace(via, ":", "/", 1)
				m = &root
			}
		}
		t.minters[id] = m
	}
	account, ok := strings.CutPrefix(e.User.Username, saUserPrefix)
	impersonated := false
	if !ok && e.ImpersonatedUser != nil {
		// Someone acting as the account without a token of its own:
		// the event names them.
		account, ok = strings.CutPrefix(e.ImpersonatedUser.Username, saUserPrefix)
		impersonated = ok
	}
	if !ok {
		return nil
	}
	t.s.Requests++
	r := Record{
		Time:           eventTime(e),
		ServiceAccount: strings.Replace(account, ":", "/", 1),
		Verb:           e.Verb,
		RequestURI:     e.RequestURI,
		SourceIPs:      e.SourceIPs,
		UserAgent:      e.UserAgent,
		AuditID:        string(e.AuditID),
	}
	if o := e.ObjectRef; o != nil {
		r.APIGroup, r.Resource, r.Subresource, r.Namespace, r.Name = o.APIGroup, o.Resource, o.Subresource, o.Namespace, o.Name
	}
	if e.ResponseStatus != nil {
		r.Code = e.ResponseStatus.Code
	}
	if ids := e.User.Extra[CredentialIDExtra]; len(ids) > 0 && !impersonated {
		r.CredentialID = ids[0]
	}
	switch m := t.minters[r.CredentialID]; {
	case impersonated:
		r.Impersonated = true
		r.MintedBy = &Minter{Username: e.User.Username, UID: e.User.UID, Groups: e.User.Groups, Minted: eventTime(e), AuditID: string(e.AuditID)}
	case !strings.HasPrefix(r.CredentialID, jtiPrefix):
		r.Unknown = UnknownNotTokenRequest
	case m == nil:
		r.Unknown = UnknownBeforeLogs
	default:
		r.MintedBy = m
	}
	if !t.filter.keep(&r) {
		return nil
	}
	t.s.Matched++
	if r.MintedBy == nil {
		t.s.Unknown[r.Unknown]++
	}
	return t.emit(&r)
}
