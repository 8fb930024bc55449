package credential

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// keyVersion changes whenever the key's fields change, so that entries
// written under the old scheme become misses instead of being matched by
// chance. 2: the source's identity joined the key. 3: source paths made
// absolute; the CI identity (token claims, GitHub repository and ref) in it.
// 4: --allow-server in it, and every entry checked against the server pin
// (an entry of an older version may have been minted for a server the
// user never pinned).
// 5: --source-token-env keyed on the whole token, not its unverified claims.
const keyVersion = 5

// keyFields is everything that changes the token a TokenRequest returns, in
// a fixed order. Its JSON is the canonical encoding that the cache key
// hashes, so the same request always finds the same entry and two clusters
// or two accounts never share one.
//
// Source names the identity that mints. Two clusters can sit behind one
// URL and CA (a proxy, a shared load balancer); what tells them apart for
// kubemint is the source that reaches them, so two sources never share an
// entry. It is built from flag values and the environment only: the lean
// front computes the key on every hit and reads no kubeconfig.
type keyFields struct {
	V         int      `json:"v"`
	Server    string   `json:"server"`
	CA        string   `json:"ca"`
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Audiences []string `json:"audiences"`
	Seconds   int64    `json:"seconds"`
	BoundKind string   `json:"boundKind"`
	BoundName string   `json:"boundName"`
	BoundUID  string   `json:"boundUID"`
	Source    []string `json:"source"`
	// Allow is --allow-server: an entry minted while a server was
	// allowed is not served once it is no longer.
	Allow []string `json:"allow,omitempty"`
}

// appendJSON appends what json.Marshal(k) returns (TestKeyFieldsJSON holds
// the two equal), field by field: encoding/json's first use of a struct
// type reflects over its fields, which cost a cache hit more than the rest
// of the key did; strings and string slices it encodes without that.
func (k keyFields) appendJSON(b []byte) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(k.V), 10)
	b = appendJSONField(b, "server", k.Server)
	b = appendJSONField(b, "ca", k.CA)
	b = appendJSONField(b, "namespace", k.Namespace)
	b = appendJSONField(b, "name", k.Name)
	b = appendJSONField(b, "audiences", k.Audiences)
	b = append(b, `,"seconds":`...)
	b = strconv.AppendInt(b, k.Seconds, 10)
	b = appendJSONField(b, "boundKind", k.BoundKind)
	b = appendJSONField(b, "boundName", k.BoundName)
	b = appendJSONField(b, "boundUID", k.BoundUID)
	b = appendJSONField(b, "source", k.Source)
	if len(k.Allow) > 0 {
		b = appendJSONField(b, "allow", k.Allow)
	}
	return append(b, '}')
}

// appendJSONField appends ,"name":v with v (a string or a []string)
// encoded by encoding/json, escaping and all.
func appendJSONField(b []byte, name string, v any) []byte {
	enc, err := json.Marshal(v)
	if err != nil {
		panic("credential: encoding " + name + ": " + err.Error())
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return append(b, enc...)
}

// Key returns the cache key for a token minted for o against cluster: the
// hex SHA-256 of the canonical encoding of every input that shapes the
// token. Audiences are compared as a set. o must have passed Validate.
func Key(o *Options, cluster Cluster) string {
	ns, name, _ := o.Account()
	auds := slices.Clone(o.Audiences)
	slices.Sort(auds)
	auds = slices.Compact(auds)
	if auds == nil {
		auds = []string{}
	}
	caSum := ""
	if len(cluster.CertificateAuthorityData) > 0 {
		s := sha256.Sum256(cluster.CertificateAuthorityData)
		caSum = hex.EncodeToString(s[:])
	}
	b := keyFields{
		V:         keyVersion,
		Server:    cluster.Server,
		CA:        caSum,
		Namespace: ns,
		Name:      name,
		Audiences: auds,
		Seconds:   int64(o.Duration.Seconds()),
		BoundKind: o.BoundObjectKind,
		BoundName: o.BoundObjectName,
		BoundUID:  o.BoundObjectUID,
		Source:    sourceIdentity(o),
		Allow:     allowKey(o.AllowServers),
	}.appendJSON(nil)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// DefaultCIAudience is the audience of --source-github-actions without
// --source-audience; exchange.DefaultCIAudience is the same (this package
// cannot import exchange).
const DefaultCIAudience = "kubernetes"

// sourceIdentity names the source of o as its flags (and, for a kubeconfig
// source without --source-kubeconfig, $KUBECONFIG) spell it: the kind, then
// what picks the credentials within it. The same context name in two
// kubeconfig files is two identities; an empty context is the kubeconfig's
// current context, whatever that names when the token is minted.
func sourceIdentity(o *Options) []string {
	switch {
	case o.SourceInCluster:
		return []string{"in-cluster"}
	case o.SourceTokenFile != "":
		return []string{"token-file", absPath(o.SourceTokenFile), o.SourceServer, absPath(o.SourceCA)}
	case o.SourceGitHubActions:
		// The audience shapes the identity the cluster maps the token to
		// (one AuthenticationConfiguration entry per audience).
		aud := o.SourceAudience
		if aud == "" {
			aud = DefaultCIAudience
		}
		// Whose job it is: two jobs of two repositories (or refs) on one
		// runner, under one uid and cache, must not share an entry.
		return []string{"github-actions", aud, o.SourceServer, absPath(o.SourceCA),
			os.Getenv("GITHUB_REPOSITORY"), os.Getenv("GITHUB_WORKFLOW_REF"), os.Getenv("GITHUB_REF")}
	case o.SourceTokenEnv != "":
		return []string{"token-env", o.SourceTokenEnv, o.SourceServer, absPath(o.SourceCA), tokenIdentity(os.Getenv(o.SourceTokenEnv))}
	}
	kubeconfig := absPath(o.SourceKubeconfig)
	if kubeconfig == "" {
		// As client-go resolves it; "" is ~/.kube/config.
		kubeconfig = absPaths(os.Getenv("KUBECONFIG"))
	}
	return []string{"kubeconfig", kubeconfig, o.SourceContext}
}

// absPath makes a source path absolute, so that one relative path given in
// two directories is two identities. Getwd is paid only for a relative
// path; one that cannot be resolved is kept as given.
func absPath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// absPaths is absPath for each entry of a $KUBECONFIG list.
func absPaths(list string) string {
	if list == "" {
		return ""
	}
	parts := filepath.SplitList(list)
	for i, p := range parts {
		parts[i] = absPath(p)
	}
	return strings.Join(parts, string(os.PathListSeparator))
}

// tokenIdentity is the hash of the whole token a variable holds: whose
// token it is, so that two CI jobs with two identities under one uid and
// cache do not share an entry. Not its claims: kubemint cannot verify
// them (the cluster does, when minting), so a forged unsigned JWT with
// another job's issuer, subject and audience would be served that job's
// cached token, and every opaque token would share one entry. A token
// that changes (a new job's) is a new entry; the old one expires.
func tokenIdentity(token string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return hex.EncodeToString(sum[:])
}
