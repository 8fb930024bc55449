package credential

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The apiVersions of ExecCredential that kubemint reads and writes.
const (
	APIVersionV1      = "client.authentication.k8s.io/v1"
	APIVersionV1beta1 = "client.authentication.k8s.io/v1beta1"
)

// Cluster is the part of KUBERNETES_EXEC_INFO that names the API server the
// credential is for (sent when the exec entry sets provideClusterInfo).
type Cluster struct {
	Server                   string `json:"server"`
	CertificateAuthorityData []byte `json:"certificate-authority-data,omitempty"`
	// CertificateAuthority is a CA file's path, which the Python client
	// (since v32) sends where client-go sends the data. The cache key is
	// made of the CA's bytes either way (NeedsCAFile): one account, one
	// entry, whichever client asks.
	CertificateAuthority string `json:"certificate-authority,omitempty"`
}

// NeedsCAFile reports a cluster that names its CA by path only: its bytes
// must be read (by the full binary, which reads user-named files with its
// bounded reader) before the cache key can be made.
func (c *Cluster) NeedsCAFile() bool {
	return c != nil && len(c.CertificateAuthorityData) == 0 && c.CertificateAuthority != ""
}

// ExecInfo is what kubemint reads from KUBERNETES_EXEC_INFO. Both binaries
// read it with ParseExecInfo, a wire-format twin of client-go's
// clientauthentication types that links no apimachinery; tests
// (clientgo_test.go) hold it to what client-go's own codec encodes.
type ExecInfo struct {
	APIVersion  string
	Interactive bool
	// Cluster is nil unless the exec entry sets provideClusterInfo.
	Cluster *Cluster
}

type wireExecInfo struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Spec       struct {
		Cluster     *Cluster `json:"cluster"`
		Interactive bool     `json:"interactive"`
	} `json:"spec"`
}

// decodeUntyped fills w from s decoded into maps, as json.Unmarshal into w
// would: encoding/json's first decode of a struct type reflects over its
// fields, which cost a cache hit as much as the rest of its JSON did. It
// reports false, leaving json.Unmarshal to decide or to say what is wrong,
// wherever the two could differ: invalid JSON, a null or a value of another
// type, a key that matches a field only case-insensitively (encoding/json
// fills the field from it), a CA that is not base64, a spec or cluster
// given twice, any backslash. Other keys are ignored,
// as json.Unmarshal ignores them. TestParseExecInfoUntyped holds the two
// equal.
func (w *wireExecInfo) decodeUntyped(s string) bool {
	// A key spelled with escapes, and a spec or cluster given twice, which
	// json.Unmarshal merges into one struct where a map keeps the last:
	// without a backslash every quote in s delimits a string, so a name
	// that appears once in s is at most one key.
	if strings.IndexByte(s, '\\') >= 0 || strings.Count(s, `"spec"`) > 1 || strings.Count(s, `"cluster"`) > 1 {
		return false
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return false
	}
	top, ok := v.(map[string]any)
	if !ok || !exactKeys(top, "kind", "apiVersion", "spec") ||
		!optString(top, "kind", &w.Kind) || !optString(top, "apiVersion", &w.APIVersion) {
		return false
	}
	sv, ok := top["spec"]
	if !ok {
		return true
	}
	spec, ok := sv.(map[string]any)
	if !ok || !exactKeys(spec, "cluster", "interactive") {
		return false
	}
	if iv, ok := spec["interactive"]; ok {
		if w.Spec.Interactive, ok = iv.(bool); !ok {
			return false
		}
	}
	cv, ok := spec["cluster"]
	if !ok {
		return true
	}
	cm, ok := cv.(map[string]any)
	if !ok || !exactKeys(cm, "server", "certificate-authority-data", "certificate-authority") {
		return false
	}
	c := new(Cluster)
	if !optString(cm, "server", &c.Server) || !optString(cm, "certificate-authority", &c.CertificateAuthority) {
		return false
	}
	if dv, ok := cm["certificate-authority-data"]; ok {
		d, ok := dv.(string)
		if !ok {
			return false
		}
		// As encoding/json decodes a []byte.
		b := make([]byte, base64.StdEncoding.DecodedLen(len(d)))
		n, err := base64.StdEncoding.Decode(b, []byte(d))
		if err != nil {
			return false
		}
		c.CertificateAuthorityData = b[:n]
	}
	w.Spec.Cluster = c
	return true
}

// exactKeys reports whether no key of m matches one of fields only
// case-insensitively.
func exactKeys(m map[string]any, fields ...string) bool {
	for k := range m {
		for _, f := range fields {
			if k != f && strings.EqualFold(k, f) {
				return false
			}
		}
	}
	return true
}

// optString sets *dst to m[key] when it is there; false if it is not a string.
func optString(m map[string]any, key string, dst *string) bool {
	v, ok := m[key]
	if !ok {
		return true
	}
	*dst, ok = v.(string)
	return ok
}

// MaxExecInfo bounds KUBERNETES_EXEC_INFO: a cluster's CA bundle is a few
// kilobytes; a megabyte is not something client-go sent.
const MaxExecInfo = 1 << 20

// CheckExecInfoSize refuses an exec info too large to be client-go's.
func CheckExecInfoSize(s string) error {
	if len(s) > MaxExecInfo {
		return fmt.Errorf("KUBERNETES_EXEC_INFO is %d bytes, more than client-go ever sends (%d); unset it when running kubemint by hand", len(s), MaxExecInfo)
	}
	return nil
}

// ParseExecInfo reads KUBERNETES_EXEC_INFO. An empty value means kubemint
// runs by hand and answers in v1.
func ParseExecInfo(s string) (ExecInfo, error) {
	if s == "" {
		return ExecInfo{APIVersion: APIVersionV1}, nil
	}
	if err := CheckExecInfoSize(s); err != nil {
		return ExecInfo{}, err
	}
	var w wireExecInfo
	if !w.decodeUntyped(s) {
		w = wireExecInfo{}
		if err := json.Unmarshal([]byte(s), &w); err != nil {
			return ExecInfo{}, fmt.Errorf("KUBERNETES_EXEC_INFO is not valid JSON: %v", err)
		}
	}
	if err := CheckExecInfoVersion(w.Kind, w.APIVersion); err != nil {
		return ExecInfo{}, err
	}
	info := ExecInfo{APIVersion: w.APIVersion, Interactive: w.Spec.Interactive, Cluster: w.Spec.Cluster}
	if info.Cluster != nil && info.Cluster.Server == "" {
		info.Cluster = nil
	}
	return info, nil
}

// CheckExecInfoVersion accepts the kinds and apiVersions kubemint answers in.
func CheckExecInfoVersion(kind, apiVersion string) error {
	if kind != "ExecCredential" {
		return fmt.Errorf("KUBERNETES_EXEC_INFO has kind %q, want ExecCredential", kind)
	}
	switch apiVersion {
	case APIVersionV1, APIVersionV1beta1:
		return nil
	}
	return fmt.Errorf("KUBERNETES_EXEC_INFO has apiVersion %q; kubemint speaks %s and %s: set users[].user.exec.apiVersion to one of them", apiVersion, APIVersionV1, APIVersionV1beta1)
}

// MarshalExecCredential returns the ExecCredential that hands token to
// client-go, asking to be run again at refreshAt.
func MarshalExecCredential(apiVersion, token string, refreshAt time.Time) []byte {
	// Field by field, as json.Marshal(wireExecCredential) writes it
	// (TestMarshalExecCredentialJSON holds the two equal): encoding/json's
	// first use of a struct type reflects over its fields, a cost every
	// cache hit would pay.
	b := make([]byte, 0, 160+len(token))
	b = append(b, `{"kind":"ExecCredential","apiVersion":`...)
	b = appendJSONString(b, apiVersion)
	b = append(b, `,"spec":{"interactive":false},"status":{"expirationTimestamp":`...)
	b = appendJSONString(b, refreshAt.UTC().Format(time.RFC3339))
	b = append(b, `,"token":`...)
	b = appendJSONString(b, token)
	return append(b, "}}\n"...)
}

// appendJSONString appends s as encoding/json encodes a string.
func appendJSONString(b []byte, s string) []byte {
	enc, err := json.Marshal(s)
	if err != nil {
		panic("credential: encoding a string: " + err.Error())
	}
	return append(b, enc...)
}
