package credential

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// keyFields is everything that changes the token a TokenRequest returns, in
// a fixed order. Its JSON is the canonical encoding that the cache key
// hashes, so the same request always finds the same entry and two clusters
// or two accounts never share one.
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
	b, err := json.Marshal(keyFields{
		V:         1,
		Server:    cluster.Server,
		CA:        caSum,
		Namespace: ns,
		Name:      name,
		Audiences: auds,
		Seconds:   int64(o.Duration.Seconds()),
		BoundKind: o.BoundObjectKind,
		BoundName: o.BoundObjectName,
		BoundUID:  o.BoundObjectUID,
	})
	if err != nil {
		panic("credential: encoding cache key: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
