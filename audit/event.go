package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// The keys that link a request to the TokenRequest that minted its token,
// as the API server writes them (k8s.io/apiserver
// pkg/authentication/serviceaccount and pkg/authentication/user, and
// k8s.io/kubernetes pkg/registry/core/serviceaccount/storage/token.go, at
// v0.37.2 / v1.37.2).
const (
	// IssuedCredentialIDAnnotation is the TokenRequest event's annotation
	// naming the credential ID of the token it issued.
	IssuedCredentialIDAnnotation = "authentication.kubernetes.io/issued-credential-id"
	// CredentialIDExtra is the user.extra key of every request naming the
	// credential it authenticated with: "JTI=<jti>" for a service-account
	// token, "X509SHA256=<hex>" for a client certificate.
	CredentialIDExtra = "authentication.kubernetes.io/credential-id"
	// jtiPrefix starts a service-account token's credential ID.
	jtiPrefix = "JTI="

	saUserPrefix = "system:serviceaccount:"
)

// CredentialID is the credential ID the API server writes for a token with
// this JTI claim ("" for none).
func CredentialID(jti string) string {
	if jti == "" {
		return ""
	}
	return jtiPrefix + jti
}

// line is one line of a log: an audit Event, or a record of a log service
// that carries one. The Event's fields decode at the top level; the
// wrappers' fields beside them.
type line struct {
	auditv1.Event
	// Message is a CloudWatch Logs event's text (EKS control-plane
	// logging writes each audit Event as one, in the log group
	// /aws/eks/CLUSTER/cluster, streams kube-apiserver-audit-*).
	Message json.RawMessage `json:"message"`
	// LogS is the AzureDiagnostics table's column that holds the Event's
	// JSON text (AKS diagnostic settings, category kube-audit or
	// kube-audit-admin).
	LogS json.RawMessage `json:"log_s"`
	// ProtoPayload marks a Cloud Logging entry (GKE): a Cloud Audit Logs
	// AuditLog record, not the Kubernetes Event, which kubemint does not
	// read.
	ProtoPayload json.RawMessage `json:"protoPayload"`
}

// shape says what a decoded line held.
type shape int

const (
	notEvent shape = iota
	isEvent
	gkeEntry
)

// isAuditEvent reports whether e is an audit.k8s.io Event.
func isAuditEvent(e *auditv1.Event) bool {
	return e.Kind == "Event" && strings.HasPrefix(e.APIVersion, "audit.k8s.io/")
}

// decode reads one line into e. A line that is not JSON is an error; one
// that is JSON but holds no Event says so by its shape.
func decode(b []byte, e *auditv1.Event) (shape, error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return notEvent, err
	}
	if isAuditEvent(&l.Event) {
		*e = l.Event
		return isEvent, nil
	}
	for _, inner := range []json.RawMessage{l.Message, l.LogS} {
		if len(inner) == 0 {
			continue
		}
		// The wrapped Event is an object, or (usually) its JSON text.
		if inner[0] == '"' {
			var s string
			if json.Unmarshal(inner, &s) != nil {
				continue
			}
			inner = json.RawMessage(s)
		}
		var w auditv1.Event
		if json.Unmarshal(bytes.TrimSpace(inner), &w) == nil && isAuditEvent(&w) {
			*e = w
			return isEvent, nil
		}
	}
	if len(l.ProtoPayload) > 0 {
		return gkeEntry, nil
	}
	return notEvent, nil
}

// worthDecoding is the quick test that keeps most lines of a big log from
// being decoded: only an event that mentions a service-account user or a
// token's credential ID can be a request made with a service-account token
// or a TokenRequest that issued one (a wrapped Event's quotes are escaped,
// so neither needle includes a quote).
func worthDecoding(b []byte) bool {
	return bytes.Contains(b, []byte(jtiPrefix)) || bytes.Contains(b, []byte(saUserPrefix))
}

// looksWhole is the check a line that is not decoded gets: one JSON
// object, start to end. It catches what logs really hold, a truncated
// line, text, binary; not every invalid object.
func looksWhole(b []byte) bool {
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

// TokenCredential reads, without verifying it, the credential ID the API
// server will write for every request made with token ("JTI=<jti>") and
// when the token was issued (its iat claim). ok is false for a token
// without a JTI: not a JWT, or a Secret-based one.
func TokenCredential(token string) (id string, issued time.Time, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", time.Time{}, false
	}
	var c struct {
		JTI string `json:"jti"`
		IAT int64  `json:"iat"`
	}
	if json.Unmarshal(payload, &c) != nil || c.JTI == "" {
		return "", time.Time{}, false
	}
	if c.IAT > 0 {
		issued = time.Unix(c.IAT, 0).UTC()
	}
	return CredentialID(c.JTI), issued, true
}
