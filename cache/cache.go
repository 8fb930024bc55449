// Package cache keeps minted credentials between kubemint runs.
//
// It owns where a credential lives (the OS keyring through go-keyring; on
// Linux the kernel keyring, through keyctl, checked to be the user's own
// private keys; or a private file under the XDG cache directory, opened
// without following links and checked to be the user's alone), how an
// entry is encoded, when
// it is fresh, the Info index that status and clean read, the record of
// what was served, and the cross-process lock that lets one process mint
// while the others wait for it or, holding a valid token, do not (TryLock).
// Files are replaced atomically, without fsync (package atomicfile says
// why). It knows nothing of Kubernetes: an entry is a token with its issue
// and expiry times, stored under an opaque key.
//
// This package is linked into the lean kubemint front binary, which answers
// cache hits on every kubectl call, so it must stay cheap to initialise: it
// imports no Kubernetes package and does no work at init.
package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Service is the keyring service name under which every entry is stored.
const Service = "kubemint"

// entryVersion is written into every entry so that a future format can tell
// old entries apart instead of misreading them.
const entryVersion = 2

// Entry is one cached credential.
type Entry struct {
	Token  string
	Issued time.Time
	Expiry time.Time
	// ChainStart is when the source last minted: tokens that renew
	// themselves carry it from one to the next. Zero means Issued.
	ChainStart time.Time
}

// wireEntry is the stored form of an Entry: compact, because Windows
// Credential Manager and the macOS security tool limit an item's size.
type wireEntry struct {
	V int `json:"v"`
	// K is the start of the key the entry was stored under, so that an
	// entry copied or renamed under another key is not served for it.
	K      string `json:"k"`
	Token  string `json:"t"`
	Issued int64  `json:"i"`
	Expiry int64  `json:"e"`
	Chain  int64  `json:"c,omitempty"`
}

// keyTag is the part of a key an entry carries: enough to tell keys apart,
// short enough to keep entries compact.
func keyTag(key string) string {
	if len(key) > 16 {
		return key[:16]
	}
	return key
}

// Encode returns the stored form of e under key.
func (e Entry) Encode(key string) []byte {
	w := wireEntry{V: entryVersion, K: keyTag(key), Token: e.Token, Issued: e.Issued.Unix(), Expiry: e.Expiry.Unix()}
	if !e.ChainStart.IsZero() && !e.ChainStart.Equal(e.Issued) {
		w.Chain = e.ChainStart.Unix()
	}
	return w.appendJSON(nil)
}

// appendJSON appends what json.Marshal(w) returns (TestWireEntryJSON holds
// the two equal), field by field: encoding/json's first use of a struct
// type reflects over its fields, a cost every cache hit would pay.
func (w wireEntry) appendJSON(b []byte) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(w.V), 10)
	b = append(b, `,"k":`...)
	b = appendJSONString(b, w.K)
	b = append(b, `,"t":`...)
	b = appendJSONString(b, w.Token)
	b = append(b, `,"i":`...)
	b = strconv.AppendInt(b, w.Issued, 10)
	b = append(b, `,"e":`...)
	b = strconv.AppendInt(b, w.Expiry, 10)
	if w.Chain != 0 {
		b = append(b, `,"c":`...)
		b = strconv.AppendInt(b, w.Chain, 10)
	}
	return append(b, '}')
}

// appendJSONString appends s as encoding/json encodes a string.
func appendJSONString(b []byte, s string) []byte {
	enc, err := json.Marshal(s)
	if err != nil {
		// A string always marshals.
		panic("cache: encoding entry: " + err.Error())
	}
	return append(b, enc...)
}

// decodeWire decodes a stored entry as json.Unmarshal into a wireEntry
// does. An entry as Encode writes it is decoded into a map and checked to
// be exactly what Encode would write for the values read, so that the
// struct's reflection is paid only for an entry written otherwise (by
// hand, or by a future version).
func decodeWire(b []byte) (wireEntry, error) {
	if w, ok := decodeCanonical(b); ok {
		return w, nil
	}
	var w wireEntry
	err := json.Unmarshal(b, &w)
	return w, err
}

// decodeCanonical decodes b into a map, and reports whether b is exactly
// what appendJSON writes for the values read: then json.Unmarshal would
// read the same values.
func decodeCanonical(b []byte) (wireEntry, bool) {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return wireEntry{}, false
	}
	v, _ := m["v"].(float64)
	k, _ := m["k"].(string)
	t, _ := m["t"].(string)
	i, _ := m["i"].(float64)
	e, _ := m["e"].(float64)
	c, _ := m["c"].(float64)
	w := wireEntry{V: int(v), K: k, Token: t, Issued: int64(i), Expiry: int64(e), Chain: int64(c)}
	return w, bytes.Equal(w.appendJSON(make([]byte, 0, len(b))), b)
}

// ErrCorrupt reports an entry that exists but cannot be decoded. Callers
// treat it as a miss: the entry is re-minted and overwritten.
var ErrCorrupt = errors.New("cache entry is unreadable")

// Decode parses the stored form of the entry under key. An entry stored
// under another key is refused. The error never quotes the input, which
// holds a token.
func Decode(key string, b []byte) (Entry, error) {
	w, err := decodeWire(b)
	if err != nil {
		return Entry{}, ErrCorrupt
	}
	if w.V != entryVersion {
		return Entry{}, fmt.Errorf("%w: format version %d, want %d", ErrCorrupt, w.V, entryVersion)
	}
	if w.K != keyTag(key) {
		return Entry{}, fmt.Errorf("%w: it was stored for another credential", ErrCorrupt)
	}
	if w.Token == "" || w.Expiry <= w.Issued {
		return Entry{}, ErrCorrupt
	}
	e := Entry{Token: w.Token, Issued: time.Unix(w.Issued, 0), Expiry: time.Unix(w.Expiry, 0), ChainStart: time.Unix(w.Chain, 0)}
	if w.Chain == 0 {
		e.ChainStart = e.Issued
	}
	return e, nil
}

// RefreshAt is the moment from which e should be replaced by a new token:
// margin before its expiry, or, when margin is zero, a fifth of the token's
// lifetime before it. A margin as long as the lifetime (the server granted
// a shorter token than asked for) falls back to the fifth, so that a token
// is never due for a re-mint the moment it is minted.
func (e Entry) RefreshAt(margin time.Duration) time.Time {
	lifetime := e.Expiry.Sub(e.Issued)
	if margin <= 0 || margin >= lifetime {
		margin = lifetime / 5
	}
	return e.Expiry.Add(-margin)
}

// Fresh reports whether e can be served at now without re-minting. An
// entry issued after now was issued before this machine's clock went back:
// how much of its life is left cannot be told, so it is due.
func (e Entry) Fresh(now time.Time, margin time.Duration) bool {
	return !e.FromTheFuture(now) && now.Before(e.RefreshAt(margin))
}

// Valid reports whether e's token has not expired yet at now. An entry
// issued after now (the clock went back) may have expired already: it is
// not counted valid.
func (e Entry) Valid(now time.Time) bool {
	return !e.FromTheFuture(now) && now.Before(e.Expiry)
}

// FromTheFuture reports whether e was issued after now: it was minted
// (Issued is this machine's clock at the request) before the clock went
// back.
func (e Entry) FromTheFuture(now time.Time) bool {
	return now.Before(e.Issued)
}
